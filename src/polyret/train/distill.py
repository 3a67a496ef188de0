"""Distillation: a cross-encoder's scores teach a bi-encoder (margin-MSE or KL).

The teacher (any polyret pair reranker, typically a trained cross-encoder folder) scores
each row's (query, positive) and (query, negative_i) pairs once
(:func:`score_with_teacher`, stored in the training set's ``positive_score`` /
``negative_scores``); the student bi-encoder is then trained with sentence-transformers'
``MarginMSELoss`` (match the teacher's margins positive − negative_i) or ``DistillKLDivLoss``
(match its softmax over the row), both with the student's score ``cos / τ``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from polyret.errors import InvalidInputError
from polyret.rerank.base import PairReranker
from polyret.train.bi_encoder import fit_sentence_transformer
from polyret.train.config import DistillConfig
from polyret.train.losses import ScaledCosine
from polyret.train.sampler import same_language_sampler
from polyret.train.session import RunOptions
from polyret.types import Dataset, TrainingSet

log = logging.getLogger(__name__)


def score_with_teacher(
    training_set: TrainingSet,
    teacher: PairReranker | str | os.PathLike[str],
    *,
    num_negatives: int | None = None,
) -> TrainingSet:
    """The rows with the teacher's scores of their positive and first negatives.

    Args:
        training_set: Rows with negatives.
        teacher: A :class:`~polyret.rerank.PairReranker`, or a cross-encoder folder, loaded
            as :class:`~polyret.rerank.CrossEncoderReranker` returning raw logits.
        num_negatives: Negatives scored per row (default: as many as every row has).

    Returns:
        A copy with ``positive_score`` and ``negative_scores`` filled (negatives beyond
        ``num_negatives`` are dropped).

    Example:
        >>> from polyret.rerank import BiEncoderReranker
        >>> ts = TrainingSet.from_records([{"id": "e", "query": "rivers", "positive":
        ...     "rivers", "negatives": ["trains"], "negative_ids": ["d2"]}])
        >>> scored = score_with_teacher(ts, BiEncoderReranker("hashing", dim=64))
        >>> scored["e"].positive_score > scored["e"].negative_scores[0]
        True
    """
    n = training_set.num_negatives if num_negatives is None else num_negatives
    if n < 1:
        raise InvalidInputError("distillation needs rows with negatives", field="negatives")
    if not isinstance(teacher, PairReranker):
        import torch

        from polyret.rerank import CrossEncoderReranker

        teacher = CrossEncoderReranker(teacher, activation_fn=torch.nn.Identity())
    table = training_set.to_sentence_transformers(n)
    queries = table.column("anchor").to_pylist()
    texts = [table.column(name).to_pylist() for name in table.column_names[1:]]
    flat_queries = [q for q in queries for _ in texts]
    flat_docs = [column[row] for row in range(len(queries)) for column in texts]
    scores = np.asarray(teacher.score_pairs(flat_queries, flat_docs), np.float64)
    scores = scores.reshape(len(queries), len(texts))
    if not np.isfinite(scores).all():
        raise InvalidInputError("the teacher could not score every pair", field="teacher")
    negatives = training_set.table.column("negatives").to_pylist()
    negative_ids = training_set.table.column("negative_ids").to_pylist()
    ranks = training_set.table.column("negative_ranks").to_pylist()
    out = training_set.with_columns(
        positive_score=pa.array(scores[:, 0], pa.float32()),
        negative_scores=[row[1:].tolist() for row in scores],
        negatives=[row[:n] for row in negatives],
        negative_ids=[row[:n] for row in negative_ids],
        negative_ranks=[row[:n] if len(row) >= n else [0] * n for row in ranks],
    )
    name = getattr(teacher, "name", type(teacher).__name__)
    return out.with_step({"step": "teacher-scores", "kept": len(out), "teacher": str(name)})


def distill_bi_encoder(
    training_set: TrainingSet,
    base: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: DistillConfig = DistillConfig(),
    *,
    teacher: PairReranker | str | os.PathLike[str] | None = None,
    dev: Dataset | None = None,
    dev_split: str = "dev",
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Any] = (),
) -> Path:
    """Train a bi-encoder to reproduce a teacher's scores over each row's candidates.

    Args:
        training_set: Rows with negatives, and teacher scores unless ``teacher`` is given.
        base: The student to start from (packaged name, folder or hub id).
        out: Folder of the trained bi-encoder.
        config: ``loss`` (``"margin-mse"`` or ``"kl"``), temperatures, schedule.
        teacher: Scores the rows first (see :func:`score_with_teacher`).
        dev: Dataset whose ``dev_split`` is evaluated during training.
        dev_split: The split of ``dev`` to evaluate.
        resume: Continue from the newest checkpoint in ``out/checkpoints``.
        overwrite: Replace an existing ``out``.
        callbacks: Extra ``transformers.TrainerCallback`` objects.

    Returns:
        ``out``, a sentence-transformers folder.

    Raises:
        InvalidInputError: rows without negatives or teacher scores.

    References:
        - Margin-MSE: Hofstätter et al., improving efficient neural ranking models with
          cross-architecture knowledge distillation (arXiv 2010.02666).
        - KL distillation of a cross-encoder's listwise distribution, as in RocketQAv2
          (arXiv 2110.07367).
    """
    if len(training_set) == 0:
        raise InvalidInputError("cannot train on an empty training set")
    n = training_set.num_negatives if config.num_negatives is None else config.num_negatives
    if teacher is not None:
        training_set = score_with_teacher(training_set, teacher, num_negatives=n)
    labels = _labels(training_set, n)

    def make_table() -> pa.Table:
        table = training_set.to_sentence_transformers(n)
        return table.append_column("label", pa.array(labels, pa.list_(pa.float32())))

    return fit_sentence_transformer(
        training_set,
        base,
        out,
        config,
        kind="distilled-bi-encoder",
        make_table=make_table,
        make_loss=lambda model: distillation_loss(model, config),
        sampler=same_language_sampler(training_set.column("lang"), mix_languages=True),
        options=RunOptions(dev, dev_split, resume, overwrite, callbacks),
    )


def distillation_loss(model: Any, config: DistillConfig) -> Any:
    """sentence-transformers' MarginMSELoss or DistillKLDivLoss with the student at cos/τ."""
    from sentence_transformers.sentence_transformer import losses

    student = ScaledCosine(config.temperature)
    if config.loss == "kl":
        return losses.DistillKLDivLoss(
            model,
            similarity_fct=student,
            temperature=1.0,
            student_temperature=1.0,
            teacher_temperature=config.kl_temperature,
        )
    return losses.MarginMSELoss(model, similarity_fct=student)


def _labels(training_set: TrainingSet, n: int) -> list[list[float]]:
    positives = training_set.column("positive_score")
    negatives = training_set.column("negative_scores")
    out = []
    for row, (positive, scores) in enumerate(zip(positives, negatives, strict=True)):
        values = [positive, *scores[:n]]
        if len(values) < n + 1 or any(v is None or math.isnan(v) for v in values):
            raise InvalidInputError(
                f"row {row} lacks teacher scores: pass teacher= or score the set with "
                "score_with_teacher first",
                field="negative_scores",
            )
        out.append([float(v) for v in values])
    return out
