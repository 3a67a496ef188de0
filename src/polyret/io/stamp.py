"""Large files stamped by their content: a model folder's fingerprint then depends on what
its weights are, not on when they were written or copied."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

LARGE = 1 << 16
"""Files from this size on are fingerprinted by (size, mtime) rather than by their bytes."""


def stamp_large_files(folder: Path) -> dict[str, str]:
    """Set each large file's mtime from its sha256 and return ``{relative path: sha256}``.

    polyret's model fingerprint reads (size, mtime) of large files, so two folders holding
    the same weights (two identical training runs, a model and its copy, two exports of
    the packaged model) get the same fingerprint and share their cached ONNX graphs.
    """
    hashes = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        if file.stat().st_size < LARGE:
            continue
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        hashes[str(file.relative_to(folder))] = digest.hexdigest()
        stamp = 1_000_000_000 + int(digest.hexdigest()[:7], 16)  # 2001-09-09 + < 8.5 years
        os.utime(file, (stamp, stamp))
    return hashes
