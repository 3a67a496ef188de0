"""Time polyret.evaluate against pytrec_eval and ir_measures on the same runs.

Usage: python benchmarks/bench_evaluate.py [--queries 10000] [--depth 1000] [--no-ir-measures]

Two cases: a synthetic run (``--queries`` x ``--depth`` random scores over 200k documents,
8 judged documents per query with grades 0-3) and a real run (bm25s, k = ``--depth``, over the
xquad-r collections in ../shared/data, when present). Inputs are built before timing; the
polyret time is given both from a ready ``Run``/``Qrels`` and from plain dict-of-dicts (the
input pytrec_eval and ir_measures take), which includes the conversion.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from polyret.evaluate import compute_metrics
from polyret.types import Qrels, Run

METRICS = ["ndcg@10", "recall@100", "map@100", "p@5", "recall@1000"]
TREC_EVAL = {"ndcg_cut.10", "recall.100,1000", "map_cut.100", "P.5"}
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def synthetic(num_queries: int, depth: int, seed: int = 0) -> tuple[Run, Qrels]:
    rng = np.random.default_rng(seed)
    num_docs = 200_000
    doc_ids = np.array([f"doc{i}" for i in range(num_docs)], dtype=object)
    base = rng.integers(0, num_docs - 2 * depth, num_queries)[:, None]
    indices = base + rng.permuted(np.tile(np.arange(depth), (num_queries, 1)), axis=1)
    scores = rng.random((num_queries, depth)).round(3)  # rounding makes ties
    query_ids = np.array([f"q{i}" for i in range(num_queries)], dtype=object)
    run = Run.from_topk(query_ids, indices, scores, doc_ids)
    unretrieved = base + depth + rng.permuted(np.tile(np.arange(depth), (num_queries, 1)), axis=1)
    judged = np.concatenate([indices[:, :4], unretrieved[:, :4]], axis=1)
    grades = rng.integers(0, 4, judged.shape)
    qrels = Qrels.from_arrays(
        np.repeat(query_ids, judged.shape[1]), doc_ids[judged.ravel()], grades.ravel()
    )
    return run, qrels


def real(depth: int) -> tuple[Run, Qrels] | None:
    import bm25s

    folders = sorted(p for p in SHARED.glob("xquad-r-*") if (p / "stats.json").exists())
    if not folders:
        return None
    runs, qrels = [], {}
    for folder in folders:
        docs = [json.loads(line) for line in _lines(folder / "corpus.jsonl")]
        queries = [json.loads(line) for line in _lines(folder / "queries.jsonl")]
        for line in _lines(folder / "qrels" / "test.tsv")[1:]:
            q, d, s = line.split("\t")
            qrels.setdefault(q, {})[d] = int(s)
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize([d["text"] for d in docs], show_progress=False), show_progress=False
        )
        tokens = bm25s.tokenize([q["text"] for q in queries], show_progress=False)
        k = min(depth, len(docs))
        rows, scores = retriever.retrieve(tokens, k=k, show_progress=False)
        runs.append(
            Run.from_topk([q["_id"] for q in queries], rows, scores, [d["_id"] for d in docs])
        )
    q, d, v = zip(*(r.to_arrays() for r in runs), strict=True)
    return Run.from_arrays(
        np.concatenate(q), np.concatenate(d), np.concatenate(v)
    ), Qrels.from_dict(qrels)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


RESULTS: dict[str, object] = {}


def timed(function: Callable[[], object], key: str = "") -> float:
    started = time.perf_counter()
    RESULTS[key] = function()
    return time.perf_counter() - started


def bench(name: str, run: Run, qrels: Qrels, with_ir_measures: bool) -> None:
    import pytrec_eval

    run_dict, qrels_dict = run.to_dict(), qrels.to_dict()
    print(
        f"\n{name}: {len(run)} queries, {run.num_entries:,} run entries, "
        f"{qrels.num_entries:,} judgments; metrics {', '.join(METRICS)}"
    )
    times = {
        "polyret (Run/Qrels)": timed(
            lambda: compute_metrics(run, qrels, METRICS, missing="skip"), "polyret"
        ),
        "polyret (from dicts)": timed(
            lambda: compute_metrics(run_dict, qrels_dict, METRICS, missing="skip")
        ),
        "pytrec_eval": timed(
            lambda: pytrec_eval.RelevanceEvaluator(qrels_dict, TREC_EVAL).evaluate(run_dict),
            "pytrec_eval",
        ),
    }
    ours = RESULTS["polyret"].to_dict()  # type: ignore[attr-defined]
    theirs = RESULTS["pytrec_eval"]
    names = ["ndcg_cut_10", "recall_100", "map_cut_100", "P_5", "recall_1000"]
    worst = max(
        abs(ours[q][m] - theirs[q][t])
        for q in theirs  # type: ignore[attr-defined]
        for m, t in zip(METRICS, names, strict=True)
    )
    print(f"  per-query max |polyret - pytrec_eval| = {worst:.2e}")
    if with_ir_measures:
        import ir_measures

        measures = [
            ir_measures.parse_measure(m) for m in ("nDCG@10", "R@100", "AP@100", "P@5", "R@1000")
        ]
        times["ir_measures"] = timed(
            lambda: ir_measures.calc_aggregate(measures, qrels_dict, run_dict)
        )
    _print(times)
    # without recall@1000, polyret only reads each list's top 100; trec_eval reads them all
    print(f"  without recall@1000 ({', '.join(METRICS[:4])}):")
    times = {
        "polyret (Run/Qrels)": timed(
            lambda: compute_metrics(run, qrels, METRICS[:4], missing="skip")
        ),
        "pytrec_eval": timed(
            lambda: pytrec_eval.RelevanceEvaluator(
                qrels_dict, {"ndcg_cut.10", "recall.100", "map_cut.100", "P.5"}
            ).evaluate(run_dict)
        ),
    }
    _print(times)


def _print(times: dict[str, float]) -> None:
    fastest = times["polyret (Run/Qrels)"]
    for tool, seconds in times.items():
        print(f"  {tool:<22} {seconds:8.3f} s   {seconds / fastest:7.1f}x polyret")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--no-ir-measures", action="store_true")
    args = parser.parse_args()
    bench("synthetic", *synthetic(args.queries, args.depth), not args.no_ir_measures)
    found = real(args.depth)
    if found is None:
        print(f"\nreal: skipped ({SHARED} has no xquad-r collections)")
    else:
        bench("real (bm25s on xquad-r-*)", *found, not args.no_ir_measures)


if __name__ == "__main__":
    main()
