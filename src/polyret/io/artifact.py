"""``polyret.json``: what every saved polyret folder says about itself.

``{"type": ..., "format": ..., "version": ..., **fields}`` — the type lets a loader dispatch,
the format lets it refuse folders written by an incompatible release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polyret
from polyret.errors import InvalidInputError
from polyret.io.atomic import atomic_write

META_FILE = "polyret.json"


def write_meta(folder: str | Path, type: str, format: int, **fields: Any) -> None:
    """Write ``folder/polyret.json`` atomically."""
    meta = {"type": type, "format": format, "version": polyret.__version__, **fields}
    with atomic_write(Path(folder) / META_FILE) as handle:
        json.dump(meta, handle, indent=1, ensure_ascii=False)


def read_meta(
    folder: str | Path, type: str | None = None, format: int | None = None
) -> dict[str, Any]:
    """Read ``folder/polyret.json``, checking its type and format when given.

    Raises:
        InvalidInputError: when the file is missing or malformed, or another type/format.
    """
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise InvalidInputError(f"not a polyret folder (no {META_FILE})", path=folder)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"malformed JSON: {error}", path=path) from None
    if not isinstance(meta, dict):
        raise InvalidInputError("expected a JSON object", path=path)
    if type is not None and meta.get("type") != type:
        raise InvalidInputError(
            f"expected a {type!r} folder, found {meta.get('type')!r}", path=path, field="type"
        )
    if format is not None and meta.get("format") != format:
        raise InvalidInputError(
            f"{type} folder of format {meta.get('format')!r}; this polyret reads format {format}",
            path=path,
            field="format",
        )
    return meta
