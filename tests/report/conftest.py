"""Real runs and one real run directory per session, shared by the report tests.

The run directory is read-only for tests: copy it (``shutil.copytree``) to change it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from polyret.types import Qrels, Queries, Run
from tests.report.run_dir import (
    build_evaluation_dir,
    build_run_dir,
    many_systems,
    retrieval_runs,
)


@pytest.fixture(scope="session")
def retrieval() -> tuple[dict[str, Run], Queries, Qrels]:
    """BM25, hashing Dense and RRF runs on xquad-r dev, with its queries and qrels."""
    return retrieval_runs()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory, retrieval) -> Path:
    """A pipeline run directory built from real components (see ``tests/report/run_dir.py``)."""
    return build_run_dir(tmp_path_factory.mktemp("run"), retrieval)


@pytest.fixture(scope="session")
def wide_run_dir(tmp_path_factory: pytest.TempPathFactory, retrieval) -> Path:
    """A run directory evaluating eight systems with long names (only an evaluate stage)."""
    return build_evaluation_dir(tmp_path_factory.mktemp("wide"), many_systems(retrieval), retrieval)
