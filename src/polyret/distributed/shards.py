"""Shard files: one ``.npy`` per shard, written atomically, read back in order.

A worker writes ``shard-000042.npy`` to a temporary sibling and renames it into place
(:func:`polyret.io.atomic_write`), so a worker killed half-way leaves at most a hidden
``.shard-000042.npy.*.tmp`` file, never a truncated shard; the retried shard writes the
whole file again. A shard file that exists is complete, which also makes a re-run skip
finished shards. The folder must be visible to every worker (shared storage on a real
cluster; any local folder on one machine).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from polyret.errors import InvalidInputError
from polyret.io.atomic import atomic_write

log = logging.getLogger(__name__)

_TEMP = re.compile(r"^\.shard-\d{6}\.npy\..*\.tmp$")


def shard_path(folder: str | Path, number: int) -> Path:
    """``folder/shard-<number:06d>.npy``."""
    return Path(folder) / f"shard-{number:06d}.npy"


def write_shard(folder: str | Path, number: int, values: np.ndarray) -> Path:
    """Write one shard atomically (temporary file, fsync, rename); returns its path."""
    path = shard_path(folder, number)
    with atomic_write(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(values))
    return path


def read_shards(folder: str | Path, count: int, *, mmap: bool = False) -> list[np.ndarray]:
    """Shards ``0 .. count-1`` of ``folder``, in order.

    Raises:
        InvalidInputError: a shard is missing (its worker never finished it).
    """
    out = []
    for number in range(count):
        path = shard_path(folder, number)
        if not path.is_file():
            raise InvalidInputError(f"shard {number} of {count} was never written", path=path)
        out.append(np.load(path, mmap_mode="r" if mmap else None))
    return out


def remove_leftovers(folder: str | Path) -> int:
    """Delete the temporary files of shard writes that were killed; returns how many."""
    removed = 0
    for entry in Path(folder).glob(".shard-*.tmp"):
        if _TEMP.match(entry.name):
            log.info("removing %s (left by a killed worker)", entry)
            entry.unlink(missing_ok=True)
            removed += 1
    return removed
