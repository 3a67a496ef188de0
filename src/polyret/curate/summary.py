"""The curation funnel as a table: generated → kept by each filter, per method and language."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from polyret.types import TrainingSet


def funnel_rows(examples: TrainingSet) -> list[dict[str, Any]]:
    """One row per (method, language): ``generated``, then rows left after each filter.

    Read from ``examples.funnel``: the ``generate`` steps' ``by_lang`` counts, minus each
    ``filter`` step's ``dropped_by[method][lang]``. Each filter's column (named after it,
    numbered when a filter appears twice) holds the rows left after it.
    """
    counts: dict[tuple[str, str], int] = {}
    columns: list[str] = []
    table: dict[tuple[str, str], dict[str, int]] = {}
    for step in examples.funnel:
        if step.get("step") == "generate":
            for lang, n in step.get("by_lang", {}).items():
                key = (step.get("method", ""), lang)
                counts[key] = counts.get(key, 0) + n
                table.setdefault(key, {})["generated"] = counts[key]
        elif step.get("step") == "filter":
            name = str(step["filter"])
            if name in columns:
                name = f"{name} #{sum(c.startswith(name) for c in columns) + 1}"
            columns.append(name)
            for (method, lang), n in counts.items():
                counts[(method, lang)] = n - step.get("dropped_by", {}).get(method, {}).get(lang, 0)
                table[(method, lang)][name] = counts[(method, lang)]
    rows = []
    for (method, lang), values in sorted(table.items()):
        row: dict[str, Any] = {"method": method, "lang": lang, **values}
        generated = values.get("generated", 0)
        row["kept %"] = round(100.0 * counts[(method, lang)] / generated, 1) if generated else 0.0
        rows.append(row)
    return rows


def funnel_table(
    examples: TrainingSet, title: str = "curation funnel: rows left after each filter"
) -> Table:
    """:func:`funnel_rows` as a rich table."""
    rows = funnel_rows(examples)
    names = list(dict.fromkeys(key for row in rows for key in row if key != "kept %"))
    table = Table(title=title)
    for name in [*names, "kept %"]:
        table.add_column(name, justify="left" if name in ("method", "lang") else "right")
    for row in rows:
        table.add_row(*(str(row.get(name, "")) for name in [*names, "kept %"]))
    return table


def funnel_markdown(examples: TrainingSet) -> str:
    """:func:`funnel_rows` as a Markdown table."""
    rows = funnel_rows(examples)
    if not rows:
        return "_no examples_\n"
    names = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(str(row.get(name, "")) for name in names) + " |" for row in rows]
    return "\n".join(lines) + "\n"
