"""Open any saved index by reading the ``type`` in its ``polyret.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta
from polyret.retrieve.bm25 import BM25
from polyret.retrieve.dense import Dense


def load_index(path: str | Path, **options: Any) -> BM25 | Dense:
    """Load a BM25 or dense index folder written by ``save`` (``options`` go to ``Dense.load``)."""
    kind = read_meta(path).get("type")
    if kind == "bm25":
        return BM25.load(path)
    if kind == "dense":
        return Dense.load(path, **options)
    raise InvalidInputError(f"not an index: the folder holds {kind!r}", path=path, field="type")
