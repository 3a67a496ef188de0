"""The per-language table a run prints: a row per language (and ``all``), a column per system."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

MARKERS = {True: "▲", False: "▼"}
"""Significantly better / worse than the baseline (the evaluation's corrected test)."""


def systems_table(evaluation: Mapping[str, Any], metric: str, title: str = "") -> Table:
    """One metric of an ``evaluation.json`` (:func:`polyret.report.summarize`) as a table;
    a value significantly above (below) the baseline's is marked ▲ (▼), and the caption
    names the baseline and the test.

    Example:
        >>> evaluation = {"systems": {
        ...     "bm25": {"mean": {"ndcg@10": 0.5}, "by_lang": {"de": {"ndcg@10": 0.5}},
        ...              "num_queries": {"de": 2, "all": 2}}}}
        >>> systems_table(evaluation, "ndcg@10").row_count
        2
    """
    systems: Mapping[str, Any] = evaluation["systems"]
    tests = evaluation.get("test") or {}
    caption = None
    if evaluation.get("significance"):
        caption = (
            f"▲/▼ significantly better/worse than {evaluation['baseline']} "
            f"({tests.get('name', 'paired')} test, {tests.get('correction', 'no')} correction, "
            f"p < {tests.get('alpha', 0.05)})"
        )
    table = Table(title=title, caption=caption)
    table.add_column("lang")
    table.add_column("queries", justify="right")
    for name in systems:
        table.add_column(name, justify="right")
    first = next(iter(systems.values()))
    groups = [*first["by_lang"], "all"]
    for group in groups:
        cells = []
        for name, system in systems.items():
            means = system["mean"] if group == "all" else system["by_lang"].get(group, {})
            cell = f"{means[metric]:.4f}" if metric in means else "-"
            cells.append(cell + _marker(evaluation, name, group, metric))
        count = str(first["num_queries"].get(group, 0))
        table.add_row(group, count, *cells, end_section=len(groups) > 1 and group == groups[-2])
    return table


def _marker(evaluation: Mapping[str, Any], system: str, group: str, metric: str) -> str:
    """``▲``/``▼`` when ``system`` differs significantly from the baseline in ``group``."""
    if group == "all":
        tests = evaluation.get("significance", {}).get(system, {})
    else:
        tests = evaluation.get("significance_by_lang", {}).get(system, {}).get(group, {})
    test = tests.get(metric)
    if not test or not test.get("significant"):
        return " "
    return MARKERS[test["delta"] > 0]
