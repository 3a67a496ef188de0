"""Session fixtures for reranker tests (models load once per session)."""

from __future__ import annotations

from tests.encode.model_fixtures import (  # noqa: F401  (fixtures)
    e5_folder,
    fast_encoder,
    polyret_cache,
)
