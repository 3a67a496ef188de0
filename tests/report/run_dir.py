"""A pipeline run directory built from real components, following the manifest schema exactly.

BM25 and a hashing-encoder Dense retriever (and their RRF fusion) search the dev queries of
the embedded xquad-r collection; :func:`polyret.report.summarize` writes the evaluate
stage's ``evaluation.json``. A real ICT training set is generated and filtered with
:mod:`polyret.curate`. The training stage's ``provenance.json`` holds a made-up but
schema-true Hugging Face Trainer log history (no model is trained).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from polyret.curate import apply_filters, generate, load_filter, load_generator
from polyret.datasets import load
from polyret.evaluate import EvaluationConfig
from polyret.report import summarize
from polyret.retrieve import BM25, Dense, fuse
from polyret.types import Qrels, Queries, Run

METRICS = ["ndcg@10", "recall@100", "mrr@10"]
FUNNEL_LANGS = ["ar", "de", "hi", "zh"]


def stage_entry(
    name: str, type: str, inputs: list[str], seconds: float, reused: bool
) -> dict[str, Any]:
    """One manifest stage: ``dir`` is ``stages/<name>-<key12>`` as the pipeline writes it."""
    key = hashlib.sha256(f"{name}:{type}:{inputs}".encode()).hexdigest()
    return {
        "name": name,
        "type": type,
        "key": key,
        "dir": f"stages/{name}-{key[:12]}",
        "inputs": inputs,
        "seconds": seconds,
        "reused": reused,
    }


def trainer_log(steps: int = 300, langs: tuple[str, ...] = ("de", "zh", "ar")) -> list[dict]:
    """A Trainer ``state.log_history``: loss every 10 steps, dev evaluation every 50."""
    history: list[dict[str, Any]] = []
    per_epoch = 100
    for step in range(10, steps + 1, 10):
        epoch = round(step / per_epoch, 2)
        history.append(
            {
                "loss": round(2.2 * math.exp(-step / 90) + 0.35 + 0.03 * math.sin(step), 4),
                "grad_norm": round(4.0 * math.exp(-step / 200) + 0.5, 4),
                "learning_rate": 2e-5 * (1 - step / steps),
                "epoch": epoch,
                "step": step,
            }
        )
        if step % 50 == 0:
            entry: dict[str, Any] = {"eval_loss": round(1.9 * math.exp(-step / 120) + 0.5, 4)}
            overall = 0.0
            for i, lang in enumerate(langs):
                ceiling, gain, pace = (0.66, 0.49, 0.57)[i % 3], 0.3 - 0.04 * i, 70 + 25 * i
                value = round(ceiling - gain * math.exp(-step / pace), 4)
                entry[f"eval_ndcg@10_{lang}"] = value
                overall += value / len(langs)
            entry["eval_ndcg@10"] = round(overall, 4)
            entry.update(
                {
                    "eval_runtime": 3.21,
                    "eval_samples_per_second": 117.8,
                    "eval_steps_per_second": 3.7,
                    "epoch": epoch,
                    "step": step,
                }
            )
            history.append(entry)
    history.append(
        {
            "train_runtime": 512.3,
            "train_samples_per_second": 18.7,
            "train_steps_per_second": 0.59,
            "total_flos": 0.0,
            "train_loss": 0.71,
            "epoch": steps / per_epoch,
            "step": steps,
        }
    )
    return history


def retrieval_runs() -> tuple[dict[str, Run], Queries, Qrels]:
    """BM25, hashing-encoder Dense and their RRF fusion on xquad-r dev (top 100)."""
    dataset = load("xquad-r")
    queries, qrels = dataset.split("dev")
    bm25 = BM25().index(dataset.corpus).search(queries, k=100)
    dense = Dense("hashing", dim=256).index(dataset.corpus).search(queries, k=100)
    hybrid = fuse([bm25, dense], "rrf")
    return {"bm25": bm25, "dense-hashing": dense, "hybrid-rrf": hybrid}, queries, qrels


def build_run_dir(
    root: Path,
    retrieval: tuple[dict[str, Run], Queries, Qrels] | None = None,
    *,
    permutations: int = 2000,
) -> Path:
    """Write a complete run directory under ``root`` and return it."""
    runs, queries, qrels = retrieval or retrieval_runs()
    dataset = load("xquad-r")

    stages = [
        stage_entry("data", "dataset", [], 0.41, True),
        stage_entry("bm25", "retrieve", ["data"], 3.92, True),
        stage_entry("dense", "retrieve", ["data"], 1.48, False),
        stage_entry("hybrid", "fuse", ["bm25", "dense"], 0.12, False),
        stage_entry("generate", "generate", ["data"], 0.93, True),
        stage_entry("filter", "filter", ["generate"], 1.05, False),
        stage_entry("train", "train-bi-encoder", ["filter"], 512.3, False),
        stage_entry("evaluate", "evaluate", ["bm25", "dense", "hybrid"], 0.97, False),
    ]
    dirs = {s["name"]: root / s["dir"] for s in stages}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)

    summary = summarize(
        runs,
        qrels,
        queries,
        EvaluationConfig(metrics=METRICS, baseline="bm25", permutations=permutations),
    )
    # as the pipeline writes it: sorted keys ("1", "10", "100", "2", ... for the recall depths)
    (dirs["evaluate"] / "evaluation.json").write_text(
        json.dumps(summary, indent=1, ensure_ascii=False, sort_keys=True)
    )

    generator = load_generator("ict", group_by=r"^(.*)_s\d+$")
    generated = generate(generator, dataset.corpus.filter(lang=FUNNEL_LANGS))
    generated.save(dirs["generate"], overwrite=True)
    kept = apply_filters(
        generated,
        [load_filter("length", min_words=6, max_words=40), load_filter("dedup")],
    )
    kept.save(dirs["filter"], overwrite=True)

    provenance = {
        "kind": "bi-encoder",
        "base": {"name": "hashing-test-double"},
        "config": {"epochs": 3, "batch_size": 32},
        "training_set": {"rows": len(kept)},
        "training": {
            "global_step": 300,
            "train_loss": 0.71,
            "last_logged_loss": 0.41,
            "resumed_from": None,
            "runtime_s": 512.3,
            "best_checkpoint": None,
            "log_history": trainer_log(),
        },
    }
    (dirs["train"] / "provenance.json").write_text(json.dumps(provenance, indent=1))

    manifest = {
        "format": 1,
        "name": "xquad-r-demo",
        "config": {"dataset": "xquad-r", "split": "dev", "metrics": METRICS},
        "stages": stages,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return root


def many_systems(retrieval: tuple[dict[str, Run], Queries, Qrels]) -> dict[str, Run]:
    """Eight systems with long names, as a comparison of adapted variants has: the three
    retrieval runs and five more fusions of BM25 and Dense."""
    runs = retrieval[0]
    pair = [runs["bm25"], runs["dense-hashing"]]
    more = {
        f"hybrid-interpolation-{w}": fuse(pair, "interpolation", weights=[w, 1 - w])
        for w in (0.7, 0.8, 0.9, 0.95)
    }
    return {**runs, **more, "reranked-cross-encoder": fuse(pair, "rrf", weights=[0.85, 0.15])}


def build_evaluation_dir(
    root: Path, runs: dict[str, Run], retrieval: tuple[dict[str, Run], Queries, Qrels]
) -> Path:
    """A run directory holding only an evaluate stage over ``runs`` (baseline: the first)."""
    _, queries, qrels = retrieval
    stage = stage_entry("evaluate", "evaluate", list(runs), 1.5, False)
    (root / stage["dir"]).mkdir(parents=True)
    config = EvaluationConfig(metrics=METRICS, baseline=next(iter(runs)), permutations=500)
    summary = summarize(runs, qrels, queries, config)
    (root / stage["dir"] / "evaluation.json").write_text(json.dumps(summary))
    manifest = {"format": 1, "name": "many-systems", "config": {}, "stages": [stage]}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root
