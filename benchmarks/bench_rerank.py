"""Reranking benchmark: nDCG@10 of hybrid vs reranked per language, and throughput.

Quality: on the embedded xquad-r test split (and, when ../shared/data exists, the
xquad-p paragraph collections, where documents are longer), the hybrid top-100
(BM25 + Dense(multilingual-e5-small), RRF) is reranked by the bi-encoder and by an
ensemble of hybrid + bi-encoder whose weights are learned on the dev split.

Throughput: (query, document) pairs per second of ``BiEncoderReranker.score_pairs``
against the same model called directly, ``SentenceTransformer(e5_folder).encode`` of the
pairs' queries and documents (batch 32) plus the cosine, in one process, one after the
other, on the same pairs.

Run: ``.venv/bin/python benchmarks/bench_rerank.py [--pairs 2000] [--shared]``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from polyret.datasets import corpus_from, load, queries_from
from polyret.encode import CachedEncoder, load_encoder
from polyret.evaluate import evaluate
from polyret.io import read_qrels
from polyret.rerank import BiEncoderReranker, EnsembleReranker, candidates
from polyret.retrieve import BM25, Dense, fuse

log = logging.getLogger("bench_rerank")
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def quality(name, corpus, splits, encoder) -> None:
    dense = Dense(encoder).index(corpus)
    bm25 = BM25().index(corpus)
    firsts = {}
    for split, (queries, _qrels) in splits.items():
        firsts[split] = fuse(
            [bm25.search(queries, k=100), dense.search(queries, k=100)], "rrf", k=100
        )
    reranker = BiEncoderReranker(encoder)
    dev_q, dev_qrels = splits["dev"]
    ensemble = EnsembleReranker({"hybrid": firsts["dev"], "bi-encoder": reranker})
    fit = ensemble.fit(dev_q, firsts["dev"], corpus, dev_qrels, k=100)
    queries, qrels = splits["test"]
    ensemble.members["hybrid"] = firsts["test"]
    runs = {
        "hybrid": firsts["test"],
        "bi-encoder": reranker.rerank(queries, firsts["test"], corpus, k=100),
        "ensemble": ensemble.rerank(queries, firsts["test"], corpus, k=100),
    }
    reports = {n: evaluate(r, qrels, ["ndcg@10"], queries=queries) for n, r in runs.items()}
    langs = sorted(reports["hybrid"].by_lang)
    print(
        f"\n## {name} (test, nDCG@10; ensemble weights {fit.weights} learned on dev; "
        f"{reranker.windowed} extra windows)"
    )
    print("| run | mean | " + " | ".join(langs) + " |")
    print("|---|---|" + "---|" * len(langs))
    for n, report in reports.items():
        cells = " | ".join(f"{report.by_lang[lang]['ndcg@10']:.4f}" for lang in langs)
        print(f"| {n} | {report.mean['ndcg@10']:.4f} | {cells} |")


def throughput(dataset, encoder, e5_folder: Path, pairs: int) -> None:
    from sentence_transformers import SentenceTransformer

    queries, _ = dataset.split("test")
    bm25 = BM25().index(dataset.corpus)
    per_query = 20
    first = bm25.search(queries.take(range(pairs // per_query)), k=per_query)
    found = candidates(queries, first, dataset.corpus, per_query)
    qt, dt = found.query_texts, found.doc_texts
    reranker = BiEncoderReranker(encoder)  # no cache: every pair is scored
    start = time.perf_counter()
    ours = reranker.score_pairs(qt, dt)
    t_ours = time.perf_counter() - start
    model = SentenceTransformer(str(e5_folder), device="cpu")
    start = time.perf_counter()
    q = model.encode(["query: " + t for t in qt], batch_size=32, normalize_embeddings=True)
    d = model.encode(["passage: " + t for t in dt], batch_size=32, normalize_embeddings=True)
    theirs = np.einsum("ij,ij->i", q, d)
    t_st = time.perf_counter() - start
    agree = np.corrcoef(ours, theirs)[0, 1]
    print(f"\n## throughput ({len(qt)} pairs, {len(set(dt))} unique documents)")
    print(f"polyret BiEncoderReranker: {len(qt) / t_ours:.1f} pairs/s ({t_ours:.1f} s)")
    print(f"sentence-transformers encode of the pairs: {len(qt) / t_st:.1f} pairs/s ({t_st:.1f} s)")
    print(
        f"ratio polyret / sentence-transformers: {t_st / t_ours:.2f}x; score correlation "
        f"{agree:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--shared", action="store_true", help="also the xquad-p collections")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from polyret.models import default_model_path

    e5_folder = default_model_path()
    fast = load_encoder("multilingual-e5-small")
    throughput(load("xquad-r"), fast, e5_folder, args.pairs)
    cache_dir = Path.home() / ".cache" / "polyret" / "bench-rerank-embeddings"
    encoder = CachedEncoder(fast, cache_dir)
    dataset = load("xquad-r")
    quality(
        "xquad-r (embedded)",
        dataset.corpus,
        {s: dataset.split(s) for s in ("dev", "test")},
        encoder,
    )
    if args.shared and SHARED.is_dir():
        for lang in ("de", "zh", "ar"):
            folder = SHARED / f"xquad-p-{lang}"
            corpus = corpus_from(str(folder))
            splits = {
                s: (queries_from(str(folder), split=s), read_qrels(folder / "qrels" / f"{s}.tsv"))
                for s in ("dev", "test")
            }
            quality(f"xquad-p-{lang}", corpus, splits, encoder)


if __name__ == "__main__":
    main()
