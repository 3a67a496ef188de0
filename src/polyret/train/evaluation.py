"""Dev evaluation during training: per-language nDCG@k through polyret's own retrieval code.

The model being trained is wrapped as a polyret encoder (:class:`LiveEncoder`) or pair
reranker (:class:`LiveCrossEncoder`), so the dev numbers logged during training come from
the same :class:`~polyret.retrieve.Dense` / :meth:`~polyret.rerank.PairReranker.rerank` and
:func:`~polyret.evaluate.evaluate` code as any later evaluation of the saved folder.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from polyret.encode.base import BaseEncoder
from polyret.errors import MissingExtraError
from polyret.evaluate import Report, evaluate
from polyret.rerank.base import PairReranker
from polyret.types import Dataset, Run

try:
    from sentence_transformers.base.evaluation import BaseEvaluator
except ImportError:  # pragma: no cover
    raise MissingExtraError(
        "sentence_transformers", "train", "dev evaluation during training"
    ) from None

log = logging.getLogger(__name__)


class LiveEncoder(BaseEncoder):
    """A polyret :class:`~polyret.encode.Encoder` over an in-memory ``SentenceTransformer``.

    Args:
        model: The sentence-transformers model (e.g. the one being trained).
        query_prefix: Prepended to queries.
        passage_prefix: Prepended to documents.
        batch_size: Texts per forward pass.
    """

    backend = "live"

    def __init__(
        self, model: Any, *, query_prefix: str = "", passage_prefix: str = "", batch_size: int = 64
    ) -> None:
        super().__init__(batch_size=batch_size)
        self.model = model
        self.name = "training-model"
        self.native_dim = int(model.get_embedding_dimension())
        self._max_length = int(model.max_seq_length or 512)
        self.default_query_prefix = query_prefix
        self.default_passage_prefix = passage_prefix

    def _identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": id(self.model)}

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        order = np.argsort([len(t) for t in texts])  # similar lengths batch with less padding
        vectors = self.model.encode(
            [texts[i] for i in order],
            prompt="",
            batch_size=self.config.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=False,
        )
        out = np.empty_like(vectors)
        out[order] = vectors
        return out


class LiveCrossEncoder(PairReranker):
    """A polyret pair reranker over an in-memory sentence-transformers ``CrossEncoder``."""

    def __init__(self, model: Any, *, batch_size: int = 32) -> None:
        super().__init__()
        self.model = model
        self.batch_size = batch_size
        self.fingerprint = f"live-{id(model)}"

    def score_pairs(self, query_texts: list[str], doc_texts: list[str]) -> np.ndarray:
        scores = self.model.predict(
            list(zip(query_texts, doc_texts, strict=True)),
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        scores = np.asarray(scores, dtype=np.float64)
        return scores[:, -1] if scores.ndim == 2 else scores


def metrics_of(report: Report, metric: str) -> dict[str, float]:
    """``{metric: mean, metric_<lang>: value, ...}`` from a per-language report."""
    out = {metric: float(report.mean[metric])}
    for lang, values in sorted(report.by_lang.items()):
        out[f"{metric}_{lang}"] = float(values[metric])
    return out


class DenseDevEvaluator(BaseEvaluator):
    """sentence-transformers evaluator: per-language nDCG@k of dense retrieval on a split.

    The whole corpus is encoded with the current model, each split query searches it with
    :class:`~polyret.retrieve.Dense`, and :func:`~polyret.evaluate.evaluate` scores the run.

    Args:
        dataset: Corpus, queries and qrels.
        split: The split to evaluate (``"dev"``).
        k: nDCG cutoff.
        query_prefix: Query prefix the model is trained with.
        passage_prefix: Passage prefix the model is trained with.
    """

    def __init__(
        self,
        dataset: Dataset,
        split: str = "dev",
        *,
        k: int = 10,
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.split = split
        self.queries, self.qrels = dataset.split(split)
        self.metric = f"ndcg@{k}"
        self.primary_metric = self.metric
        self.prefixes = (query_prefix, passage_prefix)
        self.history: list[dict[str, float]] = []

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: float = -1, steps: int = -1
    ) -> dict[str, float]:
        from polyret.retrieve import Dense

        started = time.perf_counter()
        encoder = LiveEncoder(model, query_prefix=self.prefixes[0], passage_prefix=self.prefixes[1])
        dense = Dense(encoder).index(self.dataset.corpus)
        run = dense.search(self.queries, k=100)
        metrics = metrics_of(
            evaluate(run, self.qrels, [self.metric], queries=self.queries), self.metric
        )
        self.history.append({"step": float(steps), **metrics})
        log.info(
            "dev %s at step %d: %.4f (%.0f s)",
            self.metric,
            steps,
            metrics[self.metric],
            time.perf_counter() - started,
        )
        return metrics


class RerankDevEvaluator(BaseEvaluator):
    """sentence-transformers evaluator: per-language nDCG@k of reranking a first stage.

    Args:
        dataset: Corpus, queries and qrels.
        first_stage: The run to rerank (only the split's queries are used).
        split: The split to evaluate.
        k: nDCG cutoff.
        rerank_k: Documents per query rescored.
    """

    def __init__(
        self,
        dataset: Dataset,
        first_stage: Run,
        split: str = "dev",
        *,
        k: int = 10,
        rerank_k: int = 20,
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.queries, self.qrels = dataset.split(split)
        self.first_stage = first_stage.select([q for q in first_stage if q in self.queries])
        self.metric = f"ndcg@{k}"
        self.primary_metric = self.metric
        self.rerank_k = rerank_k
        self.history: list[dict[str, float]] = []

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: float = -1, steps: int = -1
    ) -> dict[str, float]:
        started = time.perf_counter()
        reranked = LiveCrossEncoder(model).rerank(
            self.queries, self.first_stage, self.dataset.corpus, k=self.rerank_k
        )
        report = evaluate(reranked, self.qrels, [self.metric], queries=self.queries)
        metrics = metrics_of(report, self.metric)
        self.history.append({"step": float(steps), **metrics})
        log.info(
            "dev %s (rerank top %d) at step %d: %.4f (%.0f s)",
            self.metric,
            self.rerank_k,
            steps,
            metrics[self.metric],
            time.perf_counter() - started,
        )
        return metrics
