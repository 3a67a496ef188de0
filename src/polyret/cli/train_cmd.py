"""``polyret train bi-encoder|cross-encoder|heads|m3|distill`` and ``polyret merge``.

Thin wrappers over :mod:`polyret.train`; each command's training options are the fields of
its config (:mod:`polyret.train.config`, no torch), so ``polyret.train`` (torch,
sentence-transformers) is imported only when a command runs and ``polyret --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel

from polyret.cli.app import OverwriteOption, app, console
from polyret.cli.options import build_config as config_from
from polyret.cli.options import config_options, option_group
from polyret.errors import InvalidInputError
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.train.config import (
    BiEncoderConfig,
    CrossEncoderConfig,
    DistillConfig,
    HeadsConfig,
    M3Config,
)

F = TypeVar("F", bound=Callable[..., Any])

train_app = typer.Typer(
    help="Train bi-encoders and cross-encoders from a training set.", no_args_is_help=True
)
app.add_typer(train_app, name="train")

OutOption = Annotated[Path, typer.Option("--out", "-o", help="Folder of the trained model.")]


@dataclass(frozen=True, kw_only=True)
class TrainRun:
    """The options every ``polyret train`` command shares: the rows, the base model, the
    output folder and the dev collection (the trainer's settings are its config)."""

    data: Annotated[
        Path,
        typer.Option(
            "--data", help="Training-set folder (polyret generate/mine), .parquet or .jsonl."
        ),
    ]
    base: Annotated[
        str, typer.Option("--base", help="Packaged model name, model folder or hub id.")
    ] = DEFAULT_MODEL
    out: OutOption
    dev: Annotated[
        str | None,
        typer.Option("--dev", help="Collection name or BEIR folder evaluated during training."),
    ] = None
    dev_split: Annotated[str, typer.Option("--dev-split", help="Split of --dev to evaluate.")] = (
        "dev"
    )
    config: Annotated[
        Path | None,
        typer.Option("--config", help="JSON file of config fields (options override it)."),
    ] = None
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint in --out.")
    ] = False
    overwrite: OverwriteOption = False

    def train(self, trainer: Callable[..., Path], settings: BaseModel, **options: Any) -> Path:
        """Load the training set (and dev collection) and run ``trainer`` with progress bars."""
        from polyret.types import TrainingSet

        dev = None
        if self.dev is not None:
            from polyret.datasets import load

            dev = load(self.dev)
        return trainer(
            TrainingSet.load(self.data),
            self.base,
            self.out,
            settings.model_copy(update={"show_progress": True}),
            dev=dev,
            dev_split=self.dev_split,
            resume=self.resume,
            overwrite=self.overwrite,
            **options,
        )


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


@train_app.command("bi-encoder")
@trainer_options(BiEncoderConfig)
@option_group(TrainRun, param="run")
def bi_encoder_command(*, run: TrainRun, settings: BiEncoderConfig) -> None:
    """Fine-tune a bi-encoder (InfoNCE, in-batch + hard negatives)."""
    from polyret.train import train_bi_encoder

    console.print(f"trained bi-encoder → {run.train(train_bi_encoder, settings)}")


@train_app.command("cross-encoder")
@trainer_options(CrossEncoderConfig)
@option_group(TrainRun, param="run")
def cross_encoder_command(*, run: TrainRun, settings: CrossEncoderConfig) -> None:
    """Train a cross-encoder (fresh head on an encoder) from rows with mined negatives."""
    from polyret.train import train_cross_encoder

    console.print(f"trained cross-encoder → {run.train(train_cross_encoder, settings)}")


@train_app.command("heads")
@trainer_options(HeadsConfig)
@option_group(TrainRun, param="run")
def heads_command(*, run: TrainRun, settings: HeadsConfig) -> None:
    """Train BGE-M3's heads over the frozen encoder (default: the late-interaction head,
    colbert_linear; --heads colbert,sparse for both)."""
    _train_heads(run, settings)


@train_app.command("m3")
@trainer_options(M3Config)
@option_group(TrainRun, param="run")
def m3_command(*, run: TrainRun, settings: M3Config) -> None:
    """M3 self-knowledge distillation: the colbert and sparse heads over the frozen encoder,
    taught by the combined dense + sparse + MaxSim score."""
    _train_heads(run, settings)


def _train_heads(run: TrainRun, settings: HeadsConfig) -> None:
    from polyret.train import train_heads

    folder = run.train(train_heads, settings)
    console.print(f"trained heads ({', '.join(settings.heads)}) → {folder}")


@train_app.command("distill")
@trainer_options(DistillConfig)
@option_group(TrainRun, param="run")
def distill_command(
    *,
    run: TrainRun,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher", help="Cross-encoder folder scoring the rows (else use their scores)."
        ),
    ] = None,
    settings: DistillConfig,
) -> None:
    """Distill a cross-encoder's scores into a bi-encoder (margin-MSE or KL)."""
    from polyret.train import distill_bi_encoder

    folder = run.train(distill_bi_encoder, settings, teacher=teacher)
    console.print(f"distilled bi-encoder → {folder}")


@app.command("merge")
def merge_command(
    models: Annotated[list[Path], typer.Argument(help="Model folders with the same architecture.")],
    out: OutOption,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Comma-separated, e.g. 0.7,0.3.")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="average or slerp.")] = "average",
    overwrite: OverwriteOption = False,
) -> None:
    """Merge checkpoints: weighted average (model soup) or SLERP."""
    from polyret.train import merge_checkpoints

    values = None if weights is None else [float(w) for w in weights.split(",")]
    if method not in ("average", "slerp"):
        raise InvalidInputError(f"unknown --method {method!r}: average or slerp", field="method")
    folder = merge_checkpoints(models, out, values, method, overwrite=overwrite)  # type: ignore[arg-type]
    console.print(f"merged {len(models)} models ({method}) → {folder}")
