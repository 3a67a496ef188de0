"""Cross-encoder training: pointwise BCE (soft labels) or listwise softmax over negatives.

Built on sentence-transformers' ``CrossEncoderTrainer`` and its cross-encoder losses. No
cross-encoder weights ship in any installable package (MODELS.md), so training starts from
an encoder (the exported multilingual-e5-small, or any sentence-transformers/transformers
folder) with a fresh one-logit classification head; the result loads in
:class:`polyret.rerank.CrossEncoderReranker` and in plain ``CrossEncoder(folder)``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from polyret.errors import InvalidInputError
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.train.config import CrossEncoderConfig
from polyret.train.evaluation import RerankDevEvaluator
from polyret.train.losses import OwnNegativesLoss
from polyret.train.sampler import same_language_sampler
from polyret.train.session import RunOptions, TrainingRun, require_training_extras
from polyret.types import Dataset, Run, TrainingSet

log = logging.getLogger(__name__)


def train_cross_encoder(
    training_set: TrainingSet,
    base: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: CrossEncoderConfig = CrossEncoderConfig(),
    *,
    dev: Dataset | None = None,
    dev_split: str = "dev",
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Any] = (),
) -> Path:
    """Train a cross-encoder (one relevance logit per (query, document) pair).

    ``"listwise"`` scores each row's positive and negatives and minimizes the softmax
    cross-entropy of the positive; ``"bce"`` treats every (query, positive) pair as a soft
    positive (target ``config.positive_label``, 0.9 by default) and every (query, negative)
    pair as 0, or takes targets from a teacher's scores (``config.teacher_labels``).

    Args:
        training_set: Rows with ``query``, ``positive`` and mined ``negatives``.
        base: An encoder to start from (packaged name, folder or hub id); a fresh head is
            added unless it is already a one-logit cross-encoder.
        out: Folder of the trained cross-encoder (and its checkpoints while training).
        config: Loss, labels, schedule and checkpoint options.
        dev: A dataset whose ``dev_split`` queries are evaluated during training: the
            first stage (``config.dev_first_stage``) top ``config.dev_rerank_k`` reranked,
            nDCG@k per language.
        dev_split: The split of ``dev`` to evaluate.
        resume: Continue from the newest checkpoint in ``out/checkpoints``.
        overwrite: Replace an existing ``out``.
        callbacks: Extra ``transformers.TrainerCallback`` objects.

    Returns:
        ``out``, a sentence-transformers ``CrossEncoder`` folder.

    Raises:
        InvalidInputError: an empty set, or rows without negatives.

    Example:
        >>> from polyret.mine import mine_negatives
        >>> rows = mine_negatives(rows, corpus, "bm25", "random-top-k", num_negatives=3,
        ...                       max_rank=30)  # doctest: +SKIP
        >>> folder = train_cross_encoder(rows, "multilingual-e5-small", "e5-ce",
        ...                              CrossEncoderConfig(max_steps=150))  # doctest: +SKIP
        >>> CrossEncoderReranker(folder).rerank(queries, bm25_run, corpus, k=10)  # doctest: +SKIP

    References:
        - Listwise softmax cross-entropy over a positive and sampled negatives: the
          "localized contrastive estimation" of Gao et al. (arXiv 2101.08751).
        - Soft labels for noisy (pseudo-labelled) positives: label smoothing, Szegedy et
          al. (arXiv 1512.00567).
    """
    require_training_extras()
    if len(training_set) == 0:
        raise InvalidInputError("cannot train on an empty training set")
    if training_set.num_negatives == 0 or config.num_negatives == 0:
        raise InvalidInputError(
            "cross-encoder training needs negatives: mine them first (polyret.mine, or "
            "polyret.train.negatives_from_run)",
            field="negatives",
        )
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )

    run = TrainingRun.start(
        "cross-encoder",
        training_set,
        base,
        out,
        config,
        RunOptions(dev, dev_split, resume, overwrite, callbacks),
    )
    model = CrossEncoder(run.base, num_labels=1, device=run.device)
    run.adopt(model)
    table = cross_encoder_table(training_set, config)
    extra: dict[str, Any] = {}
    if config.loss == "listwise" and config.in_batch_negatives:
        extra["batch_sampler"] = same_language_sampler(training_set.column("lang"))
    args = run.arguments(CrossEncoderTrainingArguments, **extra)
    evaluator = None
    if dev is not None:
        evaluator = RerankDevEvaluator(
            dev,
            first_stage(dev, dev_split, config.dev_first_stage, k=config.dev_rerank_k),
            dev_split,
            k=config.eval_k,
            rerank_k=config.dev_rerank_k,
        )
    summary = run.train(
        CrossEncoderTrainer, model, args, table, cross_encoder_loss(model, config), evaluator
    )
    return run.finish(model, summary)


def cross_encoder_table(training_set: TrainingSet, config: CrossEncoderConfig) -> pa.Table:
    """The training table a :class:`CrossEncoderConfig` needs.

    Listwise: ``anchor, positive, negative_1..n``. BCE: one ``query, document, label`` row
    per pair, labels ``positive_label`` / 0, or ``positive_label · σ(teacher score)``.

    Example:
        >>> ts = TrainingSet.from_records([{"id": "e", "query": "q", "positive": "p",
        ...     "negatives": ["n1", "n2"], "negative_ids": ["a", "b"]}])
        >>> cross_encoder_table(ts, CrossEncoderConfig(loss="bce")).to_pydict()
        {'query': ['q', 'q', 'q'], 'document': ['p', 'n1', 'n2'], 'label': [0.9, 0.0, 0.0]}
    """
    if config.loss == "listwise":
        return training_set.to_sentence_transformers(config.num_negatives)
    n = training_set.num_negatives if config.num_negatives is None else config.num_negatives
    table = training_set.to_sentence_transformers(n)
    queries: list[str] = []
    documents: list[str] = []
    labels: list[float] = []
    teacher = _teacher_scores(training_set, n) if config.teacher_labels else None
    columns = [table.column(name).to_pylist() for name in table.column_names]
    for row, values in enumerate(zip(*columns, strict=True)):
        query, texts = values[0], values[1:]
        for i, text in enumerate(texts):
            queries.append(query)
            documents.append(text)
            if teacher is not None:
                labels.append(config.positive_label * _sigmoid(teacher[row][i]))
            else:
                labels.append(config.positive_label if i == 0 else 0.0)
    return pa.table(
        {
            "query": queries,
            "document": documents,
            "label": pa.array(labels, pa.float64()),
        }
    )


def cross_encoder_loss(model: Any, config: CrossEncoderConfig) -> Any:
    """The sentence-transformers cross-encoder loss a :class:`CrossEncoderConfig` describes."""
    from sentence_transformers.cross_encoder import losses

    if config.loss == "bce":
        return losses.BinaryCrossEntropyLoss(model)
    if config.in_batch_negatives:  # softmax over raw logits, plus random in-batch pairs
        return losses.MultipleNegativesRankingLoss(
            model,
            num_negatives=config.in_batch_negatives,
            scale=1,
            activation_fn=None,
        )
    return OwnNegativesLoss(model)


def first_stage(dataset: Dataset, split: str, method: str, *, k: int) -> Run:
    """The run a dev evaluation reranks: BM25 or dense (the default encoder) top ``k``."""
    queries, _ = dataset.split(split)
    if method == "bm25":
        from polyret.retrieve import BM25

        return BM25().index(dataset.corpus).search(queries, k=k)
    from polyret.retrieve import Dense

    return Dense(DEFAULT_MODEL).index(dataset.corpus).search(queries, k=k)


def _teacher_scores(training_set: TrainingSet, n: int) -> list[list[float]]:
    positives = training_set.column("positive_score")
    negatives = training_set.column("negative_scores")
    out = []
    for row, (positive, scores) in enumerate(zip(positives, negatives, strict=True)):
        if (
            positive is None
            or len(scores) < n
            or any(s is None or math.isnan(s) for s in scores[:n])
        ):
            raise InvalidInputError(
                f"teacher_labels: row {row} lacks teacher scores (score the set first, e.g. "
                "with polyret.train.score_with_teacher)",
                field="negative_scores",
            )
        out.append([positive, *scores[:n]])
    return out


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
