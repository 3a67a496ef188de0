"""BM25 on the full multilingual XQuAD-R (9 languages, one corpus): polyret vs its anchors.

Runs, on the same data in one process:
- plain bm25s (its own regex tokenizer + English Snowball stemmer + English stopwords, the
  usage its README shows), index and retrieve;
- rank_bm25 (BM25Okapi, whitespace tokens) on a sample of queries (it scores every document
  per query in Python/NumPy, so all queries would take minutes);
- polyret BM25 (per-language analyzers), with 1 and 2 analysis processes;
- search alone with identical tokens: bm25s.retrieve vs polyret's batched sparse search;
- per space-delimited language (xquad-r-de/en/es/ru/ar/hi/tr, corpus repeated 4x): index +
  search wall time of polyret vs plain bm25s with the language's Snowball stemmer, best of 3.
Prints wall times, ratios and nDCG@10 per system.

    python benchmarks/bench_bm25.py
"""

from __future__ import annotations

import os
import time

import bm25s
import numpy as np
import Stemmer
from _common import merged_xquad_r, require_shared, timed
from rank_bm25 import BM25Okapi

from polyret.evaluate import evaluate
from polyret.io import read_beir
from polyret.retrieve import BM25
from polyret.types import Corpus, Run

K = 100
RANK_BM25_SAMPLE = 300


def main() -> None:
    data = merged_xquad_r()
    queries, qrels = data.split("test")
    texts, doc_ids = data.corpus.full_texts(), np.asarray(data.corpus.ids, dtype=object)
    print(
        f"data: {len(data.corpus)} documents, {len(queries)} test queries, "
        f"{len(data.corpus.languages())} languages, {os.cpu_count()} cores"
    )
    t: dict[str, float] = {}
    ndcg: dict[str, float] = {}

    # bm25s as its README uses it
    stemmer = Stemmer.Stemmer("english")
    doc_tokens = timed(
        "bm25s tokenize corpus",
        lambda: bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
        t,
    )
    reference = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
    timed("bm25s index", lambda: reference.index(doc_tokens, show_progress=False), t)
    results = timed(
        "bm25s tokenize+retrieve queries",
        lambda: reference.retrieve(
            bm25s.tokenize(queries.texts, stopwords="en", stemmer=stemmer, show_progress=False),
            k=K,
            show_progress=False,
        ),
        t,
    )
    ndcg["bm25s"] = _ndcg(
        Run.from_topk(queries.ids, results.documents, results.scores, doc_ids), qrels
    )

    # rank_bm25 on a sample of queries
    okapi = timed(
        "rank_bm25 index (whitespace)",
        lambda: BM25Okapi([x.lower().split() for x in texts], k1=0.9, b=0.4),
        t,
    )
    sample = queries.take(np.arange(min(RANK_BM25_SAMPLE, len(queries))))
    scores = timed(
        f"rank_bm25 search {len(sample)} queries",
        lambda: np.stack([okapi.get_scores(q.lower().split()) for q in sample.texts]),
        t,
    )
    top = np.argsort(-scores, axis=1)[:, :K]
    ndcg["rank_bm25 (sample)"] = _ndcg(
        Run.from_topk(sample.ids, top, np.take_along_axis(scores, top, 1), doc_ids),
        qrels.select(sample.ids),
    )

    # polyret
    ours = BM25()
    timed("polyret index (1 process)", lambda: ours.index(data.corpus), t)
    timed("polyret index (2 processes)", lambda: BM25().index(data.corpus, processes=2), t)
    run = timed("polyret analyze+search queries", lambda: ours.search(queries, k=K), t)
    ndcg["polyret"] = _ndcg(run, qrels)
    ours_sample = ours.search(sample, k=K)
    ndcg["polyret (same sample)"] = _ndcg(ours_sample, qrels.select(sample.ids))

    # search only, identical tokens (bm25s's tokens for both)
    same_tokens = bm25s.tokenize(
        queries.texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )
    timed(
        "search only: bm25s.retrieve",
        lambda: reference.retrieve(same_tokens, k=K, show_progress=False),
        t,
    )
    timed(
        "search only: bm25s.retrieve n_threads=2",
        lambda: reference.retrieve(same_tokens, k=K, show_progress=False, n_threads=2),
        t,
    )
    wrapped = BM25.from_bm25s(reference, doc_ids)  # polyret's search over bm25s's own index
    same_run = timed(
        "search only: polyret batched",
        lambda: wrapped.search_terms(queries.ids, same_tokens, k=K),
        t,
    )
    assert abs(_ndcg(same_run, qrels) - ndcg["bm25s"]) < 0.005, (
        "same tokens must give the same quality"
    )

    search_only = t["search only: polyret batched"]
    per_query_rank = t[f"rank_bm25 search {len(sample)} queries"] / len(sample)
    per_query_ours = t["polyret analyze+search queries"] / len(queries)
    bm25s_total = t["bm25s tokenize corpus"] + t["bm25s index"]
    ratios = {
        "search only, same tokens, vs bm25s 1 thread": t["search only: bm25s.retrieve"]
        / search_only,
        "search only, same tokens, vs bm25s 2 threads": t["search only: bm25s.retrieve n_threads=2"]
        / search_only,
        "analyze+search per query vs rank_bm25": per_query_rank / per_query_ours,
        "index, 2 vs 1 analysis processes": t["polyret index (1 process)"]
        / t["polyret index (2 processes)"],
        "index (all languages analyzed) vs bm25s (English only)": bm25s_total
        / t["polyret index (1 process)"],
    }
    print("\nratios (anchor time / polyret time; > 1 means polyret is faster)")
    for label, ratio in ratios.items():
        print(f"  {label:<56} {ratio:6.2f}x")
    print("\nnDCG@10 (test)")
    for system, value in ndcg.items():
        print(f"  {system:<24} {value:.4f}")


SPACE_DELIMITED = {
    "de": "german", "en": "english", "es": "spanish", "ru": "russian",
    "ar": "arabic", "hi": "hindi", "tr": "turkish",
}  # fmt: skip


def per_language_end_to_end(repeats: int = 3, copies: int = 4) -> None:
    """Index + search time per space-delimited language, polyret vs plain bm25s."""
    print(f"\nindex + search, one language at a time (corpus x{copies}), best of {repeats}")
    for lang, algorithm in SPACE_DELIMITED.items():
        data = read_beir(require_shared() / f"xquad-r-{lang}")
        records = [
            {"id": f"{d.id}-{c}", "text": d.text, "lang": lang}
            for c in range(copies)
            for d in data.corpus
        ]
        corpus, queries = Corpus.from_records(records), data.queries
        stemmer = Stemmer.Stemmer(algorithm)

        def plain_bm25s(corpus=corpus, queries=queries, stemmer=stemmer) -> None:
            model = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
            model.index(
                bm25s.tokenize(corpus.texts, stemmer=stemmer, show_progress=False),
                show_progress=False,
            )
            model.retrieve(
                bm25s.tokenize(queries.texts, stemmer=stemmer, show_progress=False),
                k=K,
                show_progress=False,
            )

        def ours(corpus=corpus, queries=queries) -> None:
            BM25().index(corpus).search(queries, k=K)

        ours()  # load the analyzer once, as a long-running process would have it
        anchor = min(_wall(plain_bm25s) for _ in range(repeats))
        polyret = min(_wall(ours) for _ in range(repeats))
        print(
            f"  {lang}: {len(corpus)} docs, {len(queries)} queries  bm25s {anchor:5.2f} s  "
            f"polyret {polyret:5.2f} s  polyret/bm25s {polyret / anchor:4.2f}"
        )


def _wall(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _ndcg(run: Run, qrels) -> float:
    return evaluate(run, qrels, ["ndcg@10"], by=None).mean["ndcg@10"]


if __name__ == "__main__":
    main()
    per_language_end_to_end()
