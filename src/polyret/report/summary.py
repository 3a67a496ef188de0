"""``summarize(runs, qrels, queries, config)``: the evaluation summary as plain data.

The pipeline's evaluate stage writes it as ``evaluation.json``; :func:`~polyret.report.
write_report` renders it. Every number comes from :mod:`polyret.evaluate`
(:func:`~polyret.evaluate.evaluate` for means and recall curves,
:func:`~polyret.evaluate.compare` for the paired tests): nothing is recomputed here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from polyret.errors import InvalidInputError
from polyret.evaluate import EvaluationConfig, compare, evaluate
from polyret.evaluate.comparison import Comparison
from polyret.types import Qrels, Queries, Run

FORMAT = 1
"""Version of the summary's layout (``"format"`` key)."""

RECALL_DEPTHS = (1, 2, 5, 10, 20, 50, 100)
"""The cutoffs of the recall@k curves."""

_ALL = "all"


def summarize(
    runs: Mapping[str, Run | Mapping[str, Mapping[str, float]]],
    qrels: Qrels | Mapping[str, Mapping[str, int]],
    queries: Queries | Mapping[str, str] | None,
    config: EvaluationConfig,
) -> dict[str, Any]:
    """Means per language, recall@k curves and significance vs a baseline, as JSON-able data.

    Significance is ``config``'s paired test over queries (by default a randomization test,
    ``permutations`` sign flips, seeded) with its correction (Holm's). ``significance`` holds
    the overall tests, corrected over every (system, metric) pair; ``significance_by_lang``
    holds the tests within each language, corrected within that language over every
    (system, metric) test. In both, ``p_value`` is the corrected p-value, ``p_raw`` the
    uncorrected one and ``significant`` is ``p_value < alpha``; a group with fewer than two
    queries has no test (``p_value`` is ``None``, ``significant`` False).

    Args:
        runs: ``{system name: run}``; one or more.
        qrels: The judgments every system is evaluated on.
        queries: Query languages (:class:`~polyret.types.Queries` or ``{query_id: lang}``);
            ``None`` puts every query in ``"und"``.
        config: The metrics, the baseline (default: the first run) and the test.

    Returns:
        ``{"format", "metrics", "baseline", "languages", "test", "systems": {name: {"mean",
        "by_lang", "num_queries"}}, "recall_curve": {name: {lang or "all": {k: recall@k}}},
        "significance": {name: {metric: {"p_value", "p_raw", "delta", "significant"}}},
        "significance_by_lang": {name: {lang: {metric: {...}}}}}``; recall depths are string
        keys (``"10"``) so the result equals its own JSON round trip.

    Raises:
        InvalidInputError: for no runs, an unknown baseline or metric.

    Example:
        >>> qrels = {f"q{i}": {"good": 1} for i in range(6)}
        >>> runs = {"bad": {q: {"bad": 2.0, "good": 1.0} for q in qrels},
        ...         "good": {q: {"good": 2.0, "bad": 1.0} for q in qrels}}
        >>> langs = {q: "sw" if i % 2 else "fi" for i, q in enumerate(qrels)}
        >>> config = EvaluationConfig(metrics=["mrr@10"], baseline="bad")
        >>> out = summarize(runs, qrels, langs, config)
        >>> out["systems"]["good"]["by_lang"]["sw"], out["significance"]["good"]["mrr@10"]["delta"]
        ({'mrr@10': 1.0}, 0.5)
        >>> out["recall_curve"]["bad"]["all"]["1"], out["recall_curve"]["bad"]["all"]["2"]
        (0.0, 1.0)

    References:
        Smucker, Allan & Carterette, "A Comparison of Statistical Significance Tests for
        Information Retrieval Evaluation", CIKM 2007; Holm, "A Simple Sequentially Rejective
        Multiple Test Procedure", Scandinavian Journal of Statistics 6(2), 1979.
    """
    if not runs:
        raise InvalidInputError("summarize needs at least one run", field="runs")
    baseline = config.baseline or next(iter(runs))
    if baseline not in runs:
        raise InvalidInputError(
            f"baseline {baseline!r} is not one of the runs: {list(runs)}", field="baseline"
        )
    qrels = Qrels.from_dict(qrels)
    metric_list = list(config.metrics)
    test = config.significance_test()
    systems: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    recall_names = [f"recall@{k}" for k in RECALL_DEPTHS]
    for name, run in runs.items():
        report = evaluate(run, qrels, metric_list, queries=queries, by="lang")
        systems[name] = {
            "mean": report.mean,
            "by_lang": report.by_lang,
            "num_queries": report.num_queries,
        }
        recall = evaluate(run, qrels, recall_names, queries=queries, by="lang")
        curves[name] = {
            group: {str(k): values[f"recall@{k}"] for k in RECALL_DEPTHS}
            for group, values in recall.groups().items()
        }
    canonical = list(next(iter(systems.values()))["mean"])
    significance: dict[str, Any] = {}
    by_lang: dict[str, Any] = {}
    if len(runs) > 1:
        comparison = functools.partial(
            compare,
            runs,
            qrels,
            metric_list,
            baseline=baseline,
            test=test,
            correction=config.correction,
            alpha=config.alpha,
            queries=queries,
        )
        overall, within = comparison(), comparison(by="lang")
        for name in runs:
            if name == baseline:
                continue
            significance[name] = _tests(overall, name, _ALL)
            by_lang[name] = {g: _tests(within, name, g) for g in within.groups if g != _ALL}
    languages = sorted({lang for s in systems.values() for lang in s["by_lang"]})
    return {
        "format": FORMAT,
        "metrics": canonical,
        "baseline": baseline,
        "languages": languages,
        "test": {
            "name": test.name,
            "permutations": config.permutations,
            "seed": config.seed,
            "correction": config.correction,
            "alpha": config.alpha,
        },
        "systems": systems,
        "recall_curve": curves,
        "significance": significance,
        "significance_by_lang": by_lang,
    }


def _tests(comparison: Comparison, system: str, group: str) -> dict[str, dict[str, Any]]:
    out = {}
    for metric in comparison.metrics:
        row = comparison.row(system, metric, group)
        out[metric] = {
            "p_value": _number(row.p_corrected),
            "p_raw": _number(row.p_value),
            "delta": row.delta,
            "significant": row.significant,
        }
    return out


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value
