"""``polyret train bi-encoder|cross-encoder|distill`` and ``polyret merge``.

Thin wrappers over :mod:`polyret.train`; each command's training options are the fields of
its config (:mod:`polyret.train.config`, no torch), so ``polyret.train`` (torch,
sentence-transformers) is imported only when a command runs and ``polyret --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel

from polyret.cli.app import app, console
from polyret.cli.options import build_config as config_from
from polyret.cli.options import config_options
from polyret.errors import InvalidInputError
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.train.config import BiEncoderConfig, CrossEncoderConfig, DistillConfig

F = TypeVar("F", bound=Callable[..., Any])

train_app = typer.Typer(
    help="Train bi-encoders and cross-encoders from a training set.", no_args_is_help=True
)
app.add_typer(train_app, name="train")

DATA = typer.Option(
    ..., "--data", help="Training-set folder (polyret generate/mine), .parquet or .jsonl."
)
BASE = typer.Option(DEFAULT_MODEL, "--base", help="Packaged model name, model folder or hub id.")
OUT = typer.Option(..., "--out", "-o", help="Folder of the trained model.")
DEV = typer.Option(None, "--dev", help="Collection name or BEIR folder evaluated during training.")
DEV_SPLIT = typer.Option("dev", "--dev-split", help="Split of --dev to evaluate.")
CONFIG = typer.Option(None, "--config", help="JSON file of config fields (options override it).")
RESUME = typer.Option(False, "--resume", help="Continue from the last checkpoint in --out.")
OVERWRITE = typer.Option(False, "--overwrite", help="Replace an existing --out.")

FLAGS = {
    "max_steps": "--steps",
    "learning_rate": "--lr",
    "num_negatives": "--negatives",
    "early_stopping_patience": "--patience",
    "freeze_word_embeddings": "--freeze-embeddings/--train-embeddings",
    "same_language_batches": "--same-language-batches/--mix-languages",
    "matryoshka_dims": "--matryoshka",
    "symmetric": "--symmetric/--one-way",
}
"""Config fields whose flags are spelled shorter than the field (the flags of the docs)."""


def trainer_options(config: type[BaseModel]) -> Callable[[F], F]:
    """Every field of a trainer's config as an option (``--config`` JSON file beneath)."""
    return config_options(
        config,
        param="settings",
        exclude=("show_progress",),
        panel="Training",
        names=FLAGS,
        file="config",
    )


def build_config(cls: type[BaseModel], file: Path | None, **options: Any) -> Any:
    """A config object: the JSON ``file`` (if any) updated by the options given (not None)."""
    return config_from(cls, options, file)


def _run(
    train: Callable[..., Path], config: BaseModel, data: Path, dev: str | None, **options: Any
) -> Path:
    """Load the training set (and dev collection) and train with progress bars."""
    from polyret.types import TrainingSet

    dev_data = None
    if dev is not None:
        from polyret.datasets import load

        dev_data = load(dev)
    settings = config.model_copy(update={"show_progress": True})
    return train(TrainingSet.load(data), config=settings, dev=dev_data, **options)


@train_app.command("bi-encoder")
@trainer_options(BiEncoderConfig)
def bi_encoder_command(
    data: Path = DATA,
    base: str = BASE,
    out: Path = OUT,
    dev: str = DEV,
    dev_split: str = DEV_SPLIT,
    config: Path = CONFIG,
    resume: bool = RESUME,
    overwrite: bool = OVERWRITE,
    *,
    settings: BiEncoderConfig,
) -> None:
    """Fine-tune a bi-encoder (InfoNCE, in-batch + hard negatives)."""
    from polyret.train import train_bi_encoder

    options = {"base": base, "out": out, "dev_split": dev_split, "resume": resume}
    folder = _run(train_bi_encoder, settings, data, dev, overwrite=overwrite, **options)
    console.print(f"trained bi-encoder → {folder}")


@train_app.command("cross-encoder")
@trainer_options(CrossEncoderConfig)
def cross_encoder_command(
    data: Path = DATA,
    base: str = BASE,
    out: Path = OUT,
    dev: str = DEV,
    dev_split: str = DEV_SPLIT,
    config: Path = CONFIG,
    resume: bool = RESUME,
    overwrite: bool = OVERWRITE,
    *,
    settings: CrossEncoderConfig,
) -> None:
    """Train a cross-encoder (fresh head on an encoder) from rows with mined negatives."""
    from polyret.train import train_cross_encoder

    options = {"base": base, "out": out, "dev_split": dev_split, "resume": resume}
    folder = _run(train_cross_encoder, settings, data, dev, overwrite=overwrite, **options)
    console.print(f"trained cross-encoder → {folder}")


@train_app.command("distill")
@trainer_options(DistillConfig)
def distill_command(
    data: Path = DATA,
    base: str = BASE,
    out: Path = OUT,
    teacher: str = typer.Option(
        None, "--teacher", help="Cross-encoder folder scoring the rows (else use their scores)."
    ),
    dev: str = DEV,
    dev_split: str = DEV_SPLIT,
    config: Path = CONFIG,
    resume: bool = RESUME,
    overwrite: bool = OVERWRITE,
    *,
    settings: DistillConfig,
) -> None:
    """Distill a cross-encoder's scores into a bi-encoder (margin-MSE or KL)."""
    from polyret.train import distill_bi_encoder

    options = {"base": base, "out": out, "dev_split": dev_split, "teacher": teacher}
    folder = _run(
        distill_bi_encoder, settings, data, dev, resume=resume, overwrite=overwrite, **options
    )
    console.print(f"distilled bi-encoder → {folder}")


@app.command("merge")
def merge_command(
    models: list[Path] = typer.Argument(..., help="Model folders with the same architecture."),
    out: Path = OUT,
    weights: str = typer.Option(None, "--weights", help="Comma-separated, e.g. 0.7,0.3."),
    method: str = typer.Option("average", "--method", help="average or slerp."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Merge checkpoints: weighted average (model soup) or SLERP."""
    from polyret.train import merge_checkpoints

    values = None if weights is None else [float(w) for w in weights.split(",")]
    if method not in ("average", "slerp"):
        raise InvalidInputError(f"unknown --method {method!r}: average or slerp", field="method")
    folder = merge_checkpoints(models, out, values, method, overwrite=overwrite)  # type: ignore[arg-type]
    console.print(f"merged {len(models)} models ({method}) → {folder}")
