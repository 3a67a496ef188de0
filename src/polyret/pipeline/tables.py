"""The per-language table a run prints: a row per language (and ``all``), a column per system."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table


def systems_table(evaluation: Mapping[str, Any], metric: str, title: str = "") -> Table:
    """One metric of an ``evaluation.json`` (:func:`polyret.report.summarize`) as a table.

    Example:
        >>> evaluation = {"systems": {
        ...     "bm25": {"mean": {"ndcg@10": 0.5}, "by_lang": {"de": {"ndcg@10": 0.5}},
        ...              "num_queries": {"de": 2, "all": 2}}}}
        >>> systems_table(evaluation, "ndcg@10").row_count
        2
    """
    systems: Mapping[str, Any] = evaluation["systems"]
    table = Table(title=title)
    table.add_column("lang")
    table.add_column("queries", justify="right")
    for name in systems:
        table.add_column(name, justify="right")
    first = next(iter(systems.values()))
    groups = [*first["by_lang"], "all"]
    for group in groups:
        cells = []
        for system in systems.values():
            means = system["mean"] if group == "all" else system["by_lang"].get(group, {})
            cells.append(f"{means[metric]:.4f}" if metric in means else "-")
        count = str(first["num_queries"].get(group, 0))
        table.add_row(group, count, *cells, end_section=len(groups) > 1 and group == groups[-2])
    return table
