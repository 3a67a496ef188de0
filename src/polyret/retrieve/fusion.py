"""Fuse several runs into one: reciprocal rank fusion and normalized score interpolation.

All runs are concatenated into flat arrays and every fused score is one ``bincount`` over
(query, document) codes, so fusing runs of millions of entries is a few NumPy calls; a
document missing from a run contributes nothing from that run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, cast, get_args

import numpy as np
import pyarrow as pa

from polyret.errors import InvalidInputError
from polyret.registry import Registry
from polyret.types import Run

Normalization = Literal["min-max", "z-score", "none"]
FusionMethod = Literal["rrf", "interpolation"]
RunScorer = Callable[[Run, float], np.ndarray]

#: Per-run contribution functions by name: ``f(run, parameter) -> one value per entry``.
fusion_methods: Registry[RunScorer] = Registry("fusion method")


@fusion_methods.register("rrf")
def rrf_contributions(run: Run, k: float = 60.0) -> np.ndarray:
    """``1 / (k + rank)`` per entry.

    References:
        Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
        individual Rank Learning Methods", SIGIR 2009.
    """
    return 1.0 / (k + run.ranks())


def _per_query(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Query index of every entry, and each query's first entry offset."""
    counts = run.counts()
    return np.repeat(np.arange(len(run)), counts), np.concatenate([[0], np.cumsum(counts)[:-1]])


@fusion_methods.register("min-max")
def min_max_contributions(run: Run, _: float = 0.0) -> np.ndarray:
    """Scores scaled to [0, 1] per query (a query whose scores are all equal gets 1)."""
    scores = run.to_arrays()[2]
    if len(scores) == 0:
        return scores
    rows, starts = _per_query(run)
    low = np.minimum.reduceat(scores, starts)[rows]
    high = np.maximum.reduceat(scores, starts)[rows]
    span = high - low
    return np.divide(scores - low, span, out=np.ones_like(scores), where=span > 0)


@fusion_methods.register("z-score")
def z_score_contributions(run: Run, _: float = 0.0) -> np.ndarray:
    """Scores standardized per query (a query whose scores are all equal gets 0)."""
    scores = run.to_arrays()[2]
    if len(scores) == 0:
        return scores
    rows, starts = _per_query(run)
    counts = run.counts()
    mean = (np.add.reduceat(scores, starts) / counts)[rows]
    std = np.sqrt(np.add.reduceat((scores - mean) ** 2, starts) / counts)[rows]
    return np.divide(scores - mean, std, out=np.zeros_like(scores), where=std > 0)


@fusion_methods.register("none")
def raw_contributions(run: Run, _: float = 0.0) -> np.ndarray:
    """The scores as they are (only meaningful when the runs share a scale)."""
    return run.to_arrays()[2]


def fuse(
    runs: Sequence[Run] | Mapping[str, Run],
    method: FusionMethod = "rrf",
    *,
    weights: Sequence[float] | None = None,
    rrf_k: float = 60.0,
    normalization: Normalization = "min-max",
    depth: int | None = None,
    k: int | None = None,
) -> Run:
    """Combine runs into one ranking.

    Args:
        runs: Two or more runs (a mapping's values are used in order).
        method: ``"rrf"`` sums ``weight / (rrf_k + rank)``; ``"interpolation"`` sums
            ``weight * normalized score``.
        weights: One weight per run (default: all 1).
        rrf_k: The RRF constant (60 in the original paper).
        normalization: Per-query score normalization for interpolation.
        depth: Use only each run's top ``depth`` documents.
        k: Keep the fused top ``k`` per query.

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
    run_list = [Run.from_dict(r) for r in (runs.values() if isinstance(runs, Mapping) else runs)]
    if len(run_list) < 1:
        raise InvalidInputError("fuse needs at least one run", field="runs")
    weights = [1.0] * len(run_list) if weights is None else list(weights)
    if len(weights) != len(run_list):
        raise InvalidInputError(
            f"got {len(weights)} weights for {len(run_list)} runs", field="weights"
        )
    if method == "rrf":
        scorer, parameter = fusion_methods.get("rrf"), rrf_k
    elif method == "interpolation":
        scorer, parameter = fusion_methods.get(normalization), 0.0
    else:
        raise _unknown_method(method)
    if depth is not None:
        run_list = [r.truncate(depth) for r in run_list]
    query_ids, doc_ids, values = [], [], []
    for run, weight in zip(run_list, weights, strict=True):
        q, d, _ = run.to_arrays()
        query_ids.append(q)
        doc_ids.append(d)
        values.append(weight * scorer(run, parameter))
    fused = _sum_by_pair(np.concatenate(query_ids), np.concatenate(doc_ids), np.concatenate(values))
    return fused.truncate(k) if k is not None else fused


def fusion_method(name: str) -> FusionMethod:
    """``name`` checked to be a fusion method (``"rrf"`` or ``"interpolation"``)."""
    if name not in get_args(FusionMethod):
        raise _unknown_method(name)
    return cast(FusionMethod, name)


def _unknown_method(method: str) -> InvalidInputError:
    return InvalidInputError(
        f"unknown fusion method {method!r}: use 'rrf' or 'interpolation'", field="method"
    )


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
