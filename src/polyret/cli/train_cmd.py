"""``polyret train bi-encoder|cross-encoder|distill`` and ``polyret merge``.

Thin wrappers over :mod:`polyret.train`; ``polyret.train`` (torch, sentence-transformers) is
imported only when a command runs, so ``polyret --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from polyret.cli.app import app, console
from polyret.errors import InvalidInputError

train_app = typer.Typer(
    help="Train bi-encoders and cross-encoders from a training set.", no_args_is_help=True
)
app.add_typer(train_app, name="train")

DATA = typer.Option(
    ..., "--data", help="Training-set folder (polyret generate/mine), .parquet or .jsonl."
)
BASE = typer.Option(
    "multilingual-e5-small", "--base", help="Packaged model name, model folder or hub id."
)
OUT = typer.Option(..., "--out", "-o", help="Folder of the trained model.")
DEV = typer.Option(None, "--dev", help="Collection name or BEIR folder evaluated during training.")
DEV_SPLIT = typer.Option("dev", "--dev-split", help="Split of --dev to evaluate.")
CONFIG = typer.Option(None, "--config", help="JSON file of config fields (options override it).")
STEPS = typer.Option(None, "--steps", help="Optimizer steps (overrides --epochs).")
EPOCHS = typer.Option(None, "--epochs", help="Passes over the training set.")
BATCH = typer.Option(None, "--batch-size", help="Rows per step.")
LR = typer.Option(None, "--lr", help="Peak learning rate.")
NEGATIVES = typer.Option(None, "--negatives", help="Hard negatives per row (0: none).")
SAVE_STEPS = typer.Option(None, "--save-steps", help="Checkpoint every N steps.")
EVAL_STEPS = typer.Option(None, "--eval-steps", help="Dev evaluation every N steps.")
PATIENCE = typer.Option(None, "--patience", help="Early stopping after N evaluations.")
SEED = typer.Option(None, "--seed", help="Random seed.")
UNFREEZE = typer.Option(False, "--train-embeddings", help="Also train the word embeddings.")
RESUME = typer.Option(False, "--resume", help="Continue from the last checkpoint in --out.")
OVERWRITE = typer.Option(False, "--overwrite", help="Replace an existing --out.")


def build_config(cls: Any, file: Path | None, **options: Any) -> Any:
    """A config object: the JSON ``file`` (if any) updated by the options given (not None)."""
    fields: dict[str, Any] = {}
    if file is not None:
        try:
            fields = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InvalidInputError(f"cannot read the config: {error}", path=file) from None
    fields.update({k: v for k, v in options.items() if v is not None})
    from pydantic import ValidationError

    try:
        return cls.model_validate(fields)
    except ValidationError as error:
        raise InvalidInputError(f"bad config: {error}", path=file) from None


def _inputs(data: Path, dev: str | None) -> tuple[Any, Any]:
    from polyret.types import TrainingSet

    training_set = TrainingSet.load(data)
    if dev is None:
        return training_set, None
    from polyret.datasets import load

    return training_set, load(dev)


def _common(**options: Any) -> dict[str, Any]:
    renamed = {
        "max_steps": options.pop("steps"),
        "num_negatives": options.pop("negatives"),
        "early_stopping_patience": options.pop("patience"),
        "learning_rate": options.pop("lr"),
        "freeze_word_embeddings": False if options.pop("train_embeddings") else None,
    }
    return {**options, **renamed, "show_progress": True}


@train_app.command("bi-encoder")
def bi_encoder_command(
    data: Path = DATA,
    base: str = BASE,
    out: Path = OUT,
    dev: str = DEV,
    dev_split: str = DEV_SPLIT,
    config: Path = CONFIG,
    steps: int = STEPS,
    epochs: float = EPOCHS,
    batch_size: int = BATCH,
    lr: float = LR,
    negatives: int = NEGATIVES,
    loss: str = typer.Option(None, "--loss", help="infonce or cached-infonce (GradCache)."),
    temperature: float = typer.Option(None, "--temperature", help="InfoNCE τ (scale 1/τ)."),
    symmetric: bool = typer.Option(None, "--symmetric/--one-way", help="Symmetric InfoNCE."),
    matryoshka: str = typer.Option(None, "--matryoshka", help="Dims, e.g. 384,256,128,64."),
    mix_languages: bool = typer.Option(False, "--mix-languages", help="Mixed-language batches."),
    group_by: str = typer.Option(None, "--group-by", help="Regex: topic of a positive id."),
    save_steps: int = SAVE_STEPS,
    eval_steps: int = EVAL_STEPS,
    patience: int = PATIENCE,
    seed: int = SEED,
    train_embeddings: bool = UNFREEZE,
    resume: bool = RESUME,
    overwrite: bool = OVERWRITE,
) -> None:
    """Fine-tune a bi-encoder (InfoNCE, in-batch + hard negatives)."""
    from polyret.train import BiEncoderConfig, train_bi_encoder

    dims = None if matryoshka is None else tuple(int(d) for d in matryoshka.split(","))
    settings = build_config(
        BiEncoderConfig,
        config,
        **_common(
            steps=steps,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            negatives=negatives,
            save_steps=save_steps,
            eval_steps=eval_steps,
            patience=patience,
            seed=seed,
            train_embeddings=train_embeddings,
        ),
        loss=loss,
        temperature=temperature,
        symmetric=symmetric,
        matryoshka_dims=dims,
        same_language_batches=False if mix_languages else None,
        group_by=group_by,
    )
    training_set, dev_data = _inputs(data, dev)
    folder = train_bi_encoder(
        training_set,
        base,
        out,
        settings,
        dev=dev_data,
        dev_split=dev_split,
        resume=resume,
        overwrite=overwrite,
    )
    console.print(f"trained bi-encoder → {folder}")


@train_app.command("cross-encoder")
def cross_encoder_command(
    data: Path = DATA,
    base: str = BASE,
    out: Path = OUT,
    dev: str = DEV,
    dev_split: str = DEV_SPLIT,
    config: Path = CONFIG,
    steps: int = STEPS,
    epochs: float = EPOCHS,
    batch_size: int = BATCH,
    lr: float = LR,
    negatives: int = NEGATIVES,
    loss: str = typer.Option(None, "--loss", help="listwise or bce."),
    positive_label: float = typer.Option(None, "--positive-label", help="BCE soft label."),
    save_steps: int = SAVE_STEPS,
    eval_steps: int = EVAL_STEPS,
    patience: int = PATIENCE,
    seed: int = SEED,
    train_embeddings: bool = UNFREEZE,
    resume: bool = RESUME,
    overwrite: bool = OVERWRITE,
) -> None:
    """Train a cross-encoder (fresh head on an encoder) from rows with mined negatives."""
    from polyret.train import CrossEncoderConfig, train_cross_encoder

    settings = build_config(
        CrossEncoderConfig,
        config,
        **_common(
            steps=steps,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            negatives=negatives,
            save_steps=save_steps,
            eval_steps=eval_steps,
            patience=patience,
            seed=seed,
            train_embeddings=train_embeddings,
        ),
        loss=loss,
        positive_label=positive_label,
    )
    training_set, dev_data = _inputs(data, dev)
    folder = train_cross_encoder(
        training_set,
        base,
        out,
        settings,
        dev=dev_data,
        dev_split=dev_split,
        resume=resume,
        overwrite=overwrite,
    )
    console.print(f"trained cross-encoder → {folder}")


@train_app.command("distill")
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
    steps: int = STEPS,
    epochs: float = EPOCHS,
    batch_size: int = BATCH,
    lr: float = LR,
    negatives: int = NEGATIVES,
    loss: str = typer.Option(None, "--loss", help="margin-mse or kl."),
    save_steps: int = SAVE_STEPS,
    eval_steps: int = EVAL_STEPS,
    patience: int = PATIENCE,
    seed: int = SEED,
    train_embeddings: bool = UNFREEZE,
    resume: bool = RESUME,
    overwrite: bool = OVERWRITE,
) -> None:
    """Distill a cross-encoder's scores into a bi-encoder (margin-MSE or KL)."""
    from polyret.train import DistillConfig, distill_bi_encoder

    settings = build_config(
        DistillConfig,
        config,
        **_common(
            steps=steps,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            negatives=negatives,
            save_steps=save_steps,
            eval_steps=eval_steps,
            patience=patience,
            seed=seed,
            train_embeddings=train_embeddings,
        ),
        loss=loss,
    )
    training_set, dev_data = _inputs(data, dev)
    folder = distill_bi_encoder(
        training_set,
        base,
        out,
        settings,
        teacher=teacher,
        dev=dev_data,
        dev_split=dev_split,
        resume=resume,
        overwrite=overwrite,
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
