"""Learned sparse index (BGE-M3's sparse head) against BM25 (bm25s): size and speed.

The model is a BGE-M3-format folder built from the packaged multilingual-e5-small with a
freshly initialised ``sparse_linear.pt`` (:func:`polyret.models.m3.write_m3_folder`): its
weights are meaningless for quality (nDCG is printed only to show the path runs end to
end), but the index shape (terms per document, bytes per document) and the search cost
(a sparse product over the CSR index) are what a trained head has too.

Per corpus: documents, index bytes per document, weighted terms per document, the time to
index (sparse: the ONNX forward passes; BM25: analysis + bm25s), the time to search every
test question (sparse: query encoding + product; BM25: analysis + bm25s) and the ratios
to bm25s (the anchor). Corpora: the German part of the embedded ``xquad-r`` and, when
``../shared/data`` exists, the shared ``xquad-r-de`` collection.

    nice python benchmarks/bench_sparse.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from _common import SHARED_DATA

from polyret.datasets import load
from polyret.evaluate import evaluate
from polyret.io import read_beir
from polyret.models import default_model_path
from polyret.models.m3 import write_m3_folder
from polyret.retrieve import BM25, LearnedSparse, LearnedSparseConfig
from polyret.types import Corpus, Queries


def main() -> None:
    corpora: list[tuple[str, Corpus, Queries, Any]] = []
    embedded = load("xquad-r")
    queries, qrels = embedded.split("test")
    german = queries.filter(lang="de")
    judged = {q: dict(qrels[q]) for q in german.ids}  # evaluate averages over judged queries
    corpora.append(("xquad-r (embedded) de", embedded.corpus.filter(lang="de"), german, judged))
    shared = SHARED_DATA / "xquad-r-de"
    if (shared / "corpus.jsonl").is_file():
        data = read_beir(shared)
        test_queries, test_qrels = data.split("test")
        corpora.append(("xquad-r-de (shared)", data.corpus, test_queries, test_qrels))
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_m3_folder(default_model_path(), Path(tmp) / "m3")
        config = LearnedSparseConfig(encoder=str(folder), encoder_options={"threads": 2})
        for name, corpus, topics, judged in corpora:
            print_rows(name, measure(corpus, topics, judged, config))


def measure(corpus: Corpus, queries: Queries, qrels: Any, config: LearnedSparseConfig) -> dict:
    """Index and search both ways; sizes, times and nDCG@10 per system."""
    out: dict[str, dict[str, float]] = {}
    start = time.perf_counter()
    bm25 = BM25().index(corpus)
    indexed = time.perf_counter() - start
    start = time.perf_counter()
    run = bm25.search(queries, k=100)
    searched = time.perf_counter() - start
    matrix = bm25._matrix  # bm25s's CSR term × document score matrix
    out["bm25s"] = {
        "index s": indexed,
        "search s": searched,
        "ms/query": 1000 * searched / len(queries),
        "bytes/doc": (matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes)
        / len(corpus),
        "terms/doc": matrix.nnz / len(corpus),
        "ndcg@10": evaluate(run, qrels, ["ndcg@10"]).mean["ndcg@10"],
    }
    sparse = LearnedSparse(config)
    sparse.encoder.encode_queries(["warm up"])  # the ONNX export/session, once
    start = time.perf_counter()
    sparse.index(corpus)
    indexed = time.perf_counter() - start
    start = time.perf_counter()
    run = sparse.search(queries, k=100)
    searched = time.perf_counter() - start
    weights = sparse.encoder.encode_queries(queries.texts)
    start = time.perf_counter()
    sparse.search_weights(queries.ids, weights, k=100)
    product = time.perf_counter() - start
    out["sparse (random head)"] = {
        "index s": indexed,
        "search s": searched,
        "ms/query": 1000 * searched / len(queries),
        "product + top-k ms/query": 1000 * product / len(queries),
        "bytes/doc": sparse.bytes_per_document,
        "terms/doc": sparse.matrix.nnz / len(corpus),
        "terms/query": weights.nnz / max(len(queries), 1),
        "ndcg@10": evaluate(run, qrels, ["ndcg@10"]).mean["ndcg@10"],
    }
    out["meta"] = {"documents": len(corpus), "queries": len(queries)}
    return out


def print_rows(name: str, result: dict) -> None:
    meta = result.pop("meta")
    anchor = result["bm25s"]
    print(f"\n{name}: {meta['documents']} documents, {meta['queries']} test questions")
    for system, row in result.items():
        cells = ", ".join(f"{k} {v:.4g}" for k, v in row.items())
        print(f"  {system:22s} {cells}")
    sparse = result["sparse (random head)"]
    print(
        "  ratio sparse/bm25s: bytes/doc ×{:.2f}, index time ×{:.1f}, search time ×{:.1f}, "
        "search without query encoding ×{:.1f}".format(
            sparse["bytes/doc"] / anchor["bytes/doc"],
            sparse["index s"] / anchor["index s"],
            sparse["search s"] / anchor["search s"],
            sparse["product + top-k ms/query"] / anchor["ms/query"],
        )
    )


if __name__ == "__main__":
    main()
