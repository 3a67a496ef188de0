"""Training: bi-encoders, cross-encoders, BGE-M3's heads (late interaction, sparse, M3
self-distillation), distillation, merging, ANCE refresh.

Built on sentence-transformers' trainers (their loops, checkpoints and exact resume); the
trainers need torch and sentence-transformers (``pip install 'polyret[train]'``). Every
trainer takes a :class:`~polyret.types.TrainingSet`, a base model (a packaged name such as
``"multilingual-e5-small"``, a folder or a hub id), an output folder and a frozen config,
and returns the folder of a standard sentence-transformers model with its
``provenance.json``.

Importing ``polyret.train`` is cheap: each name below loads its module on first use, so a
pipeline config can be validated against :mod:`polyret.train.config` without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polyret.train.bi_encoder import contrastive_loss, train_bi_encoder
    from polyret.train.config import (
        BiEncoderConfig,
        CrossEncoderConfig,
        DistillConfig,
        HeadsConfig,
        M3Config,
        RefreshConfig,
        TrainConfig,
    )
    from polyret.train.cross_encoder import cross_encoder_table, train_cross_encoder
    from polyret.train.distill import distill_bi_encoder, score_with_teacher
    from polyret.train.evaluation import (
        DenseDevEvaluator,
        LiveCrossEncoder,
        LiveEncoder,
        RerankDevEvaluator,
    )
    from polyret.train.heads import train_heads
    from polyret.train.merge import merge_checkpoints, merge_state_dicts, slerp
    from polyret.train.refresh import DenseRemine, Remine, negatives_from_run, train_with_refresh
    from polyret.train.sampler import (
        SameLanguageBatchSampler,
        group_keys,
        language_batches,
        same_language_sampler,
    )

_EXPORTS = {
    "BiEncoderConfig": "polyret.train.config",
    "CrossEncoderConfig": "polyret.train.config",
    "DenseDevEvaluator": "polyret.train.evaluation",
    "DenseRemine": "polyret.train.refresh",
    "DistillConfig": "polyret.train.config",
    "HeadsConfig": "polyret.train.config",
    "LiveCrossEncoder": "polyret.train.evaluation",
    "LiveEncoder": "polyret.train.evaluation",
    "M3Config": "polyret.train.config",
    "RefreshConfig": "polyret.train.config",
    "Remine": "polyret.train.refresh",
    "RerankDevEvaluator": "polyret.train.evaluation",
    "SameLanguageBatchSampler": "polyret.train.sampler",
    "TrainConfig": "polyret.train.config",
    "contrastive_loss": "polyret.train.bi_encoder",
    "cross_encoder_table": "polyret.train.cross_encoder",
    "distill_bi_encoder": "polyret.train.distill",
    "group_keys": "polyret.train.sampler",
    "language_batches": "polyret.train.sampler",
    "merge_checkpoints": "polyret.train.merge",
    "merge_state_dicts": "polyret.train.merge",
    "negatives_from_run": "polyret.train.refresh",
    "same_language_sampler": "polyret.train.sampler",
    "score_with_teacher": "polyret.train.distill",
    "slerp": "polyret.train.merge",
    "train_bi_encoder": "polyret.train.bi_encoder",
    "train_cross_encoder": "polyret.train.cross_encoder",
    "train_heads": "polyret.train.heads",
    "train_with_refresh": "polyret.train.refresh",
}

__all__ = [
    "BiEncoderConfig",
    "CrossEncoderConfig",
    "DenseDevEvaluator",
    "DenseRemine",
    "DistillConfig",
    "HeadsConfig",
    "LiveCrossEncoder",
    "LiveEncoder",
    "M3Config",
    "RefreshConfig",
    "Remine",
    "RerankDevEvaluator",
    "SameLanguageBatchSampler",
    "TrainConfig",
    "contrastive_loss",
    "cross_encoder_table",
    "distill_bi_encoder",
    "group_keys",
    "language_batches",
    "merge_checkpoints",
    "merge_state_dicts",
    "negatives_from_run",
    "same_language_sampler",
    "score_with_teacher",
    "slerp",
    "train_bi_encoder",
    "train_cross_encoder",
    "train_heads",
    "train_with_refresh",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'polyret.train' has no attribute {name!r}")
