"""Training: bi-encoders, cross-encoders, distillation, checkpoint merging, ANCE refresh.

Built on sentence-transformers' trainers (their loops, checkpoints and exact resume);
importing this package imports torch and sentence-transformers (``pip install
'polyret[train]'``). Every trainer takes a :class:`~polyret.types.TrainingSet`, a base model
(a packaged name such as ``"multilingual-e5-small"``, a folder or a hub id), an output
folder and a frozen config, and returns the folder of a standard sentence-transformers
model with its ``provenance.json``.
"""

from polyret.train.bi_encoder import contrastive_loss, train_bi_encoder
from polyret.train.config import (
    BiEncoderConfig,
    CrossEncoderConfig,
    DistillConfig,
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
from polyret.train.merge import merge_checkpoints, merge_state_dicts, slerp
from polyret.train.refresh import DenseRemine, Remine, negatives_from_run, train_with_refresh
from polyret.train.sampler import (
    SameLanguageBatchSampler,
    group_keys,
    language_batches,
    same_language_sampler,
)

__all__ = [
    "BiEncoderConfig",
    "CrossEncoderConfig",
    "DenseDevEvaluator",
    "DenseRemine",
    "DistillConfig",
    "LiveCrossEncoder",
    "LiveEncoder",
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
    "train_with_refresh",
]
