"""What :func:`~polyret.evaluate.evaluate` returns: per-query scores and means by language."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
from rich.table import Table

ALL = "all"
"""Name of the group holding every evaluated query."""


@dataclass(frozen=True, eq=False)
class Report:
    """Per-query metric values and their means, overall and per language.

    Attributes:
        metrics: Canonical metric names (``"ndcg@10"``, ...), the columns of :attr:`scores`.
        query_ids: Evaluated query ids, the rows of :attr:`scores`.
        langs: Language of each evaluated query (``"und"`` when unknown).
        scores: ``[num_queries, num_metrics]`` read-only array of per-query values.
        by: ``"lang"`` when means are split by language, ``None`` for the overall mean only.

    Example:
        >>> report = Report(("p@1",), np.array(["q1", "q2"], dtype=object),
        ...                 np.array(["de", "sw"], dtype=object), np.array([[1.0], [0.0]]))
        >>> report.mean, report.by_lang["sw"], report.num_queries
        ({'p@1': 0.5}, {'p@1': 0.0}, {'de': 1, 'sw': 1, 'all': 2})
    """

    metrics: tuple[str, ...]
    query_ids: np.ndarray
    langs: np.ndarray
    scores: np.ndarray
    by: str | None = "lang"

    def __post_init__(self) -> None:
        for array in (self.query_ids, self.langs, self.scores):
            array.setflags(write=False)

    # aggregates ------------------------------------------------------------------------------
    @cached_property
    def mean(self) -> dict[str, float]:
        """Mean of every metric over all evaluated queries."""
        return _means(self.metrics, self.scores)

    @cached_property
    def by_lang(self) -> dict[str, dict[str, float]]:
        """``{lang: {metric: mean}}`` per language, sorted (empty when ``by`` is None)."""
        if self.by is None:
            return {}
        return {
            lang: _means(self.metrics, self.scores[self.langs == lang]) for lang in self.languages
        }

    @cached_property
    def languages(self) -> list[str]:
        """Languages of the evaluated queries, sorted."""
        return sorted(set(self.langs.tolist()))

    @cached_property
    def num_queries(self) -> dict[str, int]:
        """Number of evaluated queries per group (languages, then ``"all"``)."""
        counts = (
            {}
            if self.by is None
            else {lang: int((self.langs == lang).sum()) for lang in self.languages}
        )
        counts[ALL] = len(self.query_ids)
        return counts

    @cached_property
    def per_query(self) -> dict[str, dict[str, float]]:
        """``{query_id: {metric: value}}`` (a dict-of-dicts, like a Run)."""
        return {
            q: dict(zip(self.metrics, row, strict=True))
            for q, row in zip(self.query_ids.tolist(), self.scores.tolist(), strict=True)
        }

    def groups(self) -> dict[str, dict[str, float]]:
        """The table rows: ``{group: {metric: mean}}`` for each language, then ``"all"``."""
        return {**self.by_lang, ALL: self.mean}

    # renderings ------------------------------------------------------------------------------
    def to_arrow(self) -> pa.Table:
        """Per-query table with columns ``query_id``, ``lang`` and one per metric."""
        columns: dict[str, Any] = {
            "query_id": pa.array(self.query_ids, pa.string()),
            "lang": pa.array(self.langs, pa.string()),
        }
        for j, name in enumerate(self.metrics):
            columns[name] = pa.array(self.scores[:, j])
        return pa.table(columns)

    def to_dict(self, *, per_query: bool = False) -> dict[str, Any]:
        """Plain data: metrics, means per group, query counts and, optionally, per-query values."""
        out: dict[str, Any] = {
            "metrics": list(self.metrics),
            "by": self.by,
            "mean": self.mean,
            "by_lang": self.by_lang,
            "num_queries": self.num_queries,
        }
        if per_query:
            out["per_query"] = self.per_query
        return out

    def to_json(self, *, per_query: bool = False, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(per_query=per_query), indent=indent, ensure_ascii=False)

    def to_markdown(self, digits: int = 4) -> str:
        """A Markdown table: one row per language plus ``all``, one column per metric."""
        rows = [
            [group, str(self.num_queries[group]), *(_fmt(v[m], digits) for m in self.metrics)]
            for group, v in self.groups().items()
        ]
        return markdown_table(["lang", "queries", *self.metrics], rows)

    def to_rich(self, digits: int = 4, title: str | None = None) -> Table:
        """A rich Table: one row per language plus ``all``, one column per metric."""
        table = Table(title=title)
        table.add_column("lang")
        table.add_column("queries", justify="right")
        for name in self.metrics:
            table.add_column(name, justify="right")
        for group, values in self.by_lang.items():
            table.add_row(
                group,
                str(self.num_queries[group]),
                *(_fmt(values[m], digits) for m in self.metrics),
            )
        if self.by_lang:
            table.add_section()
        table.add_row(
            ALL,
            str(self.num_queries[ALL]),
            *(_fmt(self.mean[m], digits) for m in self.metrics),
            style="bold",
        )
        return table


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A GitHub-flavoured Markdown table (the first ``left`` columns left-aligned, others right)."""
    align = [":---" if i < left else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def _means(metrics: Sequence[str], scores: np.ndarray) -> dict[str, float]:
    if len(scores) == 0:
        return dict.fromkeys(metrics, 0.0)
    return dict(zip(metrics, scores.mean(axis=0).tolist(), strict=True))
