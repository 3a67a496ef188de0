"""``compare(runs, qrels, metrics) -> Comparison``: several systems against a baseline."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from rich.table import Table

from polyret.errors import InvalidInputError
from polyret.evaluate.evaluate import DEFAULT_METRICS, By, QueryLangs, evaluate
from polyret.evaluate.metrics import Metric
from polyret.evaluate.report import ALL, Report, markdown_table
from polyret.evaluate.significance import (
    CORRECTIONS,
    Correction,
    SignificanceTest,
    adjust_p_values,
    get_test,
)
from polyret.types import Qrels, Run

MARKER = "*"
"""Appended to a delta whose corrected p-value is below ``alpha``."""


@dataclass(frozen=True)
class ComparisonRow:
    """One system on one metric (in one language group), against the baseline.

    ``p_value`` and ``p_corrected`` are NaN for the baseline itself and for groups with fewer
    than two queries (no test).
    """

    group: str
    system: str
    metric: str
    mean: float
    baseline_mean: float
    delta: float
    p_value: float
    p_corrected: float
    significant: bool


@dataclass(frozen=True, eq=False)
class Comparison:
    """Means, deltas to the baseline, raw and corrected p-values of several systems.

    Attributes:
        systems: System names, baseline first.
        baseline: The system every other one is tested against.
        metrics: Canonical metric names.
        groups: Language groups (sorted) then ``"all"``; just ``("all",)`` when ``by`` is None.
        num_queries: Number of queries per group.
        test: Name of the significance test.
        correction: Multiple-comparison correction applied across every test performed.
        alpha: Significance level for :attr:`ComparisonRow.significant`.
        rows: One row per (group, system, metric).
        reports: The :class:`Report` of every system.
    """

    systems: tuple[str, ...]
    baseline: str
    metrics: tuple[str, ...]
    groups: tuple[str, ...]
    num_queries: Mapping[str, int]
    test: str
    correction: str
    alpha: float
    rows: tuple[ComparisonRow, ...]
    reports: Mapping[str, Report]

    def row(self, system: str, metric: str, group: str = ALL) -> ComparisonRow:
        """The row of ``system`` on ``metric`` in ``group``."""
        for row in self.rows:
            if (row.system, row.metric, row.group) == (system, metric, group):
                return row
        raise KeyError((system, metric, group))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (NaN p-values become ``None``)."""
        rows = [
            {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in asdict(row).items()
            }
            for row in self.rows
        ]
        return {
            "baseline": self.baseline,
            "systems": list(self.systems),
            "metrics": list(self.metrics),
            "groups": list(self.groups),
            "num_queries": dict(self.num_queries),
            "test": self.test,
            "correction": self.correction,
            "alpha": self.alpha,
            "rows": rows,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def caption(self) -> str:
        """One line saying what the markers mean."""
        return (
            f"{MARKER}: p < {self.alpha} vs {self.baseline!r} "
            f"(paired {self.test} over queries, {self.correction} correction)"
        )

    def to_markdown(self, digits: int = 4) -> str:
        """A Markdown table: one row per (language,) system; cells ``mean (delta)*``."""
        by_lang = len(self.groups) > 1
        header = [*(["lang"] if by_lang else []), "system", *self.metrics]
        rows = [
            [*([group] if by_lang else []), system, *cells]
            for group, system, cells in self._cells(digits)
        ]
        return markdown_table(header, rows, left=2 if by_lang else 1) + f"\n{self.caption()}\n"

    def to_rich(self, digits: int = 4, title: str | None = None) -> Table:
        """A rich Table: one row per (language,) system; cells ``mean (delta)*``."""
        table = Table(title=title, caption=self.caption())
        if len(self.groups) > 1:
            table.add_column("lang")
        table.add_column("system")
        for name in self.metrics:
            table.add_column(name, justify="right")
        previous = None
        for group, system, cells in self._cells(digits):
            if previous is not None and group != previous:
                table.add_section()
            previous = group
            table.add_row(
                *([group] if len(self.groups) > 1 else []),
                system,
                *cells,
                style="dim" if system == self.baseline else None,
            )
        return table

    def _cells(self, digits: int) -> list[tuple[str, str, list[str]]]:
        lookup = {(r.group, r.system, r.metric): r for r in self.rows}
        out = []
        for group in self.groups:
            for system in self.systems:
                cells = []
                for metric in self.metrics:
                    row = lookup[group, system, metric]
                    cell = f"{row.mean:.{digits}f}"
                    if system != self.baseline:
                        cell += f" ({row.delta:+.{digits}f}){MARKER if row.significant else ''}"
                    cells.append(cell)
                out.append((group, system, cells))
        return out


def compare(
    runs: Mapping[str, Run | Mapping[str, Mapping[str, float]]],
    qrels: Qrels | Mapping[str, Mapping[str, int]],
    metrics: str | Metric | Iterable[str | Metric] = DEFAULT_METRICS,
    *,
    baseline: str | None = None,
    test: str | SignificanceTest = "randomization",
    correction: Correction = "holm",
    alpha: float = 0.05,
    queries: QueryLangs | None = None,
    by: By = None,
) -> Comparison:
    """Compare systems to a baseline with paired significance tests over queries.

    Every run is evaluated on the queries of ``qrels`` (a query a run lacks scores 0, as in
    :func:`~polyret.evaluate.evaluate` with ``missing="zero"``), so all systems are paired on
    the same queries. Each non-baseline system is tested against the baseline on every metric
    (and, with ``by="lang"``, within every language too); the p-values of one group (a
    language, or all queries) form one family for the correction.

    Args:
        runs: ``{system name: run}``; at least two.
        qrels: Judgments shared by all systems.
        metrics: Metric names, e.g. ``["ndcg@10", "recall@100"]``.
        baseline: Name of the baseline system (default: the first of ``runs``).
        test: ``"randomization"`` (10,000 sign flips, seed 0), ``"t-test"``, or a test object
            such as ``RandomizationTest(permutations=100_000, seed=1)``.
        correction: ``"holm"`` (Holm-Bonferroni), ``"bonferroni"`` or ``"none"``.
        alpha: Significance level for the markers.
        queries: Query languages (:class:`~polyret.types.Queries` or ``{query_id: lang}``).
        by: ``"lang"`` to also compare within each language, ``None`` for overall only.

    Returns:
        A :class:`Comparison`.

    Raises:
        InvalidInputError: for fewer than two runs, an unknown baseline, test or correction.

    Example:
        >>> qrels = {f"q{i}": {"good": 1} for i in range(20)}
        >>> runs = {"bad": {q: {"bad": 2.0, "good": 1.0} for q in qrels},
        ...         "good": {q: {"good": 2.0, "bad": 1.0} for q in qrels}}
        >>> result = compare(runs, qrels, ["mrr@10"], test="t-test")
        >>> row = result.row("good", "mrr@10")
        >>> row.delta, row.significant
        (0.5, True)

    References:
        Smucker, Allan & Carterette, "A Comparison of Statistical Significance Tests for
        Information Retrieval Evaluation", CIKM 2007; Holm, "A Simple Sequentially Rejective
        Multiple Test Procedure", Scandinavian Journal of Statistics 6(2), 1979.
    """
    if len(runs) < 2:
        raise InvalidInputError(f"compare needs at least two runs, got {len(runs)}")
    systems = list(runs)
    baseline = systems[0] if baseline is None else baseline
    if baseline not in runs:
        raise InvalidInputError(f"baseline {baseline!r} is not one of the runs: {systems}")
    if correction not in CORRECTIONS:
        raise InvalidInputError(f"unknown correction {correction!r}; valid: {CORRECTIONS}")
    if not 0 < alpha < 1:
        raise InvalidInputError(f"alpha must be in (0, 1), got {alpha}")
    tester = get_test(test)
    systems = [baseline, *(s for s in systems if s != baseline)]
    qrels = Qrels.from_dict(qrels)
    reports = {s: evaluate(runs[s], qrels, metrics, queries=queries, by=by) for s in systems}
    base = reports[baseline]
    groups = [*base.by_lang, ALL]
    masks = {g: np.ones(len(base.query_ids), bool) if g == ALL else base.langs == g for g in groups}

    shape = (len(groups), len(systems), len(base.metrics))
    means, p_raw = np.zeros(shape), np.full(shape, np.nan)
    for gi, group in enumerate(groups):
        for si, system in enumerate(systems):
            scores = reports[system].scores[masks[group]]
            means[gi, si] = scores.mean(axis=0) if len(scores) else 0.0
            if system != baseline and len(scores) >= 2:
                p_raw[gi, si] = tester(scores, base.scores[masks[group]])
    # one family per group: a language's table answers its own question (is this system
    # better than the baseline *for this language*), so its tests are corrected together
    # (every system × metric), not with every other language's
    p_adjusted = np.stack([adjust_p_values(p_raw[gi], correction) for gi in range(len(groups))])

    rows = tuple(
        ComparisonRow(
            group,
            system,
            metric,
            float(means[gi, si, mi]),
            float(means[gi, 0, mi]),
            float(means[gi, si, mi] - means[gi, 0, mi]),
            float(p_raw[gi, si, mi]),
            float(p_adjusted[gi, si, mi]),
            bool(p_adjusted[gi, si, mi] < alpha),
        )
        for gi, group in enumerate(groups)
        for si, system in enumerate(systems)
        for mi, metric in enumerate(base.metrics)
    )
    return Comparison(
        tuple(systems),
        baseline,
        base.metrics,
        tuple(groups),
        base.num_queries,
        tester.name,
        correction,
        alpha,
        rows,
        reports,
    )
