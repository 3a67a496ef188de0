"""``polyret demo``: the whole chain on the embedded collection."""

from __future__ import annotations

import typer

from polyret.cli.app import app, console
from polyret.demo import DEMO_METRICS, run_demo, systems_table


@app.command()
def demo(
    dataset: str = typer.Option("xquad-r", help="Catalogue name or BEIR folder."),
    split: str = typer.Option("test", help="Split whose queries are evaluated."),
    encoder: str = typer.Option("multilingual-e5-small", help="Encoder for dense retrieval."),
) -> None:
    """BM25, dense and hybrid retrieval on the embedded collection; a per-language table."""
    result = run_demo(dataset, split, encoder=encoder)
    title = f"{result.dataset} ({result.split} split)"
    console.print(systems_table(result.reports, DEMO_METRICS, title=title))
    timing = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.seconds.items())
    console.print(f"[dim]{timing}[/dim]")
    weights = ", ".join(f"{w:g}" for w in result.hybrid_weights)
    console.print(
        f"[dim]hybrid = interpolation of min-max scores, weights (bm25, dense) = "
        f"({weights}) tuned on the dev split[/dim]"
    )
