"""Small pipeline configs over a cut of the embedded collection (German and English, a few
queries per split) with the hashing encoder, so a whole run takes seconds."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

SMALL: dict[str, Any] = {
    "name": "small",
    "seed": 0,
    "stages": [
        {
            "name": "data",
            "type": "dataset",
            "params": {"source": "xquad-r", "langs": ["de", "en"], "max_queries": 15},
        },
        {"name": "bm25-index", "type": "index-bm25"},
        {
            "name": "bm25",
            "type": "retrieve",
            "inputs": {"index": "bm25-index"},
            "params": {"splits": ["dev", "test"], "k": 50},
        },
        {
            "name": "dense-index",
            "type": "index-dense",
            "params": {"encoder": "hashing", "encoder_options": {"dim": 64}},
        },
        {
            "name": "dense",
            "type": "retrieve",
            "inputs": {"index": "dense-index"},
            "params": {"splits": ["dev", "test"], "k": 50},
        },
        {
            "name": "hybrid",
            "type": "fuse",
            "inputs": {"runs": ["bm25", "dense"]},
            "params": {"method": "interpolation", "tune_split": "dev", "step": 0.25},
        },
        {
            "name": "reranked",
            "type": "rerank",
            "inputs": {"run": "hybrid"},
            "params": {
                "reranker": "bi-encoder",
                "model": "hashing",
                "options": {"dim": 64},
                "k": 20,
                "ensemble": True,
                "splits": ["test"],
            },
        },
        {
            "name": "crops",
            "type": "generate",
            "params": {
                "method": "crop",
                "options": {"ratio_min": 0.2, "ratio_max": 0.5, "positive": "document"},
                "limit": 120,
            },
        },
        {
            "name": "kept",
            "type": "filter",
            "inputs": {"examples": "crops"},
            "params": {"filters": [{"name": "length"}, {"name": "dedup"}]},
        },
        {
            "name": "mined",
            "type": "mine",
            "inputs": {"examples": "kept", "index": "bm25-index"},
            "params": {"strategy": "random-top-k", "num_negatives": 1, "max_rank": 20},
        },
        {
            "name": "evaluation",
            "type": "evaluate",
            "inputs": {
                "runs": {
                    "BM25": "bm25",
                    "hybrid": "hybrid",
                    "hashing": "dense",
                    "reranked": "reranked",
                }
            },
            "params": {"split": "test", "permutations": 500},
        },
    ],
}
"""Every stage type but training: a complete run takes a few seconds."""


def small_config(**changes: Any) -> dict[str, Any]:
    """A deep copy of :data:`SMALL`; ``changes`` maps a stage name to params to update."""
    config = copy.deepcopy(SMALL)
    for stage in config["stages"]:
        if stage["name"] in changes:
            stage.setdefault("params", {}).update(changes[stage["name"]])
    return config


def with_training(base: Path) -> dict[str, Any]:
    """:data:`SMALL` plus a few steps of bi-encoder training from ``base`` and its index."""
    config = small_config()
    evaluation = config["stages"].pop()
    config["stages"] += [
        {
            "name": "model",
            "type": "train-bi-encoder",
            "inputs": {"examples": "mined"},
            "params": {
                "base": str(base),
                "max_steps": 4,
                "batch_size": 8,
                "learning_rate": 1e-3,
                "max_seq_length": 32,
                "threads": 1,
                "logging_steps": 1,
            },
        },
        {"name": "trained-index", "type": "index-dense", "inputs": {"encoder": "model"}},
        {
            "name": "trained",
            "type": "retrieve",
            "inputs": {"index": "trained-index"},
            "params": {"splits": ["test"], "k": 50},
        },
    ]
    evaluation["inputs"]["runs"]["trained"] = "trained"
    config["stages"].append(evaluation)
    return config


def write_yaml(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory):
    """The small config run once: (config path, run result)."""
    from polyret.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("small-run")
    path = write_yaml(root / "small.yaml", small_config())
    return path, run_pipeline(path, root / "run")
