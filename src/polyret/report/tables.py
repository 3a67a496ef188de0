"""Report content as renderer-neutral tables: the HTML and the Markdown page show the same."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALL = "all"
UP, DOWN = "▲", "▼"

_NOT_METRICS = {
    "eval_loss",
    "eval_runtime",
    "eval_samples_per_second",
    "eval_steps_per_second",
    "epoch",
    "step",
}


@dataclass(frozen=True)
class Cell:
    """One table cell: its text plus how to show it.

    Attributes:
        text: The value as text.
        bold: Best in its row (or column, for the overall table).
        marker: ``"▲"``/``"▼"``: significantly better/worse than the baseline.
        note: Shown after the marker (``"p=0.003"``).
        title: Tooltip with the exact comparison (HTML only).
        numeric: Right-aligned.
    """

    text: str
    bold: bool = False
    marker: str = ""
    note: str = ""
    title: str = ""
    numeric: bool = True


@dataclass(frozen=True)
class Table:
    """A header, rows of cells, and a caption."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""


@dataclass
class EvaluationView:
    """Tables of one ``evaluation.json``."""

    metrics: list[str]
    baseline: str
    systems: list[str]
    languages: list[str]
    overall: Table
    per_language: dict[str, Table] = field(default_factory=dict)
    significance: Table | None = None
    recall: Table | None = None
    legend: str = ""


def fmt(value: float | None, digits: int = 4) -> str:
    """A metric value with ``digits`` decimals; ``–`` for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def fmt_p(p: float | None) -> str:
    """A p-value: ``p=0.003``, ``p<0.001``, ``p=n/a`` when there was no test."""
    if p is None:
        return "p=n/a"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def label(text: str) -> Cell:
    """A left-aligned text cell."""
    return Cell(text, numeric=False)


def _best(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return max(present) if present else None


def _marked(value: float | None, best: float | None, test: Mapping[str, Any] | None) -> Cell:
    bold = value is not None and best is not None and math.isclose(value, best, abs_tol=1e-12)
    if test is None:
        return Cell(fmt(value), bold=bold)
    delta, p = test.get("delta"), test.get("p_value")
    title = f"Δ {delta:+.4f} vs baseline, {fmt_p(p)} (Holm)" if delta is not None else ""
    if not test.get("significant"):
        return Cell(fmt(value), bold=bold, title=title)
    marker = UP if (delta or 0) > 0 else DOWN
    return Cell(fmt(value), bold=bold, marker=marker, note=fmt_p(p), title=title)


def evaluation_view(data: Mapping[str, Any]) -> EvaluationView:
    """Tables of an ``evaluation.json`` (:func:`~polyret.report.summarize`'s output)."""
    metrics = list(data["metrics"])
    baseline = data["baseline"]
    systems_data = data["systems"]
    systems = [baseline, *(s for s in systems_data if s != baseline)]
    significance = data.get("significance", {})
    by_lang_tests = data.get("significance_by_lang", {})
    languages = data.get("languages") or sorted(
        {lang for s in systems_data.values() for lang in s.get("by_lang", {})}
    )
    test = data.get("test", {})
    alpha = test.get("alpha", 0.05)
    legend = (
        f"{UP}/{DOWN}: significantly better/worse than the baseline {baseline!r} "
        f"(paired {test.get('name', 'randomization')} test over queries, "
        f"{test.get('correction', 'holm').capitalize()}-corrected p < {alpha}); "
        "bold: best in its row (overall table: in its column)."
    )

    # overall: systems × metrics, best per column
    columns_best = {m: _best([systems_data[s]["mean"].get(m) for s in systems]) for m in metrics}
    overall_rows = []
    for system in systems:
        mean = systems_data[system]["mean"]
        queries = systems_data[system].get("num_queries", {}).get(ALL)
        cells = [label(system + (" (baseline)" if system == baseline else ""))]
        cells.append(Cell("" if queries is None else str(queries)))
        for metric in metrics:
            tests = significance.get(system, {}).get(metric)
            cells.append(_marked(mean.get(metric), columns_best[metric], tests))
        overall_rows.append(tuple(cells))
    overall = Table(("system", "queries", *metrics), tuple(overall_rows), "All languages")

    # per language, one table per metric: rows languages + all, columns systems
    per_language = {}
    for metric in metrics:
        rows = []
        for group in [*languages, ALL]:
            values = [_group_value(systems_data[s], group, metric) for s in systems]
            best = _best(values)
            queries = systems_data[baseline].get("num_queries", {}).get(group)
            cells = [label(group), Cell("" if queries is None else str(queries))]
            for system, value in zip(systems, values, strict=True):
                if system == baseline:
                    tests = None
                elif group == ALL:
                    tests = significance.get(system, {}).get(metric)
                else:
                    tests = by_lang_tests.get(system, {}).get(group, {}).get(metric)
                cells.append(_marked(value, best, tests))
            rows.append(tuple(cells))
        per_language[metric] = Table(
            ("lang", "queries", *systems), tuple(rows), f"{metric} per language"
        )

    # significance: one row per (system, metric)
    sig_rows = []
    for system in systems[1:]:
        for metric in metrics:
            tests = significance.get(system, {}).get(metric, {})
            value = systems_data[system]["mean"].get(metric)
            base = systems_data[baseline]["mean"].get(metric)
            marker = ""
            if tests.get("significant"):
                marker = UP if tests.get("delta", 0) > 0 else DOWN
            sig_rows.append(
                (
                    label(system),
                    label(metric),
                    Cell(fmt(value)),
                    Cell(fmt(base)),
                    Cell(f"{tests['delta']:+.4f}" if "delta" in tests else "–", marker=marker),
                    Cell(fmt_p(tests.get("p_value"))[1:].removeprefix("=")),
                    Cell(fmt_p(tests.get("p_raw"))[1:].removeprefix("=")),
                )
            )
    sig_table = (
        Table(
            ("system", "metric", "mean", "baseline", "Δ", "p (Holm)", "p (raw)"),
            tuple(sig_rows),
            f"Against {baseline!r}, all languages",
        )
        if sig_rows
        else None
    )

    # recall@k, all languages
    curves = data.get("recall_curve", {})
    recall_table = None
    if curves:
        depths = recall_depths(curves)
        rows = []
        for system in systems:
            curve = curves.get(system, {}).get(ALL, {})
            rows.append((label(system), *(Cell(fmt(curve.get(k))) for k in depths)))
        recall_table = Table(
            ("system", *(f"R@{k}" for k in depths)), tuple(rows), "recall@k, all languages"
        )
    return EvaluationView(
        metrics,
        baseline,
        systems,
        languages,
        overall,
        per_language,
        sig_table,
        recall_table,
        legend,
    )


def recall_depths(curves: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[str]:
    """The k of the recall curves in numeric order (JSON written with sorted keys has
    ``"1", "10", "100", "2", ...``)."""
    depths = {k for curve in curves.values() for group in curve.values() for k in group}
    return sorted(depths, key=lambda k: (float(k), k) if _is_number_text(k) else (math.inf, k))


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _group_value(system: Mapping[str, Any], group: str, metric: str) -> float | None:
    if group == ALL:
        return system["mean"].get(metric)
    return system.get("by_lang", {}).get(group, {}).get(metric)


# training ----------------------------------------------------------------------------------
@dataclass
class TrainingView:
    """The curves of one training stage's Trainer log history."""

    loss: dict[str, list[tuple[float, float]]]
    dev: dict[str, list[tuple[float, float]]]
    overall_dev: list[str]
    summary: Table


def training_view(provenance: Mapping[str, Any]) -> TrainingView:
    """Loss and dev-metric curves vs step from ``provenance["training"]["log_history"]``.

    Training loss comes from entries with ``loss``; dev loss from ``eval_loss``; dev metrics
    are the other ``eval_*`` numbers (runtime and throughput left out). polyret's dev
    evaluators log ``eval_ndcg@10`` plus ``eval_ndcg@10_<lang>`` per language: the un-suffixed
    ones are the overall curves (drawn bold).
    """
    training = provenance.get("training") or {}
    history = [e for e in training.get("log_history", []) if isinstance(e, Mapping)]
    loss: dict[str, list[tuple[float, float]]] = {}
    dev: dict[str, list[tuple[float, float]]] = {}
    for entry in history:
        step = entry.get("step")
        if not isinstance(step, int | float):
            continue
        if _is_number(entry.get("loss")):
            loss.setdefault("training loss", []).append((float(step), float(entry["loss"])))
        if _is_number(entry.get("eval_loss")):
            loss.setdefault("dev loss", []).append((float(step), float(entry["eval_loss"])))
        for key, value in entry.items():
            if key.startswith("eval_") and key not in _NOT_METRICS and _is_number(value):
                dev.setdefault(key.removeprefix("eval_"), []).append((float(step), float(value)))
    names = list(dev)
    overall = [n for n in names if not any(n.startswith(o + "_") for o in names if o != n)]
    per_lang = [n for n in names if n not in overall]
    dev = {n: dev[n] for n in [*overall, *per_lang]}
    rows = []
    for name, points in [*loss.items(), *dev.items()]:
        values = [y for _, y in points]
        best = min(values) if "loss" in name else max(values)
        best_step = next(x for x, y in points if y == best)
        rows.append(
            (
                label(name),
                Cell(str(len(points))),
                Cell(f"{points[0][1]:.4f}"),
                Cell(f"{points[-1][1]:.4f}"),
                Cell(f"{best:.4f}"),
                Cell(format(best_step, "g")),
            )
        )
    steps = training.get("global_step")
    caption = "Trainer log history" + (f", {steps} steps" if steps is not None else "")
    summary = Table(
        ("series", "points", "first", "last", "best", "best at step"), tuple(rows), caption
    )
    return TrainingView(loss, dev, overall, summary)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# curation funnel ---------------------------------------------------------------------------
@dataclass
class FunnelView:
    """The funnel of one training set: per (method, lang) rows and its other steps."""

    steps: list[str]
    rows: list[dict[str, Any]]
    table: Table
    other_steps: list[str]
    total: int


def funnel_view(training_set: Any) -> FunnelView:
    """:func:`polyret.curate.summary.funnel_rows` as a table, plus the non-filter steps."""
    from polyret.curate.summary import funnel_rows

    rows = funnel_rows(training_set)
    columns = list(dict.fromkeys(k for row in rows for k in row if k not in ("kept %",)))
    steps = [c for c in columns if c not in ("method", "lang")]
    body = []
    for row in rows:
        cells = [label(str(row["method"])), label(str(row["lang"]))]
        cells += [Cell(str(row.get(step, ""))) for step in steps]
        cells.append(Cell(f"{row.get('kept %', 0.0):.1f}"))
        body.append(tuple(cells))
    table = Table(
        ("method", "lang", *steps, "kept %"),
        tuple(body),
        "Rows left after each step, per generation method and language",
    )
    other = []
    for step in training_set.funnel:
        kind = step.get("step")
        if kind in ("generate", "filter"):
            continue
        text = f"{kind}"
        if "strategy" in step:
            text += f" ({step['strategy']})"
        if "before" in step and "kept" in step:
            text += f": kept {step['kept']} of {step['before']} rows"
        elif "kept" in step:
            text += f": {step['kept']} rows"
        if "negatives" in step:
            text += f", {step['negatives']} negatives"
        other.append(text)
    return FunnelView(steps, rows, table, other, len(training_set))


# stage timings -----------------------------------------------------------------------------
def timings_table(stages: Sequence[Any]) -> Table:
    """One row per stage: name, type, inputs, seconds, reused or computed."""
    rows = []
    for stage in stages:
        rows.append(
            (
                label(stage.name),
                label(stage.type),
                label(", ".join(stage.inputs) or "–"),
                Cell(f"{stage.seconds:.2f}"),
                label("reused" if stage.reused else "computed"),
            )
        )
    total = sum(s.seconds for s in stages)
    caption = (
        f"{len(stages)} stages, {sum(not s.reused for s in stages)} computed, "
        f"{sum(s.reused for s in stages)} reused, {total:.1f} s in all"
    )
    return Table(("stage", "type", "inputs", "seconds", "status"), tuple(rows), caption)


def run_line(stages: Sequence[Any], generated: str | None = None) -> str:
    """The report's header line: stages computed and reused, seconds, when it was generated."""
    generated = generated or time.strftime("%Y-%m-%d %H:%M")
    computed = sum(not s.reused for s in stages)
    total = sum(s.seconds for s in stages)
    return (
        f"{len(stages)} stages ({computed} computed, "
        f"{len(stages) - computed} reused) · {total:.1f} s · generated {generated}"
    )
