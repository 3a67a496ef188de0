"""``polyret demo``: ``polyret run`` on the packaged demo config.

The config (``polyret/pipeline/configs/demo.yaml``) takes the embedded xquad-r collection
through every stage with the packaged models: BM25, dense retrieval with
multilingual-e5-small (int8 ONNX), their hybrid (min-max interpolation tuned on dev), a
reranked hybrid (the hybrid and a full-text bi-encoder rescoring, ensembled with weights
learned on dev) and a short label-free fine-tune of the encoder (crops of the corpus's own
sentences → length/dedup filters → a BM25-mined negative → 30 InfoNCE steps), each
evaluated per language on the test split.

The run directory defaults to ``$POLYRET_CACHE/runs/demo`` (``~/.cache/polyret/runs/demo``):
a second ``polyret demo`` from any folder reuses every finished stage and takes seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from importlib.resources import as_file, files
from pathlib import Path

from polyret.paths import cache_root
from polyret.pipeline import PipelineConfig, RunResult, StageResult, load_config, run_pipeline

DEMO_METRICS = ("ndcg@10", "recall@100")
"""The metrics the demo prints (its evaluate stage's)."""


def demo_config() -> PipelineConfig:
    """The packaged demo config, validated."""
    with as_file(files("polyret.pipeline") / "configs" / "demo.yaml") as path:
        return load_config(path)


def default_demo_dir() -> Path:
    """``$POLYRET_CACHE/runs/demo`` (``~/.cache/polyret/runs/demo``)."""
    return cache_root() / "runs" / "demo"


def run_demo(
    run_dir: str | os.PathLike[str] | None = None,
    *,
    force: Iterable[str] = (),
    on_stage: Callable[[StageResult], None] | None = None,
) -> RunResult:
    """Run the demo pipeline (see the module docstring); finished stages are reused."""
    target = Path(run_dir) if run_dir is not None else default_demo_dir()
    return run_pipeline(demo_config(), target, force=force, on_stage=on_stage)
