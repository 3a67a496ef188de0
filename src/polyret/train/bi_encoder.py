"""Bi-encoder training: InfoNCE over in-batch and mined hard negatives.

Built on sentence-transformers' ``SentenceTransformerTrainer`` (its loop, checkpoints and
``resume_from_checkpoint``); polyret adds the pieces it lacks: one-language batches with no
repeated text (:mod:`polyret.train.sampler`), frozen word embeddings, E5 prefixes taken
from the base model's prompts, dev evaluation through polyret's own dense retrieval and
metrics, and a provenance record next to the saved model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from polyret.errors import InvalidInputError
from polyret.io.artifact import ModelKind
from polyret.train.config import BiEncoderConfig, DistillConfig
from polyret.train.evaluation import DenseDevEvaluator
from polyret.train.sampler import group_keys, same_language_sampler
from polyret.train.session import RunOptions, TrainingRun, require_training_extras
from polyret.types import Dataset, TrainingSet

log = logging.getLogger(__name__)


def train_bi_encoder(
    training_set: TrainingSet,
    base: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: BiEncoderConfig = BiEncoderConfig(),
    *,
    dev: Dataset | None = None,
    dev_split: str = "dev",
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Any] = (),
) -> Path:
    """Fine-tune a sentence-transformers bi-encoder on (query, positive, negatives) rows.

    Each row's query is scored against its positive, its own hard negatives
    (``negative_1..n``) and every other text of the batch; the loss is the softmax
    cross-entropy of the positive (InfoNCE with scale ``1/τ``), optionally symmetric,
    cached (GradCache) and over several Matryoshka dimensions.

    Args:
        training_set: Rows with ``query``, ``positive``, ``lang`` and (optionally) negatives.
        base: A packaged model name (``"multilingual-e5-small"``), a sentence-transformers
            folder or a hub id.
        out: Folder of the trained model (and, while training, its checkpoints).
        config: Loss, schedule, batching and checkpoint options.
        dev: A dataset whose ``dev_split`` queries are evaluated (per-language nDCG@k of
            dense retrieval over its corpus) every ``config.eval_steps`` steps and at the end.
        dev_split: The split of ``dev`` to evaluate.
        resume: Continue from the newest checkpoint in ``out/checkpoints`` (same data,
            base and config), exactly where the interrupted run stopped.
        overwrite: Replace an existing ``out``.
        callbacks: Extra ``transformers.TrainerCallback`` objects.

    Returns:
        ``out``: a standard sentence-transformers folder (``SentenceTransformer(out)``,
        ``polyret.encode.load_encoder(out)``, ``polyret.retrieve.Dense(out)``).

    Raises:
        InvalidInputError: an empty training set or too few negatives per row.
        OutputExistsError: ``out`` exists and neither ``resume`` nor ``overwrite`` is set.
        MissingExtraError: sentence-transformers, datasets or accelerate is missing.

    Example:
        >>> from polyret.curate import load_generator
        >>> from polyret.mine import mine_negatives
        >>> corpus = polyret.datasets.load("xquad-r").corpus  # doctest: +SKIP
        >>> rows = load_generator("crop", positive="document").generate(corpus)  # doctest: +SKIP
        >>> rows = mine_negatives(rows, corpus, "bm25", "random-top-k", num_negatives=1,
        ...                       max_rank=30)  # doctest: +SKIP
        >>> train_bi_encoder(rows, "multilingual-e5-small", "e5-crops",
        ...                  BiEncoderConfig(max_steps=100))  # doctest: +SKIP
        PosixPath('e5-crops')

    References:
        - InfoNCE with in-batch negatives for dense retrieval; mE5's recipe
          (multilingual-e5, arXiv 2402.05672).
        - GradCache: scaling the contrastive batch beyond memory (arXiv 2101.06983).
        - Matryoshka representation learning (arXiv 2205.13147).
    """
    if len(training_set) == 0:
        raise InvalidInputError("cannot train on an empty training set")
    groups = group_keys(training_set, config.group_by) if config.group_by else None
    return fit_sentence_transformer(
        training_set,
        base,
        out,
        config,
        kind="bi-encoder",
        make_table=lambda: training_set.to_sentence_transformers(config.num_negatives),
        make_loss=lambda model: contrastive_loss(model, config),
        sampler=same_language_sampler(
            training_set.column("lang"),
            mix_languages=not config.same_language_batches,
            groups=groups,
        ),
        options=RunOptions(dev, dev_split, resume, overwrite, callbacks),
    )


def fit_sentence_transformer(
    training_set: TrainingSet,
    base: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: BiEncoderConfig | DistillConfig,
    *,
    kind: ModelKind,
    make_table: Callable[[], pa.Table],
    make_loss: Callable[[Any], Any],
    sampler: Any,
    options: RunOptions,
) -> Path:
    """The loop shared by contrastive training and distillation (see :func:`train_bi_encoder`)."""
    require_training_extras()
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )

    run = TrainingRun.start(kind, training_set, base, out, config, options)
    model = SentenceTransformer(run.base, device=run.device)
    run.adopt(model)
    query_prefix, passage_prefix = prefixes(model, config.query_prefix, config.passage_prefix)
    table = make_table()
    prompts = {
        column: query_prefix if column == "anchor" else passage_prefix
        for column in table.column_names
        if column != "label"
    }
    prompts = {column: prefix for column, prefix in prompts.items() if prefix}
    args = run.arguments(
        SentenceTransformerTrainingArguments, batch_sampler=sampler, prompts=prompts or None
    )
    evaluator = None
    if options.dev is not None:
        evaluator = DenseDevEvaluator(
            options.dev,
            options.dev_split,
            k=config.eval_k,
            query_prefix=query_prefix,
            passage_prefix=passage_prefix,
        )
    summary = run.train(SentenceTransformerTrainer, model, args, table, make_loss(model), evaluator)
    if query_prefix or passage_prefix or model.prompts:  # the prompts it was trained with
        model.prompts = {**model.prompts, "query": query_prefix, "passage": passage_prefix}
    return run.finish(
        model, summary, extra={"prefixes": {"query": query_prefix, "passage": passage_prefix}}
    )


def prefixes(model: Any, query_prefix: str | None, passage_prefix: str | None) -> tuple[str, str]:
    """The query and passage prefixes: the given ones, else the model's own prompts."""
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query", "") if query_prefix is None else query_prefix
    passage = prompts.get("passage", prompts.get("document", ""))
    return query, passage if passage_prefix is None else passage_prefix


def contrastive_loss(model: Any, config: BiEncoderConfig) -> Any:
    """The sentence-transformers loss a :class:`BiEncoderConfig` describes."""
    from sentence_transformers.sentence_transformer import losses

    directions: tuple[Any, ...] = ("query_to_doc",)
    if config.symmetric:
        directions = ("query_to_doc", "doc_to_query")
    scale = 1.0 / config.temperature
    loss: Any
    if config.loss == "cached-infonce":
        loss = losses.CachedMultipleNegativesRankingLoss(
            model, scale=scale, mini_batch_size=config.mini_batch_size, directions=directions
        )
    else:
        loss = losses.MultipleNegativesRankingLoss(model, scale=scale, directions=directions)
    if config.matryoshka_dims:
        native = int(model.get_embedding_dimension())
        dims = [d for d in config.matryoshka_dims if d <= native]
        if not dims:
            raise InvalidInputError(
                f"matryoshka_dims {config.matryoshka_dims} are all above the model's {native}",
                field="matryoshka_dims",
            )
        loss = losses.MatryoshkaLoss(model, loss, matryoshka_dims=dims)
    return loss
