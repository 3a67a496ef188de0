"""``polyret serve``: a thin wrapper over :func:`polyret.serve.serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from polyret.cli.app import app


@app.command("serve")
def serve_command(
    path: Annotated[
        Path,
        typer.Argument(help="A pipeline run directory (manifest.json) or an index folder."),
    ],
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes (each loads its own indexes and models).")
    ] = 1,
    corpus: Annotated[
        str | None,
        typer.Option(help="Documents for hit texts (default: the run's dataset stage)."),
    ] = None,
    rerank: Annotated[
        bool, typer.Option(help="Load the reranker (rerank mode); --no-rerank starts faster.")
    ] = True,
) -> None:
    """Serve the indexes over HTTP: POST /search, GET /health, GET /indexes, /docs."""
    from polyret.serve import serve

    serve(path, host=host, port=port, workers=workers, corpus=corpus, rerank=rerank)
