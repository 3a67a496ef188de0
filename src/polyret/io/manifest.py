"""A pipeline run directory's own files: ``manifest.json`` and each stage's provenance.

The one owner of these formats: :mod:`polyret.pipeline.runner` writes them, and the
report, the search service and :func:`polyret.load` read them through this module.

Layout of a run directory::

    RUN_DIR/
      polyret.json                {"type": "pipeline-run", "format": 1, "name": ...}
      manifest.json               written atomically after every stage (see below)
      report.html, report.md      polyret.report.write_report, at the end
      stages/<name>-<key12>/      one folder per stage: its artifact + provenance.json
                                  (a dense index: + encoder.json; evaluate: evaluation.json)

``manifest.json``::

    {"format": 1, "name": str, "config": {...resolved config...},
     "stages": [{"name", "type", "key", "dir": "stages/<name>-<key12>", "inputs": [names],
                 "seconds": float, "reused": bool}]}
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from polyret._version import __version__
from polyret.errors import InvalidInputError
from polyret.io.artifact import read_json_object, write_meta
from polyret.io.atomic import atomic_write

MANIFEST_FILE = "manifest.json"
PROVENANCE_FILE = "provenance.json"
ADAPTATION_FILE = "adaptation.json"
"""What :func:`polyret.adapt.adapt` decided, next to the encoder it delivers."""
ENCODER_FILE = "encoder.json"
EVALUATION_FILE = "evaluation.json"
STAGES_DIR = "stages"
MANIFEST_FORMAT = 1

_STAGE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "type": str,
    "key": str,
    "dir": str,
    "inputs": list,
    "seconds": (int, float),
    "reused": bool,
}


@dataclass(frozen=True)
class StageResult:
    """One stage of a run (a ``manifest.json`` entry; ``path`` is ``dir`` resolved)."""

    name: str
    type: str
    key: str
    dir: str
    inputs: tuple[str, ...]
    seconds: float
    reused: bool
    path: Path

    def to_dict(self) -> dict[str, Any]:
        """The manifest entry."""
        return {
            "name": self.name,
            "type": self.type,
            "key": self.key,
            "dir": self.dir,
            "inputs": list(self.inputs),
            "seconds": self.seconds,
            "reused": self.reused,
        }


@dataclass(frozen=True)
class Manifest:
    """A parsed ``manifest.json``: what :func:`polyret.load` returns for a run directory."""

    name: str
    config: dict[str, Any]
    stages: tuple[StageResult, ...]
    run_dir: Path
    format: int = MANIFEST_FORMAT

    def of_type(self, *types: str) -> list[StageResult]:
        """The stages whose type is one of ``types``, in manifest order."""
        return [s for s in self.stages if s.type in types]

    def stage(self, name: str) -> StageResult:
        """The stage called ``name``."""
        return stage_named(self.stages, name)

    def evaluations(self) -> dict[str, dict[str, Any]]:
        """``{evaluate stage name: evaluation.json contents}``."""
        return evaluations(self.stages)


def stage_named(stages: Iterable[StageResult], name: str) -> StageResult:
    """The stage called ``name``.

    Raises:
        KeyError: no stage has that name.
    """
    for result in stages:
        if result.name == name:
            return result
    raise KeyError(name)


def evaluations(stages: Iterable[StageResult]) -> dict[str, dict[str, Any]]:
    """``{evaluate stage name: evaluation.json contents}`` of ``stages``."""
    return {
        s.name: read_json_object(s.path / EVALUATION_FILE) for s in stages if s.type == "evaluate"
    }


def write_manifest(
    run_dir: Path, name: str, config: Mapping[str, Any], stages: Sequence[StageResult]
) -> None:
    """Write ``run_dir/manifest.json`` (and the run's ``polyret.json``) atomically."""
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": name,
        "config": dict(config),
        "stages": [s.to_dict() for s in stages],
    }
    with atomic_write(run_dir / MANIFEST_FILE) as handle:
        json.dump(manifest, handle, indent=1, ensure_ascii=False)
    write_meta(run_dir, "pipeline-run", MANIFEST_FORMAT, name=name)


def read_manifest(run_dir: str | os.PathLike[str]) -> Manifest:
    """Parse and check ``run_dir/manifest.json``.

    Raises:
        InvalidInputError: when the file is missing, not JSON, of another format, or a
            stage lacks a field or has one of the wrong type.
    """
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST_FILE
    if not path.is_file():
        raise InvalidInputError(
            "not a pipeline run directory: manifest.json is missing", path=run_dir
        )
    data = read_json_object(path)
    if data.get("format") != MANIFEST_FORMAT:
        raise InvalidInputError(
            f"unsupported manifest format {data.get('format')!r} "
            f"(this polyret reads {MANIFEST_FORMAT})",
            path=path,
            field="format",
        )
    stages = data.get("stages")
    if not isinstance(stages, list):
        raise InvalidInputError("'stages' must be a list", path=path, field="stages")
    parsed = [_stage(number, stage, run_dir, path) for number, stage in enumerate(stages)]
    return Manifest(
        name=str(data.get("name", run_dir.name)),
        config=dict(data.get("config") or {}),
        stages=tuple(parsed),
        run_dir=run_dir,
    )


def _stage(number: int, stage: Any, run_dir: Path, path: Path) -> StageResult:
    if not isinstance(stage, dict):
        raise InvalidInputError(f"stage {number} is not an object", path=path, field="stages")
    for name, kind in _STAGE_FIELDS.items():
        value = stage.get(name)
        if not isinstance(value, kind) or (kind == (int, float) and isinstance(value, bool)):
            raise InvalidInputError(
                f"stage {number} ({stage.get('name', '?')}): {name!r} is missing or not "
                f"{kind.__name__ if isinstance(kind, type) else 'a number'}",
                path=path,
                field=name,
            )
    return StageResult(
        name=stage["name"],
        type=stage["type"],
        key=stage["key"],
        dir=stage["dir"],
        inputs=tuple(stage["inputs"]),
        seconds=float(stage["seconds"]),
        reused=stage["reused"],
        path=run_dir / stage["dir"],
    )


# provenance.json -----------------------------------------------------------------------------
def write_provenance(
    folder: Path, provenance: Mapping[str, Any], *, under: str | None = None
) -> None:
    """Write ``folder/provenance.json`` atomically.

    Args:
        folder: The artifact folder.
        provenance: Where the artifact came from.
        under: Keep the fields already in the file (a trainer's own provenance) and put
            ``provenance`` under this key.
    """
    path = folder / PROVENANCE_FILE
    data: dict[str, Any] = dict(provenance)
    if under is not None:
        data = {under: data}
        if path.is_file():
            data = {**read_json_object(path), **data}
    with atomic_write(path) as handle:
        json.dump(data, handle, indent=1, ensure_ascii=False, default=str)


def read_provenance(folder: Path) -> dict[str, Any]:
    """``folder/provenance.json``.

    Raises:
        FileNotFoundError: the folder has none.
        InvalidInputError: it is not a JSON object.
    """
    return read_json_object(folder / PROVENANCE_FILE)


def versions(packages: Iterable[str]) -> dict[str, str]:
    """Versions of polyret, Python and ``packages`` (``"absent"`` when not installed)."""
    found = {"polyret": __version__, "python": platform.python_version()}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


# encoder.json --------------------------------------------------------------------------------
def write_encoder_spec(folder: Path, encoder: str, options: Mapping[str, Any]) -> None:
    """Record how to load the encoder of a dense index; a model folder is stored relative."""
    ref = encoder
    if Path(encoder).is_absolute() and Path(encoder).parent == folder.parent:
        ref = os.path.join("..", Path(encoder).name)  # a model stage of the same run
    with atomic_write(folder / ENCODER_FILE) as handle:
        json.dump({"encoder": ref, "options": dict(options)}, handle, indent=1, sort_keys=True)


def read_encoder_spec(folder: Path) -> dict[str, Any] | None:
    """The spec :func:`write_encoder_spec` wrote, with a relative model folder made absolute
    (``None``: the folder has no ``encoder.json``)."""
    if not (folder / ENCODER_FILE).is_file():
        return None
    spec = read_json_object(folder / ENCODER_FILE)
    if spec["encoder"].startswith(".."):
        spec["encoder"] = str((folder / spec["encoder"]).resolve())
    return spec
