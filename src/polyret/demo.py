"""``polyret demo``: ``polyret run`` on the packaged demo config.

The config (``polyret/pipeline/configs/demo.yaml``) takes the embedded xquad-r collection
through every stage with the packaged models: BM25, dense retrieval with
multilingual-e5-small (int8 ONNX) and their hybrid (min-max interpolation tuned on dev);
then the encoder adapted to the corpus without labels (:mod:`polyret.adapt`: crops of the
corpus's own sentences → length/dedup filters → a BM25-mined negative → InfoNCE steps →
kept only if better on dev), the hybrid over it, and that hybrid reranked (a full-text
bi-encoder rescoring with the adapted encoder, ensembled with weights learned on dev), each
evaluated per language on the test split against the base hybrid.

``adapt.yaml`` (``polyret demo --config adapt``) is the same pipeline with the full
adaptation budget instead of the demo's short one.

The run directory defaults to ``$POLYRET_CACHE/runs/<config>`` (``~/.cache/polyret/runs/demo``):
a second ``polyret demo`` from any folder reuses every finished stage and takes seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from importlib.resources import as_file, files
from pathlib import Path

from polyret.errors import InvalidInputError
from polyret.paths import cache_root
from polyret.pipeline import PipelineConfig, RunResult, StageResult, load_config, run_pipeline

DEMO_METRICS = ("ndcg@10", "recall@100")
"""The metrics the demo prints (its evaluate stage's)."""


DEMO_CONFIGS = ("demo", "adapt")
"""The packaged configs ``polyret demo --config`` runs (``configs/<name>.yaml``)."""


def demo_config(name: str = "demo") -> PipelineConfig:
    """A packaged config (:data:`DEMO_CONFIGS`), validated.

    Raises:
        InvalidInputError: an unknown name.
    """
    if name not in DEMO_CONFIGS:
        raise InvalidInputError(
            f"no packaged config {name!r}; choose one of {', '.join(DEMO_CONFIGS)}",
            field="config",
        )
    with as_file(files("polyret.pipeline") / "configs" / f"{name}.yaml") as path:
        return load_config(path)


def default_demo_dir(name: str = "demo") -> Path:
    """``$POLYRET_CACHE/runs/<name>`` (``~/.cache/polyret/runs/demo``)."""
    return cache_root() / "runs" / name


def run_demo(
    run_dir: str | os.PathLike[str] | None = None,
    *,
    config: str = "demo",
    force: Iterable[str] = (),
    on_stage: Callable[[StageResult], None] | None = None,
) -> RunResult:
    """Run a packaged pipeline (see the module docstring); finished stages are reused."""
    target = Path(run_dir) if run_dir is not None else default_demo_dir(config)
    return run_pipeline(demo_config(config), target, force=force, on_stage=on_stage)
