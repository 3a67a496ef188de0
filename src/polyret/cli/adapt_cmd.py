"""``polyret adapt``: adapt an encoder to a collection without labels, checked on dev."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from polyret.adapt import AdaptConfig
from polyret.cli.app import OverwriteOption, app, console, refuse_existing
from polyret.cli.options import config_options


@app.command("adapt")
@config_options(AdaptConfig, param="settings", panel="Recipe", file="recipe")
def adapt_command(
    source: Annotated[str, typer.Argument(help="A collection: a catalogue name or a BEIR folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Encoder folder to write.")],
    retriever: str = typer.Option(
        None,
        help="Mine negatives with: bm25, dense, hybrid or an index folder (default: the "
        "recipe's mining.retriever).",
    ),
    recipe: Path = typer.Option(
        None,
        "--recipe",
        help="JSON file of AdaptConfig fields (generate, filters, mining, train, check), "
        "beneath the options given here.",
    ),
    overwrite: OverwriteOption = False,
    *,
    settings: AdaptConfig,
) -> None:
    """Generate label-free pairs, mine negatives, fine-tune, and keep the result only if it
    beats the base encoder on the dev split."""
    from polyret.adapt import adapt
    from polyret.datasets import load

    refuse_existing(out, overwrite)
    result = adapt(load(source), out, settings, retriever=retriever, overwrite=overwrite)
    if result.check is not None:
        check = result.check
        console.print(
            f"dev {check.metric}: base {check.base:.4f}, adapted {check.adapted:.4f} "
            f"(p {check.p_value:.3g}, {check.queries} questions)"
        )
    verdict = "adapted encoder" if result.adopted else "base encoder kept (adapted was not better)"
    console.print(f"{verdict} → {out}")
