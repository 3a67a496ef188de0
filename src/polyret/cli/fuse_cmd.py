"""``polyret fuse`` and ``polyret tune-fusion``: combine TREC runs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from polyret.cli.app import app, console
from polyret.io import atomic_write, read_qrels, read_trec_run, write_trec_run
from polyret.retrieve import fuse, tune_fusion
from polyret.retrieve.fusion import fusion_method


def _weights(text: str | None) -> list[float] | None:
    return None if text is None else [float(w) for w in text.split(",")]


@app.command("fuse")
def fuse_command(
    runs: list[Path] = typer.Argument(..., help="TREC run files."),
    out: Path = typer.Option(..., "--out", "-o", help="Fused TREC run to write."),
    method: str = typer.Option("rrf", help="rrf or interpolation."),
    weights: str = typer.Option(None, help="Comma-separated weights, one per run."),
    rrf_k: float = typer.Option(60.0, help="RRF constant."),
    normalization: str = typer.Option("min-max", help="min-max, z-score or none."),
    depth: int = typer.Option(None, help="Use each run's top DEPTH documents."),
    k: int = typer.Option(1000, "-k", help="Documents per query in the output."),
) -> None:
    """Fuse runs by reciprocal rank fusion or normalized score interpolation."""
    fused = fuse(
        [read_trec_run(path) for path in runs],
        method,  # type: ignore[arg-type]
        weights=_weights(weights),
        rrf_k=rrf_k,
        normalization=normalization,  # type: ignore[arg-type]
        depth=depth,
        k=k,
    )
    write_trec_run(fused, out, tag=f"polyret-{method}")
    console.print(f"fused {len(runs)} runs → {out} ({len(fused)} queries)")


@app.command("tune-fusion")
def tune_fusion_command(
    runs: list[Path] = typer.Argument(..., help="TREC runs of the dev queries."),
    qrels: Path = typer.Option(..., help="Qrels of the dev queries."),
    method: str = typer.Option("interpolation", help="interpolation or rrf."),
    metric: str = typer.Option("ndcg@10", help="Metric to maximize."),
    step: float = typer.Option(0.1, help="Weight grid step."),
    normalization: str = typer.Option("min-max", help="min-max, z-score or none."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the chosen setting as JSON."),
) -> None:
    """Choose fusion weights on a dev split; print (and save) the best setting."""
    tuning = tune_fusion(
        {path.name: read_trec_run(path) for path in runs},
        read_qrels(qrels),
        method=fusion_method(method),
        metric=metric,
        step=step,
        normalization=normalization,  # type: ignore[arg-type]
    )
    setting = {
        "method": tuning.method,
        "runs": list(tuning.run_names),
        "weights": list(tuning.weights),
        "rrf_k": tuning.rrf_k,
        "normalization": tuning.normalization,
        "metric": tuning.metric,
        "score": tuning.score,
        "settings_tried": len(tuning.trials),
    }
    console.print_json(json.dumps(setting))
    if out is not None:
        with atomic_write(out) as handle:
            json.dump(setting, handle, indent=1)
