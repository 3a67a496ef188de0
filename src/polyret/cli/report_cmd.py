"""``polyret report``: a thin wrapper over :func:`polyret.report.write_report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from polyret.cli.app import app, console


@app.command("report")
def report_command(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A pipeline run directory (with manifest.json).", exists=True, file_okay=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write report.html and report.md here (default: RUN_DIR)."
        ),
    ] = None,
) -> None:
    """Write RUN_DIR/report.html (one self-contained page) and report.md."""
    from polyret.report import write_report

    html, markdown = write_report(run_dir, out)
    console.print(f"wrote {html}", highlight=False)
    console.print(f"wrote {markdown}", highlight=False)
