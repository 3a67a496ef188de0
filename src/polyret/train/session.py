"""The run around every sentence-transformers trainer, written once.

:func:`~polyret.train.train_bi_encoder`, :func:`~polyret.train.distill_bi_encoder` and
:func:`~polyret.train.train_cross_encoder` differ only in the model class, the training
table, the loss and the dev evaluator. What they share is here: the output folder (resume or
refuse), threads, seed and device, the training-time length cut and frozen word embeddings,
the trainer's loop and the saved model with its provenance.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from polyret.io.artifact import ModelKind
from polyret.optional import require
from polyret.train import common
from polyret.train.config import BiEncoderConfig, CrossEncoderConfig, DistillConfig
from polyret.types import Dataset, TrainingSet

log = logging.getLogger(__name__)

StageConfig = BiEncoderConfig | CrossEncoderConfig | DistillConfig


def require_training_extras() -> None:
    """Raise :class:`~polyret.errors.MissingExtraError` unless the ``train`` extra is installed."""
    for module in ("sentence_transformers", "datasets", "accelerate"):
        require(module, "train", "training")


@dataclass(frozen=True)
class RunOptions:
    """The keyword options every ``train_*`` function takes (documented there)."""

    dev: Dataset | None = None
    dev_split: str = "dev"
    resume: bool = False
    overwrite: bool = False
    callbacks: Sequence[Any] = ()


@dataclass
class TrainingRun:
    """One training run, from its output folder to the saved model (see :meth:`start`)."""

    kind: ModelKind
    training_set: TrainingSet
    config: StageConfig
    options: RunOptions
    out: Path
    base: str
    checkpoints: Path
    last: str | None
    device: str
    frozen: list[str] = field(default_factory=list)
    saved_max_length: int | None = None

    @classmethod
    def start(
        cls,
        kind: ModelKind,
        training_set: TrainingSet,
        base: str | os.PathLike[str],
        out: str | os.PathLike[str],
        config: StageConfig,
        options: RunOptions,
    ) -> TrainingRun:
        """Prepare ``out`` (resume from its checkpoints or refuse), set threads and seed."""
        from transformers import set_seed

        out = Path(out)
        base_ref = common.resolve_base(base)
        checkpoints, last = common.prepare_output(
            out,
            common.run_identity(kind, training_set, base_ref, config),
            resume=options.resume,
            overwrite=options.overwrite,
        )
        common.set_threads(config)
        set_seed(config.seed)  # before the model: a fresh head's initialization depends on it
        device = common.resolve_device(config)
        return cls(kind, training_set, config, options, out, base_ref, checkpoints, last, device)

    @property
    def has_dev(self) -> bool:
        return self.options.dev is not None

    def adopt(self, model: Any) -> None:
        """Cut ``model``'s length for training (the saved model keeps the base's limit) and
        freeze its word embeddings where the config asks for it."""
        self.saved_max_length = model.max_seq_length
        if self.config.max_seq_length:
            model.max_seq_length = self.config.max_seq_length
        if common.should_freeze(self.config, self.device):
            self.frozen = common.freeze_word_embeddings(model)

    def arguments(self, args_class: type, **options: Any) -> Any:
        """The trainer's arguments (``args_class``) for this run's config and checkpoints."""
        return common.training_arguments(
            args_class,
            self.config,
            self.checkpoints,
            has_dev=self.has_dev,
            device=self.device,
            **options,
        )

    def train(
        self,
        trainer_class: type,
        model: Any,
        args: Any,
        table: pa.Table,
        loss: Any,
        evaluator: Any | None,
    ) -> dict[str, Any]:
        """Run the trainer (from the last checkpoint when resuming), undo the length cut.

        Returns:
            The training summary that :meth:`finish` records in the provenance.
        """
        trainer = trainer_class(
            model=model,
            args=args,
            train_dataset=common.to_dataset(table),
            loss=loss,
            evaluator=evaluator,
            callbacks=common.callbacks_for(self.config, self.has_dev, self.options.callbacks),
        )
        log.info(
            "training %s (%s) from %s on %d rows",
            self.kind,
            self.config.loss,
            self.base,
            table.num_rows,
        )
        summary = common.run_training(trainer, self.last, has_dev=self.has_dev)
        model.max_seq_length = self.saved_max_length
        return {
            **summary,
            "frozen": self.frozen,
            "device": self.device,
            "dev_history": evaluator.history if evaluator else [],
        }

    def finish(
        self, model: Any, summary: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> Path:
        """Save ``model`` into the output folder with its provenance and ``polyret.json``."""
        return common.finish(
            model,
            self.out,
            kind=self.kind,
            config=self.config,
            base=self.base,
            training_set=self.training_set,
            summary=summary,
            extra=extra,
        )
