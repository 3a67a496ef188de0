"""Run the search service with uvicorn: :func:`serve` (``polyret serve``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from polyret.optional import require

log = logging.getLogger(__name__)

_PATH_ENV = "POLYRET_SERVE_PATH"
_CORPUS_ENV = "POLYRET_SERVE_CORPUS"
_RERANK_ENV = "POLYRET_SERVE_RERANK"
# uvicorn closes a keep-alive connection idle for 5 s by default; a client's pool may reuse
# it just as it closes (a failed request), likelier when the loop is busy: keep them longer.
_UVICORN: dict[str, Any] = {"timeout_keep_alive": 30}


def build_app(
    path: str | Path, *, corpus: str | None = None, rerank: bool = True, warm_up: bool = True
) -> Any:
    """Load ``path`` (a run directory or an index folder) and return the FastAPI app.

    Args:
        path: A pipeline run directory or an index folder.
        corpus: Documents to return texts from (overrides the run's dataset stage).
        rerank: Load the reranker (the ``rerank`` mode).
        warm_up: Run each mode once before serving (no slow first request).
    """
    from polyret.serve.app import create_app
    from polyret.serve.loading import load_served
    from polyret.serve.service import SearchService

    service = SearchService(load_served(path, corpus=corpus, rerank=rerank))
    if warm_up:
        service.warm_up()
    log.info("serve: %s, modes %s", ", ".join(service.indexes), ", ".join(service.modes))
    return create_app(service)


def app_from_environment() -> Any:
    """The app for ``$POLYRET_SERVE_PATH`` (uvicorn's factory for ``--workers`` > 1)."""
    return build_app(
        os.environ[_PATH_ENV],
        corpus=os.environ.get(_CORPUS_ENV) or None,
        rerank=os.environ.get(_RERANK_ENV) != "0",
    )


def serve(
    path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    corpus: str | None = None,
    rerank: bool = True,
    log_level: str = "info",
) -> None:
    """Serve ``path``'s indexes over HTTP until interrupted.

    Args:
        path: A pipeline run directory or an index folder.
        host: Interface to bind (``127.0.0.1``: this machine only).
        port: TCP port.
        workers: Processes; each loads its own copy of the indexes and models.
        corpus: Documents to return texts from (overrides the run's dataset stage).
        rerank: Load the reranker (the ``rerank`` mode).
        log_level: uvicorn's log level.

    Raises:
        MissingExtraError: fastapi or uvicorn is not installed (``polyret[serve]``).
        InvalidInputError: ``path`` holds no index.
    """
    require("fastapi", "serve", "the search service")
    uvicorn = require("uvicorn", "serve", "the search service")
    if workers <= 1:
        app = build_app(path, corpus=corpus, rerank=rerank)
        uvicorn.run(app, host=host, port=port, log_level=log_level, **_UVICORN)
        return
    os.environ[_PATH_ENV] = str(Path(path).resolve())
    os.environ[_CORPUS_ENV] = corpus or ""
    os.environ[_RERANK_ENV] = "1" if rerank else "0"
    uvicorn.run(
        "polyret.serve.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        **_UVICORN,
    )
