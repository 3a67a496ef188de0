"""Fuse several runs into one: a normalizer and a combiner, each from its own registry.

As ranx's ``fuse(runs, norm=..., method=...)``: :data:`normalizers` map a run's scores per
query (min-max, z-score, none), :data:`combiners` turn a run into per-entry contributions
(reciprocal rank fusion, interpolation of normalized scores); both are extension points.

All runs are concatenated into flat arrays and every fused score is one ``bincount`` over
(query, document) codes, so fusing runs of millions of entries is a few NumPy calls; a
document missing from a run contributes nothing from that run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from polyret.config import Config
from polyret.errors import InvalidInputError
from polyret.registry import Registry
from polyret.types import Run

Normalization = str
"""A registered normalizer's name (:data:`normalizers`: ``min-max``, ``z-score``, ``none``)."""
FusionMethod = str
"""A registered combiner's name (:data:`combiners`: ``rrf``, ``interpolation``)."""

Normalizer = Callable[[Run], np.ndarray]
"""``f(run) -> one normalized score per entry`` (in the order of ``run.to_arrays()``)."""

#: Per-query score normalizers by name (ranx's ``norm=``).
normalizers: Registry[Normalizer] = Registry("normalization")


class FuseConfig(Config):
    """How runs are fused: the ``fuse`` stage's params, the options of ``polyret fuse`` and
    of ``polyret search --with``, and the argument of :func:`fuse`."""

    method: FusionMethod = Field(
        default="rrf",
        description="Combiner (polyret.retrieve.combiners): rrf sums weight / (rrf_k + rank); "
        "interpolation sums weight * normalized score.",
    )
    normalization: Normalization = Field(
        default="min-max",
        description="Per-query score normalizer (polyret.retrieve.normalizers: min-max, "
        "z-score, none); rrf uses ranks only.",
    )
    weights: list[float] | None = Field(
        default=None, description="One weight per run, in order (default: all 1)."
    )
    rrf_k: float = Field(default=60.0, gt=0, description="The RRF constant.")
    depth: int | None = Field(default=None, ge=1, description="Use each run's top DEPTH only.")

    @field_validator("method")
    @classmethod
    def _registered_method(cls, name: str) -> str:
        if name not in combiners:
            raise ValueError(f"unknown fusion method {name!r}: use {', '.join(combiners.names())}")
        return name

    @field_validator("normalization")
    @classmethod
    def _registered_normalization(cls, name: str) -> str:
        if name not in normalizers:
            raise ValueError(
                f"unknown normalization {name!r}: use {', '.join(normalizers.names())}"
            )
        return name


Combiner = Callable[[Run, np.ndarray, FuseConfig], np.ndarray]
"""``f(run, normalized scores, config) -> one contribution per entry``; a document's fused
score is the weighted sum of its contributions over the runs (ranx's ``method=``)."""

#: Combiners by name.
combiners: Registry[Combiner] = Registry("fusion method")


@combiners.register("rrf")
def rrf_contributions(run: Run, scores: np.ndarray, config: FuseConfig) -> np.ndarray:
    """``1 / (rrf_k + rank)`` per entry (the scores are not used).

    References:
        Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
        individual Rank Learning Methods", SIGIR 2009.
    """
    return reciprocal_ranks(run.ranks(), config.rrf_k)


def reciprocal_ranks(ranks: np.ndarray, k: float = 60.0) -> np.ndarray:
    """``1 / (k + rank)`` of 1-based ranks: RRF's contribution of one ranking."""
    return 1.0 / (k + np.asarray(ranks, dtype=np.float64))


@combiners.register("interpolation")
def interpolation_contributions(run: Run, scores: np.ndarray, config: FuseConfig) -> np.ndarray:
    """The normalized scores themselves (weighted by :func:`fuse`: a weighted sum)."""
    return scores


def _per_query(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores, query index of every entry, each query's first entry offset and its size."""
    counts = run.counts()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return run.to_arrays()[2], np.repeat(np.arange(len(run)), counts), starts, counts


@normalizers.register("min-max")
def min_max(run: Run) -> np.ndarray:
    """Scores scaled to [0, 1] per query (a query whose scores are all equal gets 1)."""
    scores, rows, starts, _ = _per_query(run)
    if len(scores) == 0:
        return scores
    low = np.minimum.reduceat(scores, starts)[rows]
    high = np.maximum.reduceat(scores, starts)[rows]
    span = high - low
    return np.divide(scores - low, span, out=np.ones_like(scores), where=span > 0)


@normalizers.register("z-score")
def z_score(run: Run) -> np.ndarray:
    """Scores standardized per query (a query whose scores are all equal gets 0)."""
    scores, rows, starts, counts = _per_query(run)
    if len(scores) == 0:
        return scores
    mean = (np.add.reduceat(scores, starts) / counts)[rows]
    std = np.sqrt(np.add.reduceat((scores - mean) ** 2, starts) / counts)[rows]
    return np.divide(scores - mean, std, out=np.zeros_like(scores), where=std > 0)


@normalizers.register("none")
def raw_scores(run: Run) -> np.ndarray:
    """The scores as they are (only meaningful when the runs share a scale)."""
    return run.to_arrays()[2]


_DEFAULT = FuseConfig()


def fuse(
    runs: Sequence[Run] | Mapping[str, Run],
    method: FusionMethod | None = None,
    *,
    config: FuseConfig = _DEFAULT,
    k: int | None = None,
    **options: Any,
) -> Run:
    """Combine runs into one ranking: each run's scores normalized (:data:`normalizers`),
    turned into contributions (:data:`combiners`), weighted and summed per document.

    Args:
        runs: Two or more runs (a mapping's values are used in order).
        method: A registered combiner; overrides ``config.method``.
        config: Method, normalization, weights, RRF constant and input depth.
        k: Keep the fused top ``k`` per query.
        **options: :class:`FuseConfig` fields overriding ``config`` (``weights=[0.3, 0.7]``).

    Returns:
        The fused run over every query that appears in any input run.

    Example:
        >>> bm25 = Run.from_dict({"q": {"a": 9.0, "b": 7.0, "c": 1.0}})
        >>> dense = Run.from_dict({"q": {"c": 0.9, "a": 0.8}})
        >>> fused = fuse([bm25, dense], "rrf")
        >>> fused["q"]["a"] == 1 / (60 + 1) + 1 / (60 + 2)
        True
        >>> list(fused["q"])
        ['a', 'c', 'b']
    """
    if method is not None:
        options["method"] = method
    if options:
        config = FuseConfig(**{**config.model_dump(), **options})
    run_list = [Run.from_dict(r) for r in (runs.values() if isinstance(runs, Mapping) else runs)]
    if len(run_list) < 1:
        raise InvalidInputError("fuse needs at least one run", field="runs")
    weights = [1.0] * len(run_list) if config.weights is None else list(config.weights)
    if len(weights) != len(run_list):
        raise InvalidInputError(
            f"got {len(weights)} weights for {len(run_list)} runs", field="weights"
        )
    combine, normalize = combiners.get(config.method), normalizers.get(config.normalization)
    if config.depth is not None:
        run_list = [r.truncate(config.depth) for r in run_list]
    query_ids, doc_ids, values = [], [], []
    for run, weight in zip(run_list, weights, strict=True):
        q, d, _ = run.to_arrays()
        query_ids.append(q)
        doc_ids.append(d)
        values.append(weight * combine(run, normalize(run), config))
    fused = _sum_by_pair(np.concatenate(query_ids), np.concatenate(doc_ids), np.concatenate(values))
    return fused.truncate(k) if k is not None else fused


def _sum_by_pair(query_ids: np.ndarray, doc_ids: np.ndarray, values: np.ndarray) -> Run:
    """Sum ``values`` of identical (query, document) pairs into a Run."""
    if len(values) == 0:
        return Run.from_arrays([], [], [])
    q = pa.array(query_ids, pa.string()).dictionary_encode()
    d = pa.array(doc_ids, pa.string()).dictionary_encode()
    q_codes = q.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    d_codes = d.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    pairs, inverse = np.unique(q_codes * len(d.dictionary) + d_codes, return_inverse=True)
    summed = np.bincount(inverse, weights=values)
    q_unique = np.asarray(q.dictionary.to_pylist(), dtype=object)
    d_unique = np.asarray(d.dictionary.to_pylist(), dtype=object)
    return Run.from_arrays(
        q_unique[pairs // len(d.dictionary)], d_unique[pairs % len(d.dictionary)], summed
    )
