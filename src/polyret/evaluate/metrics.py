"""Rank metrics with trec_eval semantics, computed for every query at once.

The five families match trec_eval's measures (and so pytrec_eval and ir_measures):

- ``ndcg@k`` (trec_eval ``ndcg_cut_k``): ``DCG@k / IDCG@k`` with gain = relevance level
  (negative levels count 0) and discount ``log2(rank + 1)``; the ideal ranking sorts all judged
  documents of the query by gain and is cut at ``k``.
- ``recall@k`` (``recall_k``): relevant documents in the top ``k`` / relevant documents judged.
- ``mrr@k`` (``recip_rank`` on the run cut at ``k``): ``1 / rank`` of the first relevant
  document in the top ``k``, 0 if there is none.
- ``map@k`` (``map_cut_k``): sum of the precision at each relevant rank ``<= k``, divided by
  the number of relevant documents judged.
- ``p@k`` (``P_k``): relevant documents in the top ``k`` / ``k``, even when fewer were retrieved.

"Relevant" means relevance ``>= relevance_level`` (trec_eval's ``-l``, default 1); nDCG uses
the graded levels and ignores ``relevance_level``, as trec_eval does. Without ``@k``,
``ndcg``, ``recall``, ``mrr`` and ``map`` use the whole ranked list (trec_eval's ``ndcg``,
``recall``, ``recip_rank``, ``map``). Documents are ranked in trec_eval's order (score
descending, ties by document id descending), which :class:`~polyret.types.Run` already keeps.

The computation never loops over documents or queries in Python: document ids become integer
keys, the relevance of every run entry is fetched with one ``searchsorted``, and per-query
sums are weighted ``bincount``\\ s.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from polyret.errors import InvalidInputError
from polyret.types import Qrels, Run

logger = logging.getLogger(__name__)

Missing = Literal["zero", "skip"]

_FAMILIES = ("ndcg", "recall", "mrr", "map", "p")
_ALIASES = {
    "ndcg": "ndcg",
    "ndcg_cut": "ndcg",
    "recall": "recall",
    "r": "recall",
    "mrr": "mrr",
    "rr": "mrr",
    "recip_rank": "mrr",
    "map": "map",
    "ap": "map",
    "map_cut": "map",
    "p": "p",
    "precision": "p",
}
_NEEDS_K = frozenset({"p"})
_NAME = re.compile(r"^(?P<name>[a-z_]+?)(?:[@_.](?P<k>\d+))?$")
VALID_METRICS = "ndcg@k, recall@k, mrr@k, map@k, p@k (also nDCG@k, R@k, RR@k, AP@k, P@k)"


@dataclass(frozen=True, slots=True, order=True)
class Metric:
    """One rank metric: a family (``ndcg``, ``recall``, ``mrr``, ``map``, ``p``) and a cutoff.

    Example:
        >>> Metric.parse("nDCG@10"), str(Metric.parse("RR@10")), str(Metric("map"))
        (Metric(name='ndcg', k=10), 'mrr@10', 'map')
    """

    name: str
    k: int | None = None

    def __post_init__(self) -> None:
        if self.name not in _FAMILIES:
            raise InvalidInputError(f"unknown metric {self.name!r}; valid metrics: {VALID_METRICS}")
        if self.k is not None and self.k < 1:
            raise InvalidInputError(
                f"metric cutoff must be >= 1, got {self.k}; valid metrics: {VALID_METRICS}"
            )
        if self.k is None and self.name in _NEEDS_K:
            raise InvalidInputError(
                f"metric {self.name!r} needs a cutoff, e.g. '{self.name}@10'; "
                f"valid metrics: {VALID_METRICS}"
            )

    def __str__(self) -> str:
        return self.name if self.k is None else f"{self.name}@{self.k}"

    @classmethod
    def parse(cls, spec: str | Metric) -> Metric:
        """Parse ``"ndcg@10"``, ``"R@100"``, ``"ndcg_cut_10"``, ``"map"``, ... (case-insensitive).

        Raises:
            InvalidInputError: for an unknown name or a bad cutoff, listing the valid names.
        """
        if isinstance(spec, Metric):
            return spec
        match = _NAME.match(spec.strip().lower())
        family = _ALIASES.get(match["name"]) if match else None
        if match is None or family is None:
            raise InvalidInputError(f"unknown metric {spec!r}; valid metrics: {VALID_METRICS}")
        return cls(family, None if match["k"] is None else int(match["k"]))


def parse_metrics(specs: str | Metric | Iterable[str | Metric]) -> tuple[Metric, ...]:
    """Parse one metric, a comma-separated string of them, or an iterable (duplicates dropped).

    Example:
        >>> [str(m) for m in parse_metrics("ndcg@10, R@100,ndcg@10")]
        ['ndcg@10', 'recall@100']
    """
    if isinstance(specs, Metric):
        items: list[str | Metric] = [specs]
    elif isinstance(specs, str):
        items = [s for s in specs.split(",") if s.strip()]
    else:
        items = list(specs)
    metrics = tuple(dict.fromkeys(Metric.parse(s) for s in items))
    if not metrics:
        raise InvalidInputError(f"no metric given; valid metrics: {VALID_METRICS}")
    return metrics


@dataclass(frozen=True, eq=False)
class QueryScores:
    """Per-query metric values: ``values[i, j]`` is metric ``j`` of query ``query_ids[i]``."""

    query_ids: np.ndarray
    metrics: tuple[Metric, ...]
    values: np.ndarray

    def to_dict(self) -> dict[str, dict[str, float]]:
        """``{query_id: {metric: value}}``."""
        names = [str(m) for m in self.metrics]
        return {
            q: dict(zip(names, row, strict=True))
            for q, row in zip(self.query_ids.tolist(), self.values.tolist(), strict=True)
        }


def compute_metrics(
    run: Run | Mapping[str, Mapping[str, float]],
    qrels: Qrels | Mapping[str, Mapping[str, int]],
    metrics: str | Metric | Iterable[str | Metric],
    *,
    relevance_level: int = 1,
    missing: Missing = "zero",
) -> QueryScores:
    """Score every query that has qrels with every metric, vectorized over all queries.

    Args:
        run: Ranked lists (a :class:`Run` or ``{query_id: {doc_id: score}}``).
        qrels: Judgments (a :class:`Qrels` or ``{query_id: {doc_id: relevance}}``).
        metrics: Metric names (``"ndcg@10"``, ...) or :class:`Metric` objects.
        relevance_level: Lowest relevance that counts as relevant for the binary metrics.
        missing: What to do with a query that has qrels but is absent from the run:
            ``"zero"`` scores it 0 on every metric (``trec_eval -c``), ``"skip"`` leaves it
            out. Queries in the run without qrels are always ignored; queries whose qrels hold
            no relevant document are kept and score 0, as in trec_eval.

    Returns:
        The scores, one row per evaluated query in qrels order.

    Example:
        >>> scores = compute_metrics({"q1": {"d1": 2.0, "d2": 1.0}}, {"q1": {"d2": 1}},
        ...                          ["p@2", "mrr@10", "ndcg@10"])
        >>> scores.to_dict()["q1"] == {"p@2": 1 / 2, "mrr@10": 1 / 2, "ndcg@10": 1 / np.log2(3)}
        True
    """
    parsed = parse_metrics(metrics)
    if missing not in ("zero", "skip"):
        raise InvalidInputError(f"missing must be 'zero' or 'skip', got {missing!r}")
    run = Run.from_dict(run)
    qrels = Qrels.from_dict(qrels)
    query_ids = qrels.query_ids
    if missing == "skip":
        query_ids = query_ids[_positions(query_ids, run.query_ids) >= 0]
    cutoffs = [m.k for m in parsed]
    max_k = None if any(k is None for k in cutoffs) else max(k for k in cutoffs if k is not None)
    entries = _RankedEntries.build(run, qrels, query_ids, max_k)
    judged = _JudgedQueries.build(qrels, query_ids, relevance_level)
    values = np.zeros((len(query_ids), len(parsed)))
    for column, metric in enumerate(parsed):
        function = _METRIC_FUNCTIONS[metric.name]
        values[:, column] = function(entries, judged, metric.k, relevance_level)
    values.setflags(write=False)
    return QueryScores(query_ids, parsed, values)


# internals ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RankedEntries:
    """The (possibly truncated) run entries of the evaluated queries, in rank order.

    ``query[i]`` is the evaluated query row, ``rank[i]`` the 0-based rank and ``relevance[i]``
    the judged relevance (0 when unjudged) of entry ``i``; entries of one query are contiguous.
    """

    num_queries: int
    query: np.ndarray
    rank: np.ndarray
    relevance: np.ndarray

    @classmethod
    def build(
        cls, run: Run, qrels: Qrels, query_ids: np.ndarray, max_k: int | None
    ) -> _RankedEntries:
        counts = run.counts()
        offsets = run._offsets
        run_row_to_query = _positions(run.query_ids, query_ids)
        query = np.repeat(run_row_to_query, counts)
        rank = np.arange(run.num_entries) - np.repeat(offsets[:-1], counts)
        keep = query >= 0
        if max_k is not None:
            keep &= rank < max_k
        if keep.all():
            doc_ids = run._doc_ids
        else:
            take = np.flatnonzero(keep)
            query, rank, doc_ids = query[take], rank[take], run._doc_ids[take]

        # integer keys: (evaluated query row, code of the doc id among the judged doc ids)
        q_query = np.repeat(_positions(qrels.query_ids, query_ids), qrels.counts())
        q_judged = q_query >= 0
        encoded = pa.array(qrels._doc_ids, pa.string()).dictionary_encode()
        q_codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        num_codes = max(len(encoded.dictionary), 1)
        q_keys = (q_query * num_codes + q_codes)[q_judged]
        q_values = qrels._values[q_judged]
        order = np.argsort(q_keys, kind="stable")
        q_keys, q_values = q_keys[order], q_values[order]

        relevance = np.zeros(len(query), dtype=np.int64)
        if len(q_keys) and len(doc_ids):
            codes = pc.index_in(pa.array(doc_ids, pa.string()), value_set=encoded.dictionary)
            codes = codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            candidates = np.flatnonzero(codes >= 0)  # documents judged for some query
            keys = query[candidates] * num_codes + codes[candidates]
            where = np.minimum(np.searchsorted(q_keys, keys), len(q_keys) - 1)
            found = q_keys[where] == keys
            relevance[candidates[found]] = q_values[where[found]]
        return cls(len(query_ids), query, rank, relevance)


@dataclass(frozen=True)
class _JudgedQueries:
    """Per evaluated query: number of relevant documents and the ideal gains in rank order."""

    num_relevant: np.ndarray
    ideal_query: np.ndarray
    ideal_rank: np.ndarray
    ideal_gain: np.ndarray

    @classmethod
    def build(cls, qrels: Qrels, query_ids: np.ndarray, relevance_level: int) -> _JudgedQueries:
        query = np.repeat(_positions(qrels.query_ids, query_ids), qrels.counts())
        values = qrels._values
        keep = query >= 0
        query, values = query[keep], values[keep]
        num_relevant = np.bincount(query[values >= relevance_level], minlength=len(query_ids))
        positive = values > 0
        query, gain = query[positive], values[positive].astype(np.float64)
        order = np.lexsort((-gain, query))
        query, gain = query[order], gain[order]
        starts = np.searchsorted(query, query, side="left")
        rank = np.arange(len(query)) - starts
        return cls(num_relevant, query, rank, gain)


def _positions(values: np.ndarray, value_set: np.ndarray) -> np.ndarray:
    """Index of each of ``values`` in ``value_set`` (-1 when absent), hashed in Arrow."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    found = pc.index_in(pa.array(values, pa.string()), value_set=pa.array(value_set, pa.string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _per_query_sum(query: np.ndarray, weights: np.ndarray, num_queries: int) -> np.ndarray:
    return np.bincount(query, weights=weights, minlength=num_queries).astype(np.float64)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _within(entries: _RankedEntries, k: int | None) -> np.ndarray:
    return np.ones(len(entries.rank), dtype=bool) if k is None else entries.rank < k


def _hits(entries: _RankedEntries, k: int | None, level: int) -> np.ndarray:
    mask = _within(entries, k) & (entries.relevance >= level)
    return _per_query_sum(entries.query[mask], np.ones(int(mask.sum())), entries.num_queries)


def _precision(
    entries: _RankedEntries, judged: _JudgedQueries, k: int | None, level: int
) -> np.ndarray:
    cutoff = k if k is not None else max(int(entries.rank.max(initial=0)) + 1, 1)
    return _hits(entries, k, level) / cutoff


def _recall(
    entries: _RankedEntries, judged: _JudgedQueries, k: int | None, level: int
) -> np.ndarray:
    return _safe_divide(_hits(entries, k, level), judged.num_relevant)


def _reciprocal_rank(
    entries: _RankedEntries, judged: _JudgedQueries, k: int | None, level: int
) -> np.ndarray:
    mask = _within(entries, k) & (entries.relevance >= level)
    # entries of a query are contiguous and in rank order: the first hit is the best rank
    queries, first = np.unique(entries.query[mask], return_index=True)
    out = np.zeros(entries.num_queries)
    out[queries] = 1.0 / (entries.rank[mask][first] + 1)
    return out


def _average_precision(
    entries: _RankedEntries, judged: _JudgedQueries, k: int | None, level: int
) -> np.ndarray:
    relevant = (entries.relevance >= level).astype(np.int64)
    running = np.cumsum(relevant)
    segment = np.cumsum(entries.rank == 0) - 1  # each query's entries start at rank 0
    base = (running - relevant)[entries.rank == 0]
    hits_so_far = running - base[segment] if len(segment) else running
    mask = _within(entries, k) & (relevant == 1)
    precision = hits_so_far[mask] / (entries.rank[mask] + 1)
    return _safe_divide(
        _per_query_sum(entries.query[mask], precision, entries.num_queries), judged.num_relevant
    )


def _ndcg(entries: _RankedEntries, judged: _JudgedQueries, k: int | None, level: int) -> np.ndarray:
    mask = _within(entries, k) & (entries.relevance > 0)
    gains = entries.relevance[mask] / np.log2(entries.rank[mask] + 2.0)
    dcg = _per_query_sum(entries.query[mask], gains, entries.num_queries)
    ideal_mask = np.ones(len(judged.ideal_rank), dtype=bool) if k is None else judged.ideal_rank < k
    ideal = judged.ideal_gain[ideal_mask] / np.log2(judged.ideal_rank[ideal_mask] + 2.0)
    idcg = _per_query_sum(judged.ideal_query[ideal_mask], ideal, entries.num_queries)
    return _safe_divide(dcg, idcg)


_METRIC_FUNCTIONS: dict[str, Any] = {
    "ndcg": _ndcg,
    "recall": _recall,
    "mrr": _reciprocal_rank,
    "map": _average_precision,
    "p": _precision,
}


def metric_names(metrics: Sequence[Metric]) -> list[str]:
    """Canonical names of ``metrics`` (``"ndcg@10"``, ...)."""
    return [str(m) for m in metrics]
