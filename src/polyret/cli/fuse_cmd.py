"""``polyret fuse`` and ``polyret tune-fusion``: combine TREC runs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from polyret.cli.app import app, console
from polyret.cli.options import config_options
from polyret.io import atomic_write, read_qrels, read_trec_run, write_trec_run
from polyret.retrieve import FuseConfig, fuse, tune_fusion


@app.command("fuse")
@config_options(FuseConfig)
def fuse_command(
    runs: list[Path] = typer.Argument(..., help="TREC run files."),
    out: Path = typer.Option(..., "--out", "-o", help="Fused TREC run to write."),
    k: int = typer.Option(1000, "-k", help="Documents per query in the output."),
    *,
    config: FuseConfig,
) -> None:
    """Fuse runs by reciprocal rank fusion or normalized score interpolation."""
    fused = fuse([read_trec_run(path) for path in runs], config=config, k=k)
    write_trec_run(fused, out, tag=f"polyret-{config.method}")
    console.print(f"fused {len(runs)} runs → {out} ({len(fused)} queries)")


@app.command("tune-fusion")
@config_options(FuseConfig, param="fusion", include=("normalization",))
def tune_fusion_command(
    runs: list[Path] = typer.Argument(..., help="TREC runs of the dev queries."),
    qrels: Path = typer.Option(..., help="Qrels of the dev queries."),
    # interpolation, not FuseConfig's rrf: weights matter most for score interpolation
    method: str = typer.Option("interpolation", help="interpolation or rrf."),
    metric: str = typer.Option("ndcg@10", help="Metric to maximize."),
    step: float = typer.Option(0.1, help="Weight grid step."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the chosen setting as JSON."),
    *,
    fusion: FuseConfig,
) -> None:
    """Choose fusion weights on a dev split; print (and save) the best setting."""
    tuning = tune_fusion(
        {path.name: read_trec_run(path) for path in runs},
        read_qrels(qrels),
        method=FuseConfig(method=method).method,
        metric=metric,
        step=step,
        normalization=fusion.normalization,
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
