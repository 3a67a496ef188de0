"""Open a saved index folder (a BM25 or dense ``polyret.json`` type) through ``polyret.load``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError
from polyret.io.artifact import load, read_meta
from polyret.retrieve.bm25 import BM25
from polyret.retrieve.dense import Dense
from polyret.retrieve.multivector import MultiVector
from polyret.retrieve.sparse import LearnedSparse

INDEX_TYPES = ("bm25", "dense", "multivector", "sparse")
Index = BM25 | Dense | MultiVector | LearnedSparse


def load_index(path: str | Path, **options: Any) -> Index:
    """Load a BM25, dense, multi-vector or learned-sparse index folder written by ``save``
    (``options`` go to ``Dense.load``)."""
    kind = read_meta(path).get("type")
    if kind not in INDEX_TYPES:
        raise InvalidInputError(f"not an index: the folder holds {kind!r}", path=path, field="type")
    index: Index = load(path, **options)
    return index
