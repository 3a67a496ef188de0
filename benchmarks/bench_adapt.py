"""Label-free adaptation (``polyret.adapt``) measured on held-out human questions.

For each collection, run monolingually as a user would with their own corpus (or the
embedded 9-language demo collection, ``--embedded``), the anchor is the base system:

- ``dense``: the packaged multilingual-e5-small (polyret's int8 path), k=100;
- ``hybrid``: BM25 + dense, min-max interpolation with weights tuned on dev;
- ``adapted``: dense with the encoder :func:`polyret.adapt.adapt` delivers (trained on
  crops of the corpus's own documents with BM25-mined negatives; no human question; the
  dev check keeps the base when the adapted model is worse on dev);
- ``adapted-hybrid``: BM25 + adapted dense, weights tuned on dev;
- ``three-way``: BM25 + base dense + adapted dense, weights tuned on dev.

Test nDCG@10 per query language, the difference to the base and the paired randomization
test's p-value (10,000 sign flips). ``--variant NAME=JSON`` runs other recipes
(:class:`~polyret.adapt.AdaptConfig` fields, e.g. ``'lr5=\\{"train": \\{"learning_rate":
5e-5\\}\\}'``) side by side on the same base runs. Results (JSON, one file per collection and
variant) go to ``--out``, and a finished one is reused when the script runs again.

    nice python benchmarks/bench_adapt.py --collections 'xquad-r-*,xquad-p-*'
    nice python benchmarks/bench_adapt.py --embedded \
        --variant 'steps300={"train": {"max_steps": 300}}'
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import shared_collections

from polyret.adapt import AdaptConfig, adapt
from polyret.datasets import load
from polyret.evaluate import Report, evaluate, randomization_test
from polyret.io import read_beir, write_trec_run
from polyret.retrieve import BM25, Dense, tune_fusion
from polyret.types import Dataset, Run

K = 100
METRIC = "ndcg@10"
FUSED = {
    "hybrid": ["bm25", "dense"],
    "adapted-hybrid": ["bm25", "adapted"],
    "three-way": ["bm25", "dense", "adapted"],
}


def main() -> None:
    args = parse_args()
    variants = {"default": {}} | dict(parse_variant(v) for v in args.variant)
    if args.only_variants:
        variants.pop("default")
    datasets = [load("xquad-r")] if args.embedded else []
    if args.collections:
        datasets += [read_beir(folder) for folder in shared_collections(args.collections)]
    results = []
    for data in datasets:
        base = None
        for name, overrides in variants.items():
            target = args.out / f"{data.name}.{name}.json"
            if target.is_file():
                results.append(json.loads(target.read_text()))
                continue
            if base is None:
                base = base_runs(data)
            recipe = AdaptConfig.model_validate({**overrides, "seed": args.seed})
            folder = args.out / "models" / f"{data.name}.{name}"
            result = measure(data, base, recipe, folder)
            if not args.keep_models:
                shutil.rmtree(folder)
            result["variant"] = name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(result, indent=1))
            results.append(result)
            print_rows([result])
    print_rows(results, summary=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default="", help="shared collections (glob list)")
    parser.add_argument("--embedded", action="store_true", help="the demo's xquad-r too")
    parser.add_argument("--variant", action="append", default=[], help="NAME=JSON recipe")
    parser.add_argument("--only-variants", action="store_true", help="skip the default recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-models", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/polyret-bench-adapt"))
    return parser.parse_args()


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, recipe = text.partition("=")
    return name, json.loads(recipe or "{}")


def base_runs(data: Dataset) -> dict[str, Any]:
    """BM25 and base dense runs over dev and test, and the dev-tuned base hybrid."""
    bm25 = BM25().index(data.corpus)
    dense = Dense().index(data.corpus)
    return {"bm25-index": bm25, **split_runs(data, {"bm25": bm25, "dense": dense})}


def split_runs(data: Dataset, indexes: dict[str, Any]) -> dict[str, Run]:
    runs = {}
    for split in ("dev", "test"):
        queries, _ = data.split(split)
        for name, index in indexes.items():
            runs[f"{name}/{split}"] = index.search(queries, k=K)
    return runs


def hybrid(runs: dict[str, Run], names: list[str], data: Dataset) -> tuple[Run, tuple[float, ...]]:
    """The test runs of ``names`` fused with weights tuned on dev."""
    tuning = tune_fusion({name: runs[f"{name}/dev"] for name in names}, data.split("dev")[1])
    return tuning.apply([runs[f"{name}/test"] for name in names], k=K), tuning.weights


def measure(data: Dataset, base: dict[str, Any], recipe: AdaptConfig, folder: Path) -> dict:
    started = time.perf_counter()
    result = adapt(
        data,
        folder,
        recipe,
        retriever=base["bm25-index"],
        base_run=base["dense/dev"],
        overwrite=True,
    )
    seconds = time.perf_counter() - started
    runs = {**base, **split_runs(data, {"adapted": Dense(str(result.folder)).index(data.corpus)})}
    queries, qrels = data.split("test")
    systems = {"dense": runs["dense/test"], "adapted": runs["adapted/test"]}
    weights = {}
    for name, members in FUSED.items():
        systems[name], weights[name] = hybrid(runs, members, data)
    saved = folder.parent / f"{folder.name}.runs"  # every run, for analyses without retraining
    saved.mkdir(parents=True, exist_ok=True)
    for name, run in runs.items():
        if isinstance(run, Run):
            write_trec_run(run, saved / f"{name.replace('/', '.')}.trec")
    reports = {n: evaluate(r, qrels, [METRIC], queries=queries) for n, r in systems.items()}
    check = result.check
    return {
        "collection": data.name,
        "adopted": result.adopted,
        "examples": result.examples,
        "adapt_seconds": round(seconds, 1),
        "dev": None if check is None else {"base": check.base, "adapted": check.adapted},
        "weights": weights,
        "langs": per_language(reports),
        "recipe": recipe.model_dump(mode="json"),
    }


def per_language(reports: dict[str, Report]) -> dict[str, dict[str, float]]:
    """``{lang: {system: mean, "p(adapted)": p, "p(adapted-hybrid)": p}}`` plus ``all``."""
    order = reports["dense"].query_ids.tolist()
    scores = {}
    for name, report in reports.items():
        position = {q: i for i, q in enumerate(report.query_ids.tolist())}
        scores[name] = report.scores[[position[q] for q in order], 0]
    langs = reports["dense"].langs
    out = {}
    for lang in [*sorted(set(langs.tolist())), "all"]:
        rows = np.ones(len(order), bool) if lang == "all" else langs == lang
        cells = {name: float(values[rows].mean()) for name, values in scores.items()}
        for adapted, base in (
            ("adapted", "dense"),
            ("adapted-hybrid", "hybrid"),
            ("three-way", "hybrid"),
        ):
            p = randomization_test(scores[adapted][rows], scores[base][rows])
            cells[f"p({adapted})"] = float(p)
        cells["queries"] = int(rows.sum())
        out[lang] = cells
    return out


def print_rows(results: list[dict], *, summary: bool = False) -> None:
    columns = "dense | adapted | Δ | p | hybrid | adapted hybrid | Δ | p | three-way | Δ | p"
    print(f"\n| collection | variant | lang | {columns} |")
    print("|---" * 14 + "|")
    deltas: dict[str, list[tuple[float, float]]] = {}
    for result in results:
        for lang, c in result["langs"].items():
            if lang == "all" and len(result["langs"]) == 2:
                continue  # a one-language collection: its row is the language's
            d1, d2 = c["adapted"] - c["dense"], c["adapted-hybrid"] - c["hybrid"]
            three = c.get("three-way")
            d3 = float("nan") if three is None else three - c["hybrid"]
            tail = (
                "- | - | - |"
                if three is None
                else (f"{three:.4f} | {d3:+.4f} | {c['p(three-way)']:.3g} |")
            )
            print(
                f"| {result['collection']} | {result['variant']} | {lang} | {c['dense']:.4f} | "
                f"{c['adapted']:.4f} | {d1:+.4f} | {c['p(adapted)']:.3g} | {c['hybrid']:.4f} | "
                f"{c['adapted-hybrid']:.4f} | {d2:+.4f} | {c['p(adapted-hybrid)']:.3g} | {tail}"
            )
            if lang != "all":
                deltas.setdefault(result["variant"], []).append((d1, d2, d3))
    if summary:
        for variant, values in deltas.items():
            mean = np.nanmean(np.array(values), axis=0)
            print(
                f"\n{variant}: mean over {len(values)} (collection, language) rows: "
                f"dense {mean[0]:+.4f}, hybrid {mean[1]:+.4f}, three-way {mean[2]:+.4f} nDCG@10"
            )


if __name__ == "__main__":
    main()
