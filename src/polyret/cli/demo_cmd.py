"""``polyret demo``: ``polyret run`` on the packaged demo config."""

from __future__ import annotations

from pathlib import Path

import typer

from polyret.cli.app import app


@app.command()
def demo(
    run_dir: Path = typer.Option(
        None, "--run-dir", help="Run directory (default: $POLYRET_CACHE/runs/<config>)."
    ),
    config: str = typer.Option(
        "demo",
        "--config",
        help="A packaged config: demo (short adaptation) or adapt (the full recipe).",
    ),
    force: list[str] = typer.Option(
        None, "--force", help="Recompute this stage (and what depends on it); repeatable."
    ),
) -> None:
    """The embedded collection through every stage: BM25, dense, hybrid, the encoder adapted
    without labels, the hybrid over it and its reranking, evaluated per language (finished
    stages are reused)."""
    from polyret.cli.run_cmd import print_stage, print_summary, quiet_chunk_logs
    from polyret.demo import run_demo

    quiet_chunk_logs()
    result = run_demo(run_dir, config=config, force=force or (), on_stage=print_stage)
    print_summary(result)
