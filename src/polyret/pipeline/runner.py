"""Run a pipeline: every stage once, reused when finished, resumed when interrupted.

The files of a run directory (``manifest.json``, ``provenance.json``, ...) are declared,
written and read by :mod:`polyret.io.manifest`.

A stage's folder is named after its key (:mod:`polyret.pipeline.keys`). It is built in a
hidden temporary sibling and renamed into place only when complete
(:func:`polyret.io.atomic_directory`), so a killed stage leaves nothing that looks
finished; the next run removes the leftovers and computes the stage again, whole. A stage
whose folder exists is reused; changing a stage changes its key and the keys downstream,
so exactly those are recomputed (folders of old keys stay, so switching back is free).
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import resource
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyret.distributed.backend import Backend, backend_from, ray_session
from polyret.errors import UnknownNameError
from polyret.io import atomic_directory
from polyret.io.atomic import file_lock
from polyret.io.manifest import (
    PROVENANCE_FILE,
    STAGES_DIR,
    StageResult,
    evaluations,
    stage_named,
    versions,
    write_manifest,
    write_provenance,
)
from polyret.pipeline.context import StageContext
from polyret.pipeline.keys import stage_keys
from polyret.pipeline.loading import load_config
from polyret.pipeline.registry import stage_types
from polyret.pipeline.schema import PipelineConfig, StageBase

log = logging.getLogger(__name__)

# libraries whose versions a stage's output depends on (recorded in its provenance)
_VERSIONED = ("numpy", "pyarrow", "bm25s", "faiss-cpu", "onnxruntime", "torch",
              "transformers", "sentence-transformers")  # fmt: skip


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_pipeline` did: the run directory and every stage, in order."""

    run_dir: Path
    config: PipelineConfig
    stages: tuple[StageResult, ...]
    report: Path | None = None

    def stage(self, name: str) -> StageResult:
        """The result of the stage called ``name``."""
        return stage_named(self.stages, name)

    def evaluations(self) -> dict[str, dict[str, Any]]:
        """``{evaluate stage name: evaluation.json contents}``."""
        return evaluations(self.stages)

    @property
    def computed(self) -> list[str]:
        """Names of the stages this run computed (not reused)."""
        return [s.name for s in self.stages if not s.reused]


def default_run_dir(config: PipelineConfig) -> Path:
    """``./runs/<config name>``."""
    return Path("runs") / config.name


def run_pipeline(
    config: PipelineConfig | str | os.PathLike[str],
    run_dir: str | os.PathLike[str] | None = None,
    *,
    force: Iterable[str] = (),
    on_stage: Callable[[StageResult], None] | None = None,
    report: bool = True,
    backend: Backend | str | Mapping[str, Any] | None = None,
) -> RunResult:
    """Run every stage of ``config`` in order, reusing the finished ones.

    Args:
        config: A validated config or the path of a YAML/TOML config file.
        run_dir: The run directory (default: ``./runs/<config name>``).
        force: Stage names to recompute even when finished; their dependents are
            recomputed too.
        on_stage: Called with each stage's result as soon as it is done (or reused).
        report: Write ``report.html`` and ``report.md`` (:func:`polyret.report.write_report`)
            at the end.
        backend: Where the heavy stages run: a :class:`~polyret.distributed.Backend`, or
            a name or a mapping of fields that override the config's ``backend`` (``None``
            values ignored). Never part of a stage key: outputs are identical on every
            backend.

    Returns:
        The run directory and each stage's result.

    Raises:
        ConfigError: an invalid config (before any work).
        UnknownNameError: ``force`` names no stage.
    """
    if not isinstance(config, PipelineConfig):
        config = load_config(config)
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    forced = _with_dependents(config, force)
    keys = stage_keys(config)
    stages_dir = run_dir / STAGES_DIR
    stages_dir.mkdir(parents=True, exist_ok=True)
    resolved = config.model_dump(mode="json")
    results: list[StageResult] = []
    dirs: dict[str, Path] = {}
    memo: dict[Any, Any] = {}
    chosen = _backend(config, backend)
    resolved["backend"] = chosen.to_dict()
    session = ray_session(chosen) if chosen.is_ray else contextlib.nullcontext()
    with file_lock(run_dir / ".lock"), session:
        _remove_leftovers(stages_dir)
        for stage in config.stages:
            key = keys[stage.name]
            rel = f"{STAGES_DIR}/{stage.name}-{key[:12]}"
            folder = run_dir / rel
            reused = stage.name not in forced and (folder / PROVENANCE_FILE).is_file()
            started = time.perf_counter()
            if not reused:
                log.info("stage %s (%s): computing into %s", stage.name, stage.type, rel)
                ctx = StageContext(stage, dirs, stage.seed(config.seed), memo, chosen)
                _compute(stage, ctx, folder, key, keys, resolved)
            seconds = round(time.perf_counter() - started, 3)
            dirs[stage.name] = folder
            inputs = tuple(dict.fromkeys(n for ns in stage.references().values() for n in ns))
            result = StageResult(stage.name, stage.type, key, rel, inputs, seconds, reused, folder)
            results.append(result)
            write_manifest(run_dir, config.name, resolved, results)
            log.info(
                "stage %s: %s (%.1f s)", stage.name, "reused" if reused else "computed", seconds
            )
            if on_stage is not None:
                on_stage(result)
    written = _write_report(run_dir) if report else None
    return RunResult(run_dir, config, tuple(results), written)


def _backend(config: PipelineConfig, backend: Backend | str | Mapping[str, Any] | None) -> Backend:
    """The config's backend with ``backend``'s overrides (a Backend replaces it whole)."""
    if isinstance(backend, Backend):
        return backend
    overrides = {"name": backend} if isinstance(backend, str) else dict(backend or {})
    return backend_from(config.backend.model_dump(), **overrides)


def _compute(
    stage: StageBase,
    ctx: StageContext,
    folder: Path,
    key: str,
    keys: dict[str, str],
    resolved: dict[str, Any],
) -> None:
    """Run the stage's adapter into a temporary folder, add provenance, move it into place."""
    adapter = stage_types.get(stage.type)
    started, wall, cpu = time.time(), time.perf_counter(), _cpu_seconds()
    with atomic_directory(folder, overwrite=True) as tmp:
        summary = adapter(stage, ctx, tmp)
        provenance = {
            "stage": stage.name,
            "type": stage.type,
            "key": key,
            "config": next(s for s in resolved["stages"] if s["name"] == stage.name),
            "seed": ctx.seed,
            "inputs": {
                role: [{"stage": n, "key": keys[n], "dir": ctx.dirs[n].name} for n in names]
                for role, names in stage.references().items()
            },
            "summary": summary,
            "versions": versions(_VERSIONED),
            "host": platform.node(),
            "started": _timestamp(started),
            "finished": _timestamp(time.time()),
            "seconds": round(time.perf_counter() - wall, 3),
            "cpu_seconds": round(_cpu_seconds() - cpu, 3),
        }
        # a model's own provenance (a trainer wrote it) keeps its fields, ours goes under
        # "pipeline"
        write_provenance(tmp, provenance, under="pipeline")


def _write_report(run_dir: Path) -> Path | None:
    try:
        from polyret.report import write_report
    except ImportError:  # pragma: no cover - polyret.report ships with polyret
        return None
    html, _ = write_report(run_dir)
    return html


def _remove_leftovers(stages_dir: Path) -> None:
    """Hidden temporary folders of stages a killed run left half-written."""
    for entry in stages_dir.iterdir():
        if entry.name.startswith("."):
            log.info("removing %s (left by an interrupted run)", entry)
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _with_dependents(config: PipelineConfig, force: Iterable[str]) -> set[str]:
    names = [s.name for s in config.stages]
    forced: set[str] = set()
    for name in force:
        if name not in names:
            import difflib

            raise UnknownNameError("stage", name, names, difflib.get_close_matches(name, names))
        forced.add(name)
    for stage in config.stages:  # in order: a dependent comes after what it reads
        if any(n in forced for ns in stage.references().values() for n in ns):
            forced.add(stage.name)
    return forced


def _cpu_seconds() -> float:
    """CPU time of this process (all threads), user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))
