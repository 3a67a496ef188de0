"""What the model-backed index folders (multi-vector, learned sparse) share on disk: the
document ids, and the check that the model answering queries is the one that built them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from polyret.errors import InvalidInputError
from polyret.io.atomic import atomic_write

DOC_IDS_FILE = "doc_ids.json"


def write_doc_ids(folder: Path, doc_ids: np.ndarray) -> None:
    """The index rows' document ids, as a JSON list."""
    with atomic_write(folder / DOC_IDS_FILE) as handle:
        json.dump(doc_ids.tolist(), handle, ensure_ascii=False)


def read_doc_ids(folder: Path) -> np.ndarray:
    """The ids :func:`write_doc_ids` wrote, as an object array."""
    doc_ids = json.loads((folder / DOC_IDS_FILE).read_text(encoding="utf-8"))
    return np.asarray(doc_ids, dtype=object)


def check_fingerprint(path: Path, model: str, built: str, now: str) -> None:
    """Refuse an index whose model changed since it was built (``built`` ≠ ``now``).

    Raises:
        InvalidInputError: naming the folder, the model and both fingerprints.
    """
    if built != now:
        raise InvalidInputError(
            f"this index was built with another version of {model!r} "
            f"(fingerprint {built[:12]}, now {now[:12]})",
            path=path,
            field="encoder",
        )
