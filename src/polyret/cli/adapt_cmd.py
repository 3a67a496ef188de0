"""``polyret adapt``: adapt an encoder to a collection without labels, checked on dev."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from polyret.adapt import AdaptConfig, AdaptMining, AdaptTraining, DevCheck
from polyret.cli.app import OverwriteOption, app, console, refuse_existing
from polyret.cli.options import config_options


@app.command("adapt")
@config_options(AdaptConfig, param="settings", panel="Recipe", file="recipe")
@config_options(
    AdaptTraining, param="train", prefix="train-", panel="Training",
    exclude=("show_progress", "seed"), show_default=False,
)  # fmt: skip
@config_options(
    AdaptMining, param="mining", prefix="mining-", panel="Mining", exclude=("seed",),
    show_default=False,
)  # fmt: skip
@config_options(DevCheck, param="check", prefix="check-", panel="Dev check", show_default=False)
def adapt_command(
    source: Annotated[str, typer.Argument(help="A collection: a catalogue name or a BEIR folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Encoder folder to write.")],
    recipe: Path = typer.Option(
        None,
        "--recipe",
        help="JSON file of AdaptConfig fields (generate, filters, mining, train, check); the "
        "options given here override it.",
    ),
    no_check: bool = typer.Option(False, "--no-check", help="Keep the adapted encoder unchecked."),
    overwrite: OverwriteOption = False,
    *,
    settings: AdaptConfig,
    train: AdaptTraining,
    mining: AdaptMining,
    check: DevCheck,
) -> None:
    """Generate label-free pairs, mine negatives, fine-tune, and keep the result only if it
    beats the base encoder on the dev split (defaults: ``polyret.adapt.AdaptConfig``)."""
    from polyret.adapt import adapt
    from polyret.datasets import load

    refuse_existing(out, overwrite)
    parts = {"train": train, "mining": mining} | ({} if no_check else {"check": check})
    config = AdaptConfig.model_validate(
        {
            **settings.model_dump(),
            **{name: _given(getattr(settings, name), part) for name, part in parts.items()},
            **({"check": None} if no_check else {}),
        }
    )
    result = adapt(load(source), out, config, overwrite=overwrite)
    if result.check is not None:
        c = result.check
        console.print(
            f"dev {c.metric}: base {c.base:.4f}, adapted {c.adapted:.4f} "
            f"(p {c.p_value:.3g}, {c.queries} questions)"
        )
    verdict = "adapted encoder" if result.adopted else "base encoder kept (adapted was not better)"
    console.print(f"{verdict} → {out}")


def _given(current: BaseModel | None, options: BaseModel) -> dict[str, object]:
    """``current``'s fields (the recipe's, else the defaults) with the options given."""
    base = current.model_dump() if current is not None else {}
    return {**base, **options.model_dump(include=options.model_fields_set)}
