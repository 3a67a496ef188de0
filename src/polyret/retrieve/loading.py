"""Open any saved index by reading the ``type`` in its ``polyret.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError
from polyret.retrieve.bm25 import BM25
from polyret.retrieve.dense import Dense


def load_index(path: str | Path, **options: Any) -> BM25 | Dense:
    """Load a BM25 or dense index folder written by ``save`` (``options`` go to ``Dense.load``)."""
    meta_path = Path(path) / "polyret.json"
    if not meta_path.is_file():
        raise InvalidInputError("not a polyret index (no polyret.json)", path=path)
    try:
        kind = json.loads(meta_path.read_text(encoding="utf-8")).get("type")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"malformed JSON: {error}", path=meta_path) from None
    if kind == "bm25":
        return BM25.load(path)
    if kind == "dense":
        return Dense.load(path, **options)
    raise InvalidInputError(f"unknown index type {kind!r}", path=meta_path, field="type")
