"""The report as Markdown: the same tables as the HTML page, charts left out."""

from __future__ import annotations

from polyret.report.manifest import RunContents
from polyret.report.tables import (
    Cell,
    Table,
    evaluation_view,
    fmt,
    funnel_view,
    recall_depths,
    run_line,
    timings_table,
    training_view,
)


def table_markdown(table: Table, *, caption: bool = True) -> str:
    """A GitHub-flavoured Markdown table (bold best values, markers and p-values inline)."""
    if not table.rows:
        return "_empty_\n"
    align = [
        "---:" if all(row[i].numeric for row in table.rows) else ":---"
        for i in range(len(table.header))
    ]
    lines = []
    if caption and table.caption:
        lines += [f"*{_escape(table.caption)}*", ""]
    lines.append("| " + " | ".join(_escape(h) for h in table.header) + " |")
    lines.append("| " + " | ".join(align) + " |")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def _cell(cell: Cell) -> str:
    text = _escape(cell.text)
    if cell.bold:
        text = f"**{text}**"
    if cell.marker:
        text += f" {cell.marker}"
    if cell.note:
        text += f" ({cell.note})"
    return text


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(contents: RunContents, *, generated: str | None = None) -> str:
    """The whole report as Markdown text."""
    manifest = contents.manifest
    out = [f"# polyret report: {manifest.name}", "", run_line(manifest.stages, generated), ""]
    many = len(contents.evaluations) > 1
    for stage, data in contents.evaluations:
        suffix = f": {stage.name}" if many else ""
        view = evaluation_view(data)
        out += [f"## Retrieval results{suffix}", "", view.legend, "", table_markdown(view.overall)]
        for metric in view.metrics:
            out += [
                f"### {metric} per language",
                "",
                table_markdown(view.per_language[metric], caption=False),
            ]
        if view.recall is not None:
            out += [f"## Recall@k{suffix}", "", table_markdown(view.recall)]
            curves = data.get("recall_curve", {})
            if view.languages and curves:
                depths = recall_depths(curves)
                deepest = depths[-1]
                rows = tuple(
                    (
                        Cell(lang, numeric=False),
                        *(
                            Cell(fmt(curves.get(s, {}).get(lang, {}).get(deepest)))
                            for s in view.systems
                        ),
                    )
                    for lang in view.languages
                )
                out.append(
                    table_markdown(
                        Table(("lang", *view.systems), rows, f"recall@{deepest} per language")
                    )
                )
        if view.significance is not None:
            out += [
                f"## Significance vs {view.baseline}{suffix}",
                "",
                table_markdown(view.significance),
            ]
    if contents.training_logs:
        out += ["## Training curves", ""]
        for stage, provenance in contents.training_logs:
            view_t = training_view(provenance)
            out += [f"### {stage.name} ({stage.type})", "", table_markdown(view_t.summary)]
    if contents.training_sets:
        out += ["## Curation funnel", ""]
        for stage, training_set in contents.funnel_sets():
            view_f = funnel_view(training_set)
            out += [
                f"### {stage.name} ({stage.type})",
                "",
                f"{view_f.total:,} rows in this training set.",
                "",
                table_markdown(view_f.table) if view_f.rows else "_no generate step_\n",
            ]
            out += [f"- {step}" for step in view_f.other_steps]
            if view_f.other_steps:
                out.append("")
    if manifest.stages:
        out += ["## Stage timings", "", table_markdown(timings_table(manifest.stages))]
    if contents.notes:
        out += ["## Notes", "", *(f"- {note}" for note in contents.notes), ""]
    return "\n".join(out).rstrip() + "\n"
