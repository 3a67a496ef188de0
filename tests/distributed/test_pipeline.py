"""The same pipeline config on the local and the ray backend: identical runs and metrics."""

from __future__ import annotations

import pytest

from polyret.pipeline.loading import load_config
from polyret.pipeline.runner import run_pipeline

pytestmark = pytest.mark.ray

CONFIG = """
name: distributed-parity
seed: 0
stages:
  - {name: data, type: dataset, params: {source: xquad-r, langs: [de, th]}}
  - {name: bm25-index, type: index-bm25}
  - {name: bm25, type: retrieve, inputs: {index: bm25-index}, params: {splits: [dev, test], k: 50}}
  - {name: dense-index, type: index-dense, params: {encoder: multilingual-e5-small}}
  - {name: dense, type: retrieve, inputs: {index: dense-index},
     params: {splits: [dev, test], k: 50}}
  - name: hybrid
    type: fuse
    inputs: {runs: [bm25, dense]}
    params: {method: interpolation, tune_split: dev}
  - name: evaluation
    type: evaluate
    inputs: {runs: [bm25, dense, hybrid]}
    params: {split: test, permutations: 200}
"""


def test_local_and_ray_give_identical_runs_and_metrics(ray_backend, tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path)
    assert config.backend.name == "local"
    local = run_pipeline(config, tmp_path / "local", report=False)
    ray = run_pipeline(config, tmp_path / "ray", report=False, backend=ray_backend)
    assert ray.computed == local.computed == [s.name for s in config.stages]
    for mine, theirs in zip(ray.stages, local.stages, strict=True):
        assert mine.dir == theirs.dir  # the backend is not part of any stage key
        for name in ("run.trec", "evaluation.json", "fusion.json"):
            if (theirs.path / name).is_file():
                assert (mine.path / name).read_bytes() == (theirs.path / name).read_bytes()
    assert ray.evaluations() == local.evaluations()
    assert ray.evaluations()["evaluation"]  # metrics exist
    manifest = (tmp_path / "ray" / "manifest.json").read_text(encoding="utf-8")
    assert '"name": "ray"' in manifest  # the manifest records the backend that ran

    # a run directory computed locally is reused by the ray backend, stage for stage
    again = run_pipeline(config, tmp_path / "local", report=False, backend="ray")
    assert again.computed == []
