"""``polyret run CONFIG``: a thin wrapper over :func:`polyret.pipeline.run_pipeline`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from polyret.adapt import ADAPTATION_FILE
from polyret.cli.app import app, console

if TYPE_CHECKING:
    from polyret.pipeline import RunResult, StageResult


@app.command("run")
def run_command(
    config: Path = typer.Argument(..., help="Pipeline config (.yaml, .yml or .toml)."),
    run_dir: Path = typer.Option(
        None, "--run-dir", help="Run directory (default: ./runs/<config name>)."
    ),
    force: list[str] = typer.Option(
        None, "--force", help="Recompute this stage (and what depends on it); repeatable."
    ),
    backend: str = typer.Option(
        None, "--backend", help="local or ray (overrides the config's backend.name)."
    ),
    address: str = typer.Option(
        None, "--address", help="Ray cluster: auto, host:port or ray://host:port."
    ),
    workers: int = typer.Option(None, "--workers", help="Ray actors per stage."),
) -> None:
    """Run a pipeline: every stage once; finished stages are reused, a killed run resumes.

    The heavy stages run where the config's ``backend`` says, or ``--backend ray``; the
    outputs (and the stage folders) are the same on every backend.
    """
    from polyret.pipeline import run_pipeline

    quiet_chunk_logs()
    overrides = {"name": backend, "address": address, "workers": workers}
    result = run_pipeline(
        config, run_dir, force=force or (), on_stage=print_stage, backend=overrides
    )
    print_summary(result)


def quiet_chunk_logs() -> None:
    """Unless --verbose, drop the per-chunk lines of generation (one per 64 documents)."""
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("polyret.curate.base").setLevel(logging.WARNING)


def print_stage(stage: StageResult) -> None:
    """One line per stage: name, type, computed or reused, seconds."""
    status = "[dim]reused[/dim]  " if stage.reused else "[green]computed[/green]"
    console.print(
        f"{status} {stage.name:<24} {stage.type:<20} {stage.seconds:8.1f} s", highlight=False
    )


def print_summary(result: RunResult) -> None:
    """The per-language table of every metric of every evaluate stage, notes, the report."""
    from polyret.pipeline import systems_table

    total = sum(s.seconds for s in result.stages)
    console.print(
        f"[dim]{len(result.computed)} of {len(result.stages)} stages computed, "
        f"{total:.1f} s; run directory {result.run_dir}[/dim]",
        highlight=False,
    )
    for name, evaluation in result.evaluations().items():
        split = result.config.stage(name).params.split
        for metric in evaluation["metrics"]:
            title = f"{result.config.name} · {name} · {split} split: {metric}"
            console.print(systems_table(evaluation, metric, title=title))
    for stage in result.stages:
        if (stage.path / ADAPTATION_FILE).is_file():
            info = json.loads((stage.path / ADAPTATION_FILE).read_text(encoding="utf-8"))
            console.print(f"[dim]{stage.name}: {_adaptation(info)}[/dim]", highlight=False)
        for file in ("fusion.json", "ensemble.json"):
            if (stage.path / file).is_file():
                info = json.loads((stage.path / file).read_text(encoding="utf-8"))
                console.print(f"[dim]{stage.name}: {_describe(info)}[/dim]", highlight=False)
    if result.report is not None:
        console.print(f"report: {result.report}", highlight=False)


def _adaptation(info: dict[str, Any]) -> str:
    trained = f"{info['examples']} label-free rows"
    check = info.get("check")
    if check is None:
        return f"adapted on {trained} (no dev check)"
    verdict = "adapted encoder used" if info["adopted"] else "base encoder kept"
    return (
        f"adapted on {trained}; dev {check['metric']} base {check['base']:.4f} → adapted "
        f"{check['adapted']:.4f} (p {check['p_value']:.2g}): {verdict}"
    )


def _describe(info: dict[str, Any]) -> str:
    weights = info.get("weights")
    if isinstance(weights, list):
        weights = dict(zip(info.get("runs", []), weights, strict=True))
    if isinstance(weights, dict):
        shown = ", ".join(f"{name} {weight:g}" for name, weight in weights.items())
    else:
        shown = "equal"
    tuned = f", learned on {info['tuned_on']}" if info.get("tuned_on") else ""
    kind = info.get("method") or info.get("reranker")
    return f"{kind}, weights {shown}{tuned}"
