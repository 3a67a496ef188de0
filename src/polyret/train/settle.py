"""A trained model folder as a function of its content, not of when it was written."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

_TRAINING_TIME = re.compile(r"^### Training Time\n(?:(?!#).*\n)*", re.MULTILINE)


def settle_model_folder(folder: Path) -> dict[str, Any]:
    """Make a trained model folder a function of its content, not of when it was written.

    - The model card's "Training Time" section (wall time: it differs between identical
      runs) is removed; the time stays in ``provenance.json``.
    - Large files (the weights) get an mtime derived from their sha256: polyret's model
      fingerprint reads (size, mtime) of large files, so two runs that trained the same
      weights get the same fingerprint, and different weights a different one.

    Returns:
        ``{"weights": {file: sha256}}`` for the provenance.
    """
    card = folder / "README.md"
    if card.is_file():
        text = card.read_text(encoding="utf-8")
        card.write_text(_TRAINING_TIME.sub("", text), encoding="utf-8")
    hashes = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        if file.stat().st_size < 1 << 16:
            continue
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        hashes[str(file.relative_to(folder))] = digest.hexdigest()
        stamp = 1_000_000_000 + int(digest.hexdigest()[:7], 16)  # 2001-09-09 + < 8.5 years
        os.utime(file, (stamp, stamp))
    return {"weights": hashes}
