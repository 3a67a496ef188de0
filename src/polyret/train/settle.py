"""A trained model folder as a function of its content, not of when it was written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from polyret.io.stamp import stamp_large_files

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
    return {"weights": stamp_large_files(folder)}
