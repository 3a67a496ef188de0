"""The typer application every command module registers on."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from polyret.cli.options import config_options
from polyret.distributed.backend import Backend
from polyret.errors import PolyretError

app = typer.Typer(
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
