"""Fixtures for polyret.text tests: the shared collections (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_path(name: str) -> Path:
    """``../shared/data/<name>``, or skip the test saying why."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared collections are not on this machine")
    return path


def read_texts(path: Path, limit: int | None = None) -> list[str]:
    """The ``text`` field of a JSONL file, or the second column of a TSV file."""
    texts: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if path.suffix == ".tsv":
                texts.append(line.rstrip("\n").split("\t", 1)[1])
            else:
                texts.append(json.loads(line)["text"])
            if limit is not None and len(texts) >= limit:
                break
    return texts
