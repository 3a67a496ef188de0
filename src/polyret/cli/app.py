"""The typer application every command module registers on."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from polyret.cli.options import config_options
from polyret.distributed.backend import Backend
from polyret.errors import OutputExistsError, PolyretError

#: The order ``polyret --help`` lists the commands in, the order of the work: data →
#: index/search → fuse/rerank/evaluate → curate/mine/train → run/report/serve.
COMMAND_ORDER = (
    "datasets",
    "models",
    "index",
    "encode",
    "search",
    "fuse",
    "tune-fusion",
    "rerank",
    "evaluate",
    "compare",
    "generate",
    "filter",
    "mine",
    "train",
    "merge",
    "adapt",
    "run",
    "report",
    "serve",
    "demo",
)


class _InWorkOrder(TyperGroup):
    """Lists commands in :data:`COMMAND_ORDER` (typer alone puts sub-apps after commands)."""

    def list_commands(self, ctx: Any) -> list[str]:  # typer types it with its vendored click
        rank = {name: n for n, name in enumerate(COMMAND_ORDER)}
        return sorted(super().list_commands(ctx), key=lambda name: rank.get(name, len(rank)))


app = typer.Typer(
    cls=_InWorkOrder,
    name="polyret",
    help="Multilingual retrieval: index, search, evaluate, curate, mine, train.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

backend_options = config_options(
    Backend,
    param="backend",
    prefix="backend_",
    exclude=("batch_size", "num_cpus", "max_retries", "endpoint_concurrency"),
    names={"name": "--backend", "address": "--address", "workers": "--workers"},
    panel="Backend",
)
"""``--backend``/``--address``/``--workers`` of every command that runs a heavy stage: they
build the command's ``backend: Backend`` parameter (the pipeline's ``backend:`` section)."""

OverwriteOption = Annotated[bool, typer.Option(help="Replace an existing output folder.")]
"""``--overwrite/--no-overwrite`` of every command that writes a folder or file."""

TrainingSetOut = Annotated[Path, typer.Option("--out", "-o", help="Training-set folder to write.")]
"""``--out`` of the commands that write a training set (generate, mine)."""


def refuse_existing(out: Path, overwrite: bool) -> None:
    """Fail before the work, not after it, when ``out`` exists and ``--overwrite`` is off.

    Raises:
        OutputExistsError: ``out`` exists.
    """
    if out.exists() and not overwrite:
        raise OutputExistsError(out)


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not verbose:  # libraries that log their internals at INFO/DEBUG on their own loggers
        for name in ("bm25s", "faiss.loader"):
            logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    """Console-script entry point: polyret errors become one red line and exit code 2."""
    try:
        app()
    except PolyretError as error:
        err_console.print(f"[red]error:[/red] {error}", highlight=False)
        raise SystemExit(2) from None
