"""Multi-vector first stage: MUVERA candidates + exact MaxSim against exact MaxSim over the
whole corpus and against the dense index, on the same data in one run.

Per collection (test questions): Recall@100 and nDCG@10 of ``dense`` (multilingual-e5-small,
FAISS flat), ``exact`` (MaxSim of every document, :meth:`MultiVector.search_exact`) and
``muvera`` (:meth:`MultiVector.search`: the encodings' top ``candidates`` from FAISS, then
exact MaxSim); bytes per document of each index; search seconds (query encoding included)
and the speed ratio exact / muvera. No ColBERT/PyLate anchor: neither installs offline with
a multilingual checkpoint.

    nice python benchmarks/bench_multivector.py --collections 'xquad-r-de,xquad-p-zh'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import shared_collections

from polyret.evaluate import evaluate
from polyret.io import read_beir
from polyret.retrieve import Dense, MultiVector, MultiVectorConfig

METRICS = ["recall@100", "ndcg@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default="xquad-r-*,xquad-p-*")
    parser.add_argument("--candidates", type=int, default=MultiVectorConfig().candidates)
    parser.add_argument("--out", type=Path, default=Path("/tmp/polyret-bench-mv"))
    args = parser.parse_args()
    print("| collection | system | R@100 | nDCG@10 | bytes/doc | index s | search s |")
    print("|---" * 7 + "|")
    for folder in shared_collections(args.collections):
        target = args.out / f"{folder.name}.json"
        if target.is_file():
            rows = json.loads(target.read_text())
        else:
            rows = measure(folder, args.candidates)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(rows, indent=1))
        for name, r in rows.items():
            print(
                f"| {folder.name} | {name} | {r['recall@100']:.4f} | {r['ndcg@10']:.4f} | "
                f"{r['bytes']:,} | {r['index_s']:.1f} | {r['search_s']:.1f} |"
            )
        speedup = rows["exact"]["search_s"] / rows["muvera"]["search_s"]
        print(f"| {folder.name} | exact / muvera search time | {speedup:.2f}x | | | | |")


def measure(folder: Path, candidates: int) -> dict[str, dict[str, float]]:
    data = read_beir(folder)
    queries, qrels = data.split("test")
    out = {}
    started = time.perf_counter()
    dense = Dense().index(data.corpus)
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    run = dense.search(queries, k=100)
    out["dense"] = _row(run, qrels, 4 * dense.encoder.dim, index_s, started)
    started = time.perf_counter()
    multi = MultiVector(MultiVectorConfig(candidates=candidates)).index(data.corpus)
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    run = multi.search_exact(queries, k=100)
    tokens = multi.bytes_per_document - 4 * multi.fde.output_dim
    out["exact"] = _row(run, qrels, tokens, index_s, started)
    started = time.perf_counter()
    run = multi.search(queries, k=100)
    out["muvera"] = _row(run, qrels, multi.bytes_per_document, index_s, started)
    return out


def _row(run, qrels, size: int, index_s: float, started: float) -> dict[str, float]:
    seconds = time.perf_counter() - started
    scores = evaluate(run, qrels, METRICS).mean
    return {**scores, "bytes": int(size), "index_s": index_s, "search_s": seconds}


if __name__ == "__main__":
    main()
