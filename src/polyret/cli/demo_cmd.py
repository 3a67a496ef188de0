"""``polyret demo``: the whole chain on the embedded collection."""

from __future__ import annotations

import typer

from polyret.cli.app import app, console
from polyret.demo import DEMO_METRICS, run_demo, systems_table


@app.command()
def demo(
    dataset: str = typer.Option("xquad-r", help="Catalogue name or BEIR folder."),
    split: str = typer.Option("test", help="Split whose queries are evaluated."),
) -> None:
    """Index, search and evaluate the embedded collection; print a per-language table."""
    result = run_demo(dataset, split)
    title = f"{result.dataset} ({result.split} split)"
    console.print(systems_table(result.reports, DEMO_METRICS, title=title))
    timing = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.seconds.items())
    console.print(f"[dim]{timing}[/dim]")
