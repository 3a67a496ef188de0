"""``polyret datasets``: list, describe and export collections."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from polyret.cli.app import OverwriteOption, app, console, refuse_existing
from polyret.cli.options import config_options
from polyret.datasets import DatasetConfig, list_datasets, load, prepare
from polyret.io import write_beir

datasets_app = typer.Typer(help="List, describe and export collections.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("list")
def list_command() -> None:
    """List the collections polyret can load by name."""
    table = Table(title="polyret collections")
    for column in ("name", "description", "license"):
        table.add_column(column)
    for info in list_datasets():
        table.add_row(info.name, info.description, info.license)
    console.print(table)


@datasets_app.command("stats")
def stats_command(
    name: str = typer.Argument(..., help="A catalogue name or a BEIR folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Documents and queries per language, and judged queries per split."""
    stats = load(name).stats()
    if as_json:
        console.print_json(json.dumps(stats))
        return
    table = Table(
        title=f"{stats['name']}: {stats['documents']} documents, {stats['queries']} queries"
    )
    table.add_column("lang")
    table.add_column("documents", justify="right")
    table.add_column("queries", justify="right")
    langs = sorted(set(stats["documents_per_lang"]) | set(stats["queries_per_lang"]))
    for lang in langs:
        table.add_row(
            lang,
            str(stats["documents_per_lang"].get(lang, 0)),
            str(stats["queries_per_lang"].get(lang, 0)),
        )
    console.print(table)
    for split, sizes in stats["splits"].items():
        console.print(f"split {split}: {sizes['queries']} queries, {sizes['judgments']} judgments")


@datasets_app.command("export")
@config_options(DatasetConfig, arguments=("source",))
def export_command(
    out: Path = typer.Option(..., "--out", "-o", help="BEIR folder to write."),
    overwrite: OverwriteOption = False,
    *,
    config: DatasetConfig,
) -> None:
    """Write a collection, optionally cut down, as a BEIR folder (the pipeline's dataset stage)."""
    refuse_existing(out, overwrite)
    data = prepare(config)
    write_beir(data, out, overwrite=overwrite)
    console.print(f"{data.name}: {len(data.corpus)} documents, {len(data.queries)} queries → {out}")
