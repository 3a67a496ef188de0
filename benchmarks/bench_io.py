"""Reading speed: polyret's strict readers vs the usual json.loads loop (BEIR's loader does this).

Reads the largest JSONL file in ../shared/data and a synthetic 100 MB corpus built from the
shared sentences, with both readers, in one run; prints MB/s and the ratio. Also times a
TREC run of 1M lines: polyret vs a split() loop into dict-of-dicts.

    python benchmarks/bench_io.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import require_shared

from polyret.io import read_corpus, read_queries, read_trec_run, write_trec_run
from polyret.types import Run


def json_loop(path: Path) -> dict[str, dict]:
    """The common baseline: one json.loads per line into a dict of dicts."""
    records = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            records[record["_id"]] = record
    return records


def trec_loop(path: Path) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            q, _, d, _, s, _ = line.split()
            run.setdefault(q, {})[d] = float(s)
    return run


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def write_synthetic_corpus(shared: Path, path: Path, megabytes: float = 100) -> None:
    """Repeat the shared XQuAD-R sentences (ids made unique) until the file is that large."""
    records = [
        json.loads(line) for f in shared.glob("xquad-r-??/corpus.jsonl") for line in f.open()
    ]
    written, copy = 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < megabytes * 1e6:
            for record in records:
                line = json.dumps({**record, "_id": f"{record['_id']}-{copy}"}, ensure_ascii=False)
                written += out.write(line + "\n")
            copy += 1


def write_synthetic_run(path: Path, queries: int = 1000, k: int = 1000) -> None:
    rng = np.random.default_rng(0)
    scores = np.sort(rng.random((queries, k)), axis=1)[:, ::-1]
    indices = np.argsort(rng.random((queries, 200_000)), axis=1)[:, :k]
    doc_ids = [f"doc{j}" for j in range(200_000)]
    write_trec_run(Run.from_topk([f"q{i}" for i in range(queries)], indices, scores, doc_ids), path)


def main() -> None:
    shared = require_shared()
    largest = max(shared.glob("*/*.jsonl"), key=lambda p: p.stat().st_size)
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "corpus.jsonl"
        write_synthetic_corpus(shared, synthetic)
        reader = read_queries if "queries" in largest.name else read_corpus
        cases = (("largest shared file", largest, reader), ("synthetic", synthetic, read_corpus))
        for label, path, ours in cases:
            size = path.stat().st_size / 1e6
            t_ours = best_of(lambda p=path, r=ours: r(p))
            t_loop = best_of(lambda p=path: json_loop(p))
            print(f"{label}: {path.name} {size:.1f} MB, {len(ours(path))} records")
            print(
                f"  polyret {size / t_ours:7.1f} MB/s   json.loads loop {size / t_loop:7.1f} MB/s"
                f"   ratio {t_loop / t_ours:.1f}x"
            )
        run_path = Path(tmp) / "run.trec"
        write_synthetic_run(run_path)
        t_ours = best_of(lambda: read_trec_run(run_path))
        t_loop = best_of(lambda: trec_loop(run_path))
        print(
            f"TREC run, 1,000,000 lines: polyret {t_ours:.2f} s, split() loop {t_loop:.2f} s, "
            f"ratio {t_loop / t_ours:.1f}x"
        )


if __name__ == "__main__":
    main()
