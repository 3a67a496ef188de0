"""Gather what the report shows from a pipeline run directory.

The manifest is read by :func:`polyret.io.manifest.read_manifest`. The report reads three
kinds of stage output: ``evaluation.json`` of an ``evaluate`` stage (see
:func:`~polyret.report.summarize`), the :class:`~polyret.types.TrainingSet` folder of a
``generate``/``filter``/``mine`` stage, and the ``provenance.json`` (Trainer log history)
of a ``train-bi-encoder`` / ``train-cross-encoder`` stage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyret.io.artifact import read_json_object
from polyret.io.manifest import (
    EVALUATION_FILE,
    Manifest,
    StageResult,
    read_manifest,
    read_provenance,
)

log = logging.getLogger(__name__)

Stage = StageResult  # the report's name for a manifest entry (one class, polyret.io.manifest)

TRAINING_SET_STAGES = ("generate", "filter", "mine")
TRAIN_STAGES = ("train-bi-encoder", "train-cross-encoder")


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
                contents.evaluations.append((stage, read_json_object(stage.path / EVALUATION_FILE)))
            elif stage.type in TRAINING_SET_STAGES:
                contents.training_sets.append((stage, TrainingSet.load(stage.path)))
            elif stage.type in TRAIN_STAGES:
                contents.training_logs.append((stage, read_provenance(stage.path)))
        except (OSError, ValueError) as error:
            log.warning("report: cannot read the output of stage %s: %s", stage.name, error)
            contents.notes.append(
                f"stage {stage.name} ({stage.type}): output not readable: {error}"
            )
    return contents
