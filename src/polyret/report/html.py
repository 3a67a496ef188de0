"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, no fetches."""

from __future__ import annotations

from html import escape
from typing import Any

from polyret.report import svg
from polyret.report.manifest import RunContents
from polyret.report.tables import (
    ALL,
    Cell,
    Table,
    evaluation_view,
    funnel_view,
    recall_depths,
    run_line,
    timings_table,
    training_view,
)

SIDE = svg.Frame(width=520, height=300, left=52)
"""Geometry of a chart beside a table (half the page width)."""

BARS = svg.Frame(width=960, height=330, left=56)
"""Geometry of the per-language bar charts (the page's whole width)."""

CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--accent:#0072B2;
--up:#1a7f37;--down:#b3261e;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;
--panel:#161b22;--line:#30363d;--accent:#56B4E9;--up:#3fb950;--down:#ff7b72}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);line-height:1.5;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Helvetica,Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 48px}
header.top{border-bottom:3px solid var(--accent);margin-bottom:8px;padding-bottom:12px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.3rem;margin:36px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:22px 0 6px}
p{margin:6px 0}
.meta,.note,figcaption,caption{color:var(--muted);font-size:.9rem}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:6px 14px;padding:0;margin:8px 0 0}
nav a{color:var(--accent);text-decoration:none}nav a:hover{text-decoration:underline}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:14px 0}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:1.25rem}.card span{color:var(--muted);font-size:.85rem}
.scroll{overflow-x:auto;margin:8px 0 4px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;min-width:50%}
caption{text-align:left;padding:2px 0 6px;caption-side:top}
th,td{padding:4px 8px;border-bottom:1px solid var(--line)}
thead th{background:var(--panel);text-align:left;font-weight:600;vertical-align:bottom;
border-bottom:2px solid var(--line);overflow-wrap:break-word}
td.num,th.num{text-align:right}td.num{white-space:nowrap}
tbody th{text-align:left;font-weight:600}
tbody tr:nth-child(even){background:color-mix(in srgb,var(--panel) 60%,transparent)}
tr.total td,tr.total th{border-top:2px solid var(--line)}
td b{font-weight:700}
.sig{font-size:.85em;margin-left:3px}.sig.up{color:var(--up)}.sig.down{color:var(--down)}
.p{display:block;color:var(--muted);font-size:.75em;line-height:1.1}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:8px 24px}
.grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:4px 18px}
figure.chart{margin:10px 0 14px}
figure.chart>svg{width:100%;max-width:820px;height:auto;display:block;color:var(--fg)}
figure.bars>svg{max-width:none}
.grid3 figure.chart>svg{max-width:440px}
figure.hbar>svg{max-width:640px}
figure.small{margin:6px 0}figure.small figcaption{font-weight:600;color:var(--fg)}
svg text{fill:currentColor;font-size:12px}
svg .tick{fill:var(--muted)}svg .axis-label{font-size:12px;fill:var(--muted)}
svg .value{font-size:11px;fill:var(--muted)}
svg .sig.up{fill:var(--up)}svg .sig.down{fill:var(--down)}
svg .axis-note{font-size:11px;fill:var(--down)}
svg .axis-break{stroke:var(--down);stroke-width:1.5}
svg .grid{stroke:var(--line);stroke-width:1}svg .axis{stroke:var(--muted);stroke-width:1}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 14px;padding:0;margin:4px 0;
font-size:.88rem}
ul.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px}
.swatch-line{width:28px;height:12px}
.tag{display:inline-block;font-size:.8rem;padding:0 6px;border-radius:10px;
border:1px solid var(--line)}
.tag.reused{color:var(--muted)}.tag.computed{color:var(--accent);border-color:var(--accent)}
.notes{border-left:3px solid var(--down);padding-left:10px}
footer{margin-top:40px;color:var(--muted);font-size:.85rem}
@media (max-width:560px){body{font-size:14px}main{padding:14px 10px}.grid2{display:block}
th,td{padding:4px 6px}}
@media print{nav{display:none}}
""".strip()


def render_html(contents: RunContents, *, generated: str | None = None) -> str:
    """The whole page for a run directory's contents."""
    manifest = contents.manifest
    sections: list[tuple[str, str, str]] = []  # (id, title, html)
    evaluations = contents.evaluations
    for i, (stage, data) in enumerate(evaluations):
        suffix = f": {stage.name}" if len(evaluations) > 1 else ""
        sections += _evaluation_sections(data, f"e{i}", suffix)
    if contents.training_logs:
        sections.append(("training", "Training curves", _training(contents)))
    if contents.training_sets:
        sections.append(("funnel", "Curation funnel", _funnels(contents)))
    if manifest.stages:
        sections.append(("timings", "Stage timings", _timings(contents)))
    if contents.notes:
        items = "".join(f"<li>{escape(n)}</li>" for n in contents.notes)
        sections.append(("notes", "Notes", f'<ul class="notes">{items}</ul>'))

    nav = "".join(f'<li><a href="#{sid}">{escape(title)}</a></li>' for sid, title, _ in sections)
    body = "".join(
        f'<section id="{sid}" aria-labelledby="{sid}-h"><h2 id="{sid}-h">{escape(title)}</h2>'
        f"{content}</section>"
        for sid, title, content in sections
    )
    meta = run_line(manifest.stages, generated)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>polyret report: {escape(manifest.name)}</title>"
        f"<style>{CSS}</style></head><body><main>"
        f'<header class="top"><h1>polyret report: {escape(manifest.name)}</h1>'
        f'<p class="meta">{escape(meta)}</p>'
        f'<nav aria-label="sections"><ul>{nav}</ul></nav></header>'
        f"{_headline(contents)}{body}"
        f"<footer>Written by <code>polyret report</code> from "
        f"<code>{escape(str(manifest.run_dir))}/manifest.json</code>. Every number comes from "
        "polyret.evaluate; the tables hold the exact values the charts draw.</footer>"
        "</main></body></html>\n"
    )


def table_html(table: Table, *, total_row: str | None = None, caption: bool = True) -> str:
    """A ``<table>`` (in a horizontally scrolling wrapper) from a :class:`Table`."""
    first_numeric = [
        all(row[i].numeric for row in table.rows) if table.rows else False
        for i in range(len(table.header))
    ]
    head = "".join(
        f'<th scope="col"{" class=num" if first_numeric[i] else ""}>{escape(h)}</th>'
        for i, h in enumerate(table.header)
    )
    rows = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            content = _cell(cell)
            if i == 0:
                cells.append(f'<th scope="row">{content}</th>')
            else:
                cls = ' class="num"' if cell.numeric else ""
                title = f' title="{escape(cell.title)}"' if cell.title else ""
                cells.append(f"<td{cls}{title}>{content}</td>")
        is_total = total_row is not None and row and row[0].text == total_row
        rows.append(f"<tr{' class=total' if is_total else ''}>{''.join(cells)}</tr>")
    title = f"<caption>{escape(table.caption)}</caption>" if caption and table.caption else ""
    return (
        f'<div class="scroll"><table>{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cell(cell: Cell) -> str:
    text = escape(cell.text)
    if cell.bold:
        text = f"<b>{text}</b>"
    if cell.marker:
        kind = "up" if cell.marker == "▲" else "down"
        words = "better" if kind == "up" else "worse"
        text += (
            f'<span class="sig {kind}" role="img" '
            f'aria-label="significantly {words} than the baseline">{cell.marker}</span>'
        )
    if cell.note:
        text += f'<span class="p">{escape(cell.note)}</span>'
    return text


def _headline(contents: RunContents) -> str:
    """Cards: the best system on the first metric, queries, languages, training rows."""
    cards = []
    if contents.evaluations:
        data = contents.evaluations[0][1]
        metric = data["metrics"][0]
        systems = data["systems"]
        best = max(systems, key=lambda s: systems[s]["mean"].get(metric, float("-inf")))
        base = systems[data["baseline"]]["mean"].get(metric, 0.0)
        delta = systems[best]["mean"][metric] - base
        cards.append((f"{systems[best]['mean'][metric]:.4f}", f"best {metric}: {best}"))
        if best != data["baseline"]:
            cards.append((f"{delta:+.4f}", f"vs baseline {data['baseline']}"))
        cards.append((str(len(systems)), "systems"))
        queries = systems[data["baseline"]].get("num_queries", {}).get(ALL)
        if queries is not None:
            cards.append((f"{queries:,}", "evaluated queries"))
        cards.append((str(len(data.get("languages", []))), "languages"))
    for _, training_set in contents.training_sets[-1:]:
        cards.append((f"{len(training_set):,}", "training examples kept"))
    if not cards:
        return ""
    inner = "".join(
        f'<div class="card"><b>{escape(v)}</b><span>{escape(t)}</span></div>' for v, t in cards
    )
    return f'<div class="cards">{inner}</div>'


def _evaluation_sections(
    data: dict[str, Any], prefix: str, suffix: str
) -> list[tuple[str, str, str]]:
    view = evaluation_view(data)
    legend = f'<p class="note">{escape(view.legend)}</p>'
    groups = [*view.languages, ALL]

    results = [legend, table_html(view.overall)]
    for metric in view.metrics:
        table = view.per_language[metric]
        series = {s: [_value(data["systems"][s], g, metric) for g in groups] for s in view.systems}
        # the table's ▲/▼ (rows: languages then all; columns 2…: the systems)
        marks = {s: [row[2 + i].marker for row in table.rows] for i, s in enumerate(view.systems)}
        chart = svg.grouped_bars(
            groups,
            series,
            caption=f"{metric} per language and system (all = every query)",
            y_label=metric,
            marks=marks,
            frame=BARS,
        )
        # chart above, table below at full width: side by side, a table with many systems
        # was cut off behind a scrollbar
        results.append(
            f"<h3>{escape(metric)} per language</h3>{chart}"
            f"{table_html(table, total_row=ALL, caption=False)}"
        )
    sections = [(f"{prefix}-results", f"Retrieval results{suffix}", "".join(results))]

    curves = data.get("recall_curve", {})
    if curves:
        depths = recall_depths(curves)

        def recall_chart(group: str, frame: svg.Frame, heading: str | None = None) -> str:
            series = {
                s: [
                    (float(i), curves[s][group][k])
                    for i, k in enumerate(depths)
                    if k in curves.get(s, {}).get(group, {})
                ]
                for s in view.systems
            }
            return svg.lines(
                series,
                caption=f"recall@k, {'all languages' if group == ALL else group}",
                x_label="k (documents retrieved)" if heading is None else "k",
                y_label="recall@k" if frame is not svg.SMALL else "",
                x_categories=depths,
                y_range=(0.0, 1.0),
                frame=frame,
                heading=heading,
            )

        small = "".join(recall_chart(g, svg.SMALL, heading=g) for g in view.languages)
        recall = (
            f"{recall_chart(ALL, svg.Frame(height=260))}"
            f"{table_html(view.recall, caption=False) if view.recall else ''}"
            f"<h3>Per language</h3>{svg.legend(view.systems, lines=True)}"
            f'<div class="grid3">{small}</div>'
        )
        sections.append((f"{prefix}-recall", f"Recall@k curves{suffix}", recall))
    if view.significance is not None:
        note = (
            f'<p class="note">Paired {escape(data.get("test", {}).get("name", "randomization"))}'
            f" test per metric over the queries every system is evaluated on; p-values "
            "Holm-corrected over every (system, metric) test. Per-language tests are in the "
            "per-language tables (hover a cell for Δ and p).</p>"
        )
        sections.append(
            (
                f"{prefix}-significance",
                f"Significance vs {view.baseline}{suffix}",
                note + table_html(view.significance),
            )
        )
    return sections


def _value(system: dict[str, Any], group: str, metric: str) -> float:
    if group == ALL:
        return float(system["mean"].get(metric, float("nan")))
    return float(system.get("by_lang", {}).get(group, {}).get(metric, float("nan")))


def _training(contents: RunContents) -> str:
    parts = []
    for stage, provenance in contents.training_logs:
        view = training_view(provenance)
        parts.append(f'<h3>{escape(stage.name)} <span class="tag">{escape(stage.type)}</span></h3>')
        charts = []
        if view.loss:
            charts.append(
                svg.lines(
                    view.loss,
                    caption=f"{stage.name}: loss vs step",
                    x_label="step",
                    y_label="loss",
                    markers=False,
                    frame=SIDE,
                )
            )
        if view.dev:
            charts.append(
                svg.lines(
                    view.dev,
                    caption=f"{stage.name}: dev metrics vs step",
                    x_label="step",
                    y_label="dev metric",
                    bold=view.overall_dev,
                    frame=SIDE,
                )
            )
        if not charts:
            parts.append('<p class="note">No loss or dev metric in the log history.</p>')
            continue
        parts.append(f'<div class="grid2">{"".join(f"<div>{c}</div>" for c in charts)}</div>')
        parts.append(table_html(view.summary))
    return "".join(parts)


def _funnels(contents: RunContents) -> str:
    parts = []
    for stage, training_set in contents.funnel_sets():
        view = funnel_view(training_set)
        parts.append(
            f'<h3>{escape(stage.name)} <span class="tag">{escape(stage.type)}</span></h3>'
            f'<p class="note">{view.total:,} rows in this training set.</p>'
        )
        if not view.rows:
            parts.append('<p class="note">No generate step in this set\'s funnel.</p>')
        else:
            methods = {row["method"] for row in view.rows}
            groups = [
                row["lang"] if len(methods) == 1 else f"{row['method']} · {row['lang']}"
                for row in view.rows
            ]
            series = {
                step: [float(row.get(step, float("nan"))) for row in view.rows]
                for step in view.steps
            }
            chart = svg.grouped_bars(
                groups,
                series,
                caption=f"{stage.name}: rows generated, then left after each filter",
                y_label="rows",
                zero=True,  # the bars are a funnel: their ratios are the kept fractions
                digits=0,
                frame=SIDE,
            )
            parts.append(
                f'<div class="grid2"><div>{table_html(view.table)}</div><div>{chart}</div></div>'
            )
        if view.other_steps:
            items = "".join(f"<li>{escape(s)}</li>" for s in view.other_steps)
            parts.append(f'<p class="note">Other steps:</p><ul class="note">{items}</ul>')
    return "".join(parts)


def _timings(contents: RunContents) -> str:
    stages = contents.manifest.stages
    table = timings_table(stages)
    chart = svg.horizontal_bars(
        [s.name for s in stages],
        [s.seconds for s in stages],
        ["computed" if not s.reused else "reused" for s in stages],
        caption="Seconds per stage (reused stages were read from an earlier run)",
        x_label="seconds",
        unit=" s",
        kind_colours={"computed": svg.PALETTE[0], "reused": "#9AA4AE"},
    )
    return chart + table_html(table)
