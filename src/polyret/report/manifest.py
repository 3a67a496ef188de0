"""Read a pipeline run directory: ``manifest.json`` and the artifacts its stages left.

The pipeline writes ``RUN_DIR/manifest.json``::

    {"format": 1, "name": str, "config": {...},
     "stages": [{"name", "type", "key", "dir": "stages/<name>-<key12>", "inputs": [names],
                 "seconds": float, "reused": bool}]}

and each stage's output in its ``dir``. The report reads three kinds of stage output:
``evaluation.json`` of an ``evaluate`` stage (see :func:`~polyret.report.summarize`), the
:class:`~polyret.types.TrainingSet` folder of a ``generate``/``filter``/``mine`` stage, and
the ``provenance.json`` (Trainer log history) of a ``train-bi-encoder`` /
``train-cross-encoder`` stage.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1
EVALUATION_FILE = "evaluation.json"
PROVENANCE_FILE = "provenance.json"

TRAINING_SET_STAGES = ("generate", "filter", "mine")
TRAIN_STAGES = ("train-bi-encoder", "train-cross-encoder")

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
class Stage:
    """One entry of ``manifest.json``'s ``stages``; ``path`` is ``dir`` resolved."""

    name: str
    type: str
    key: str
    dir: str
    inputs: tuple[str, ...]
    seconds: float
    reused: bool
    path: Path


@dataclass(frozen=True)
class Manifest:
    """A parsed ``manifest.json``."""

    name: str
    config: dict[str, Any]
    stages: tuple[Stage, ...]
    run_dir: Path
    format: int = FORMAT

    def of_type(self, *types: str) -> list[Stage]:
        """The stages whose type is one of ``types``, in manifest order."""
        return [s for s in self.stages if s.type in types]


def read_manifest(run_dir: str | Path) -> Manifest:
    """Parse and check ``run_dir/manifest.json``.

    Raises:
        InvalidInputError: when the file is missing, not JSON, of another format, or a
            stage lacks a field or has one of the wrong type.
    """
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.is_file():
        raise InvalidInputError(
            "not a pipeline run directory: manifest.json is missing", path=run_dir
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"not valid JSON ({error.msg})", path=path, line=error.lineno
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError("expected a JSON object", path=path)
    if data.get("format") != FORMAT:
        raise InvalidInputError(
            f"unsupported manifest format {data.get('format')!r} (this polyret reads {FORMAT})",
            path=path,
            field="format",
        )
    stages = data.get("stages")
    if not isinstance(stages, list):
        raise InvalidInputError("'stages' must be a list", path=path, field="stages")
    parsed = []
    for number, stage in enumerate(stages):
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
        parsed.append(
            Stage(
                name=stage["name"],
                type=stage["type"],
                key=stage["key"],
                dir=stage["dir"],
                inputs=tuple(stage["inputs"]),
                seconds=float(stage["seconds"]),
                reused=stage["reused"],
                path=run_dir / stage["dir"],
            )
        )
    return Manifest(
        name=str(data.get("name", run_dir.name)),
        config=dict(data.get("config") or {}),
        stages=tuple(parsed),
        run_dir=run_dir,
    )


@dataclass
class RunContents:
    """What the report shows, gathered from a run directory.

    Attributes:
        manifest: The parsed manifest.
        evaluations: ``(stage, evaluation.json contents)`` per evaluate stage.
        training_sets: ``(stage, TrainingSet)`` per generate/filter/mine stage.
        training_logs: ``(stage, provenance.json contents)`` per training stage.
        notes: Stages whose output could not be read, and why.
    """

    manifest: Manifest
    evaluations: list[tuple[Stage, dict[str, Any]]] = field(default_factory=list)
    training_sets: list[tuple[Stage, Any]] = field(default_factory=list)
    training_logs: list[tuple[Stage, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def funnel_sets(self) -> list[tuple[Stage, Any]]:
        """Training sets no other training-set stage reads: their funnels hold the others'."""
        consumed = {name for stage, _ in self.training_sets for name in stage.inputs}
        return [(s, t) for s, t in self.training_sets if s.name not in consumed]


def collect(run_dir: str | Path) -> RunContents:
    """Read the manifest and every artifact the report shows.

    A stage whose output is missing or unreadable becomes a note in the report rather than
    an error, so a partly finished run still gets a report.
    """
    from polyret.types import TrainingSet

    manifest = read_manifest(run_dir)
    contents = RunContents(manifest)
    for stage in manifest.stages:
        try:
            if stage.type == "evaluate":
                contents.evaluations.append((stage, _json(stage.path / EVALUATION_FILE)))
            elif stage.type in TRAINING_SET_STAGES:
                contents.training_sets.append((stage, TrainingSet.load(stage.path)))
            elif stage.type in TRAIN_STAGES:
                contents.training_logs.append((stage, _json(stage.path / PROVENANCE_FILE)))
        except (OSError, ValueError) as error:
            log.warning("report: cannot read the output of stage %s: %s", stage.name, error)
            contents.notes.append(
                f"stage {stage.name} ({stage.type}): output not readable: {error}"
            )
    return contents


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"not valid JSON ({error.msg})", path=path, line=error.lineno
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError("expected a JSON object", path=path)
    return data
