"""Throughput of the Ray backend: local vs Ray with 1 worker vs Ray with 2 workers.

On the embedded xquad-r corpus (2,378 sentences in 9 languages), in one run on the same
machine, with the same shards:

* encoding (docs/s): the packaged multilingual-e5-small (int8 ONNX fast path); local is
  ``Dense.index``'s loop (one ``encode_documents`` call per shard, ONNX threads = all
  cores), Ray runs :func:`polyret.distributed.encode.encode_documents` with 1 and 2 actors
  of 1 CPU each (one ONNX thread each), writing one ``.npy`` shard per slice;
* BM25 analysis (docs/s): the corpus repeated ``--repeat`` times, analyzed per language by
  :func:`polyret.text.analyze_corpus` (local, one process) and by
  :func:`polyret.distributed.bm25.analyze_documents` with 1 and 2 actors.

Ray timings are end to end: actor start, model/analyzer load, shards and the gather, on a
local Ray instance started here (``ray.init(num_cpus=2)``); each backend is the best of
``--repeats`` rounds, the backends interleaved within a round so that a busy machine
slows them alike. Every Ray result is checked equal to the local one. The 1-minute load
average is printed before and after: other jobs share these cores.

Usage::

    python benchmarks/bench_distributed.py [--docs N] [--shard S] [--repeat R] [--repeats K]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local instance: no token file


def best_of(rounds: int, jobs: dict[str, Callable[[], Any]]) -> tuple[dict[str, float], dict]:
    """Best wall time of each job over ``rounds`` interleaved rounds, and its last result."""
    best = dict.fromkeys(jobs, float("inf"))
    results: dict[str, Any] = {}
    for _ in range(rounds):
        for name, job in jobs.items():
            started = time.perf_counter()
            results[name] = job()
            best[name] = min(best[name], time.perf_counter() - started)
    return best, results


def report(title: str, n: int, seconds: dict[str, float]) -> None:
    print(f"\n{title}: {n} documents")
    print(f"  {'backend':<10} {'seconds':>8} {'docs/s':>9} {'vs local':>9}")
    for name, s in seconds.items():
        print(f"  {name:<10} {s:8.2f} {n / s:9.1f} {seconds['local'] / s:8.2f}x")
    print(f"  ray-2 / ray-1 speed-up: {seconds['ray-1'] / seconds['ray-2']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=800, help="documents to encode")
    parser.add_argument("--shard", type=int, default=100, help="documents per encode shard")
    parser.add_argument("--repeat", type=int, default=20, help="corpus copies for BM25 analysis")
    parser.add_argument("--repeats", type=int, default=2, help="rounds (best is kept)")
    args = parser.parse_args()

    import ray

    from polyret.datasets import load
    from polyret.distributed import Backend, EncoderSpec
    from polyret.distributed.bm25 import analyze_documents
    from polyret.distributed.encode import encode_documents
    from polyret.text import analyze_corpus

    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    corpus = load("xquad-r").corpus
    ray.init(
        num_cpus=2,
        object_store_memory=300 * 2**20,
        include_dashboard=False,
        logging_level="WARNING",
        log_to_driver=False,
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    one = Backend("ray", workers=1, batch_size=1000)
    two = Backend("ray", workers=2, batch_size=1000)

    # encoding ------------------------------------------------------------------------------
    spec = EncoderSpec("multilingual-e5-small")
    texts = corpus.full_texts()[: args.docs]
    encoder = spec()
    encoder.encode_documents(texts[:8])  # the ONNX file is built/loaded outside the timing
    shards = [texts[s : s + args.shard] for s in range(0, len(texts), args.shard)]
    seconds, out = best_of(
        args.repeats,
        {
            "local": lambda: np.concatenate([encoder.encode_documents(s) for s in shards]),
            "ray-1": lambda: encode_documents(spec, texts, one, shard_size=args.shard),
            "ray-2": lambda: encode_documents(spec, texts, two, shard_size=args.shard),
        },
    )
    assert all(np.array_equal(out["local"], out[k]) for k in ("ray-1", "ray-2"))
    report(
        f"encoding (multilingual-e5-small int8 ONNX, shards of {args.shard})", len(texts), seconds
    )

    # BM25 analysis -------------------------------------------------------------------------
    bm25_texts = corpus.full_texts() * args.repeat
    langs = list(corpus.langs) * args.repeat
    seconds, out = best_of(
        args.repeats,
        {
            "local": lambda: analyze_corpus(bm25_texts, langs),
            "ray-1": lambda: analyze_documents(bm25_texts, langs, one, options={}),
            "ray-2": lambda: analyze_documents(bm25_texts, langs, two, options={}),
        },
    )
    assert out["local"] == out["ray-1"] == out["ray-2"]
    report("BM25 analysis (per-language analyzers, shards of 1000)", len(bm25_texts), seconds)
    ray.shutdown()
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
