"""An exported model folder's ``polyret.json``: the marker that says the export is complete.

Exports (:mod:`polyret.models.export`, :mod:`polyret.models.gemma`) write it last, through
:func:`polyret.io.artifact.write_meta`, listing every file with its size and sha256 and the
source it was exported from; a cached export is reused only while its marker matches.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from polyret.errors import MissingExtraError
from polyret.io.artifact import ModelKind, read_meta, write_meta
from polyret.io.atomic import file_lock

log = logging.getLogger(__name__)

FORMAT = 1


def write_marker(
    folder: Path, *, name: str, kind: ModelKind, config: Mapping[str, Any], source: dict[str, Any]
) -> None:
    """Write the marker of the finished export in ``folder`` (every file in it listed).

    Args:
        folder: The export folder, complete but for the marker.
        name: The packaged model's name.
        kind: What :func:`polyret.load` opens it as (``"bi-encoder"``, ``"causal-lm"``).
        config: How it was exported.
        source: What it was exported from (a release, file name and size or checksum).
    """
    files = {
        str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    write_meta(
        folder, "model", FORMAT, config=config, name=name, kind=kind, source=source, files=files
    )


def is_complete(
    path: str | os.PathLike[str],
    *,
    name: str,
    source: Callable[[], dict[str, Any]],
    verify: bool = False,
) -> bool:
    """Whether ``path`` holds a finished export of ``name`` from the current ``source()``.

    Args:
        path: An export folder.
        name: The model name its marker must record.
        source: The fingerprint of the installed source; when its package is gone
            (:class:`MissingExtraError`), the export itself is still a complete model.
        verify: Also recompute every file's sha256; otherwise sizes only.
    """
    path = Path(path)
    try:
        marker = read_meta(path, "model", FORMAT)
    except (OSError, ValueError):
        return False
    if marker.get("name") != name:
        return False
    try:
        if marker.get("source") != source():
            return False  # exported from another file or release
    except MissingExtraError:
        pass
    files = marker.get("files") or {}
    for file_name, meta in files.items():
        file = path / file_name
        if not file.is_file() or file.stat().st_size != meta["size"]:
            return False
        if verify and sha256(file) != meta["sha256"]:
            return False
    return bool(files)


def cached_export(
    path: Path, complete: Callable[[Path], bool], export: Callable[[Path], Any], takes: str
) -> Path:
    """``path`` once it holds a complete export, exporting it first when it does not.

    A lock file serializes concurrent first uses; a process that waited for it finds the
    export another one finished.

    Args:
        path: The export folder in the model cache.
        complete: Whether a folder holds a complete export.
        export: Writes the export into a folder (replacing what is there).
        takes: How long an export takes, for the log.
    """
    if complete(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(f".{path.name}.lock")):
        if not complete(path):  # another process may have finished meanwhile
            log.info("exporting %s into %s (once, %s)", path.name, path, takes)
            export(path)
    return path


def make_readable(folder: Path) -> None:
    """Give the export the usual umask-based modes (mkdtemp/mkstemp create them 0700/0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def sha256(path: Path) -> str:
    """The file's sha256, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
