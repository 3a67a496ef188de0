"""Strict line reading shared by every text reader: UTF-8 checked, line numbers kept."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

from polyret.errors import InvalidInputError


def open_binary(path: Path) -> gzip.GzipFile | io.BufferedReader:
    """Open ``path`` for binary reading, decompressing ``.gz``; a missing file is an input error."""
    if not path.is_file():
        raise InvalidInputError("no such file", path=path)
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` of every non-blank line, without its line break.

    Raises:
        InvalidInputError: at the first line that is not valid UTF-8.
    """
    path = Path(path)
    with open_binary(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise InvalidInputError(
                    f"invalid UTF-8 at byte {error.start} of the line", path=path, line=line_no
                ) from None
            if line.strip():
                yield line_no, line
