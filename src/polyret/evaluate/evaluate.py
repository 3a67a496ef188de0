"""``evaluate(run, qrels, metrics, by="lang") -> Report``: the evaluation verb."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from polyret.errors import InvalidInputError
from polyret.evaluate.metrics import Metric, Missing, compute_metrics, metric_names
from polyret.evaluate.report import Report
from polyret.types import UNKNOWN_LANG, Qrels, Queries, Run

logger = logging.getLogger(__name__)

DEFAULT_METRICS = ("ndcg@10", "recall@100", "mrr@10", "map@100")
"""Metrics used when none are named."""

By = Literal["lang"] | None
QueryLangs = Queries | Mapping[str, str]


def evaluate(
    run: Run | Mapping[str, Mapping[str, float]],
    qrels: Qrels | Mapping[str, Mapping[str, int]],
    metrics: str | Metric | Iterable[str | Metric] = DEFAULT_METRICS,
    *,
    queries: QueryLangs | None = None,
    by: By = "lang",
    missing: Missing = "zero",
    relevance_level: int = 1,
) -> Report:
    """Evaluate a run against qrels, overall and per query language.

    The evaluated queries are those that have qrels. A query with qrels that the run lacks
    scores 0 on every metric when ``missing="zero"`` (the default, like ``trec_eval -c``) or
    is left out when ``missing="skip"``; queries in the run without qrels are ignored.
    Metrics follow trec_eval (see :mod:`polyret.evaluate.metrics`).

    Args:
        run: Ranked lists (a :class:`~polyret.types.Run` or dict-of-dicts).
        qrels: Judgments (a :class:`~polyret.types.Qrels` or dict-of-dicts).
        metrics: Metric names, e.g. ``["ndcg@10", "recall@100"]`` or ``"ndcg@10,mrr@10"``.
        queries: Where query languages come from: a :class:`~polyret.types.Queries` or a
            ``{query_id: lang}`` mapping; queries not found get ``"und"``.
        by: ``"lang"`` to average per language as well as overall, ``None`` for overall only.
        missing: ``"zero"`` or ``"skip"`` for queries with qrels but no ranked list.
        relevance_level: Lowest relevance counted as relevant by the binary metrics.

    Returns:
        A :class:`Report` with per-query values, means and query counts per group.

    Raises:
        InvalidInputError: for an unknown metric or option, or when no query can be evaluated.

    Example:
        >>> run = {"q1": {"d1": 0.9, "d2": 0.8}, "q2": {"d3": 0.7, "d4": 0.1}}
        >>> qrels = {"q1": {"d2": 1}, "q2": {"d3": 1}}
        >>> report = evaluate(run, qrels, ["mrr@10"], queries={"q1": "de", "q2": "sw"})
        >>> report.by_lang, report.mean
        ({'de': {'mrr@10': 0.5}, 'sw': {'mrr@10': 1.0}}, {'mrr@10': 0.75})
    """
    if by not in ("lang", None):
        raise InvalidInputError(f"by must be 'lang' or None, got {by!r}")
    started = time.perf_counter()
    scores = compute_metrics(run, qrels, metrics, relevance_level=relevance_level, missing=missing)
    if len(scores.query_ids) == 0:
        reason = "the qrels are empty" if missing == "zero" else "no query with qrels is in the run"
        raise InvalidInputError(f"no query to evaluate: {reason}")
    langs = query_langs(scores.query_ids, queries)
    logger.debug(
        "evaluated %d queries x %d metrics in %.3f s",
        len(scores.query_ids),
        len(scores.metrics),
        time.perf_counter() - started,
    )
    return Report(
        tuple(metric_names(scores.metrics)), scores.query_ids, langs, np.array(scores.values), by=by
    )


def query_langs(query_ids: np.ndarray, queries: QueryLangs | None) -> np.ndarray:
    """Language of each of ``query_ids`` from ``queries`` (``"und"`` when unknown).

    Example:
        >>> query_langs(np.array(["q1", "q2"], dtype=object), {"q1": "fi"}).tolist()
        ['fi', 'und']
    """
    if queries is None:
        return np.full(len(query_ids), UNKNOWN_LANG, dtype=object)
    if isinstance(queries, Queries):
        ids = queries.table.column("id").combine_chunks()
        langs = queries.table.column("lang").combine_chunks()
    else:
        ids = pa.array(list(queries.keys()), pa.string())
        langs = pa.array(list(queries.values()), pa.string())
    rows = pc.index_in(pa.array(query_ids, pa.string()), value_set=ids)
    found = pc.take(langs, rows).fill_null(UNKNOWN_LANG)
    return np.asarray(found.to_pylist(), dtype=object)
