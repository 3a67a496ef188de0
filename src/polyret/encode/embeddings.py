"""Saved embeddings of a corpus or a query set: what ``polyret encode`` writes.

Layout::

    <folder>/
        embeddings.npy     [n, dim] float32 or int8 (memory-mapped when reopened)
        ids.json           the n record ids, in row order
        polyret.json       {type: "embeddings", format, version, kind, model, options,
                            fingerprint, shape}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta, write_meta
from polyret.io.atomic import atomic_directory, atomic_write

_FORMAT = 1
VECTORS_FILE = "embeddings.npy"
IDS_FILE = "ids.json"


@dataclass(frozen=True)
class Embeddings:
    """Embeddings with their record ids and the encoder that made them.

    Attributes:
        vectors: ``[n, dim]`` embeddings, row ``i`` of record ``ids[i]``.
        ids: Record ids in row order.
        kind: ``"documents"`` (passage prefix) or ``"queries"``.
        model: The encoder's name or model folder.
        options: The encoder options (``precision``, ``dim``).
        fingerprint: The encoder's fingerprint.
    """

    vectors: np.ndarray
    ids: list[str]
    kind: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the folder atomically.

        Raises:
            OutputExistsError: ``folder`` exists and ``overwrite`` is false.
        """
        with atomic_directory(folder, overwrite=overwrite) as tmp:
            np.save(tmp / VECTORS_FILE, self.vectors)
            with atomic_write(tmp / IDS_FILE) as handle:
                json.dump(self.ids, handle, ensure_ascii=False)
            write_meta(
                tmp,
                "embeddings",
                _FORMAT,
                kind=self.kind,
                model=self.model,
                options=self.options,
                fingerprint=self.fingerprint,
                shape=list(self.vectors.shape),
            )
        return Path(folder)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Embeddings:
        """Reopen a folder :meth:`save` wrote (the vectors memory-mapped, read-only).

        Raises:
            InvalidInputError: not an embeddings folder, or its files disagree in size.
        """
        folder = Path(folder)
        meta = read_meta(folder, "embeddings", _FORMAT)
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
        ids = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
        if list(vectors.shape) != meta.get("shape") or len(ids) != len(vectors):
            raise InvalidInputError(
                f"{VECTORS_FILE} {vectors.shape}, {len(ids)} ids and polyret.json's shape "
                f"{meta.get('shape')} disagree",
                path=folder,
            )
        options = meta.get("options") or {}
        return cls(vectors, ids, meta["kind"], meta["model"], options, meta.get("fingerprint", ""))
