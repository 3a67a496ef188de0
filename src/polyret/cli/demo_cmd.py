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
    """BM25, dense, hybrid and reranked retrieval on the embedded collection, per language."""
    result = run_demo(dataset, split, encoder=encoder)
    for metric in DEMO_METRICS:
        title = f"{result.dataset}, {result.split} split: {metric}"
        console.print(systems_table(result.reports, metric, title=title))
    timing = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.seconds.items())
    console.print(f"[dim]{timing}[/dim]")
    hybrid = ", ".join(f"{w:g}" for w in result.hybrid_weights)
    rerank = ", ".join(f"{w:g}" for w in result.rerank_weights)
    console.print(
        f"[dim]hybrid = min-max score interpolation, weights (bm25, dense) = ({hybrid}); "
        f"reranked = ensemble of hybrid and full-text bi-encoder scores, weights ({rerank}); "
        "both learned on the dev split[/dim]"
    )
