"""``polyret.load(path)``: open any folder polyret saved, by the type in its ``polyret.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta


def load(path: str | Path, **options: Any) -> Any:
    """Load a saved BM25 index, dense index, BEIR dataset or training-set folder.

    Args:
        path: A folder with a ``polyret.json``.
        **options: Passed to the loader (e.g. ``encoder=`` for a dense index).

    Raises:
        InvalidInputError: when the folder is not a polyret folder or its type is unknown.
    """
    kind = read_meta(path).get("type")
    if kind in ("bm25", "dense"):
        from polyret.retrieve import load_index

        return load_index(path, **options)
    if kind == "training-set":
        from polyret.types import TrainingSet

        return TrainingSet.load(path)
    if kind == "dataset":
        from polyret.io import read_beir

        return read_beir(path, **options)
    raise InvalidInputError(
        f"polyret.load cannot open a {kind!r} folder (bm25, dense, dataset, training-set)",
        path=path,
        field="type",
    )
