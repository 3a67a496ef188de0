"""A search service over a pipeline's indexes: ``polyret serve RUN_DIR``.

:func:`load_served` opens a run directory or an index folder, :class:`SearchService`
answers requests (no HTTP), :func:`create_app` wraps it in a FastAPI application and
:func:`serve` runs that with uvicorn. fastapi and uvicorn come with ``polyret[serve]``.
"""

from polyret.serve.app import MAX_BODY_BYTES, BodyLimit, create_app
from polyret.serve.loading import (
    Fusion,
    HybridDefaults,
    LoadedIndex,
    ServedIndexes,
    load_served,
)
from polyret.serve.locked import LockedEncoder
from polyret.serve.schemas import (
    MAX_QUERY_CHARS,
    Health,
    Hit,
    IndexesResponse,
    IndexInfo,
    SearchRequest,
    SearchResponse,
)
from polyret.serve.server import build_app, serve
from polyret.serve.service import SearchService

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_QUERY_CHARS",
    "BodyLimit",
    "Fusion",
    "Health",
    "Hit",
    "HybridDefaults",
    "IndexInfo",
    "IndexesResponse",
    "LoadedIndex",
    "LockedEncoder",
    "SearchRequest",
    "SearchResponse",
    "SearchService",
    "ServedIndexes",
    "build_app",
    "create_app",
    "load_served",
    "serve",
]
