"""BM25, dense and hybrid retrieval per language on the shared collections, with an anchor.

For each collection (test split, k=100), nDCG@10 and Recall@100 of:

- ``bm25``: polyret ``BM25()`` (per-language analyzers);
- ``dense``: polyret ``Dense()`` with the default packaged encoder (multilingual-e5-small,
  polyret's fast path), embeddings cached on disk so a re-run only searches;
- ``st-anchor``: the same model through plain sentence-transformers ``encode`` (the exported
  folder, ``query: ``/``passage: `` prompts) + a NumPy inner product, the usual path;
- ``rrf``: reciprocal rank fusion of bm25 and dense;
- ``hybrid``: min-max interpolation of bm25 and dense, weights tuned on the dev split.

Rows are per query language, then the macro average per family and over every row.

    python benchmarks/bench_dense_quality.py [--collections 'xquad-r-*'] [--no-anchor]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from _common import shared_collections

from polyret.encode import CachedEncoder, load_encoder
from polyret.evaluate import evaluate
from polyret.io import read_beir
from polyret.models import default_model_path
from polyret.retrieve import BM25, Dense, fuse, tune_fusion
from polyret.types import Run

K = 100
SYSTEMS = ("bm25", "dense", "st-anchor", "rrf", "hybrid")
CACHE = Path(os.environ.get("POLYRET_BENCH_CACHE", "/tmp/polyret-bench-embeddings"))


def main() -> None:
    args = _parse_args()
    folders = shared_collections(args.collections)
    encoder = CachedEncoder(load_encoder("multilingual-e5-small"), CACHE)
    anchor = None
    if not args.no_anchor:
        from sentence_transformers import SentenceTransformer

        anchor = SentenceTransformer(str(default_model_path()), device="cpu")
    rows: list[tuple[str, str, dict[str, tuple[float, float]]]] = []
    started = time.perf_counter()
    for folder in folders:
        rows += _collection_rows(folder, encoder, anchor)
        print(f"  {folder.name} done ({time.perf_counter() - started:.0f} s)", flush=True)
    systems = [s for s in SYSTEMS if any(s in r[2] for r in rows)]
    _print(rows, systems)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default="xquad-r-*,xquad-p-*,tatoeba-*")
    parser.add_argument("--no-anchor", action="store_true", help="skip sentence-transformers")
    return parser.parse_args()


def _collection_rows(folder: Path, encoder, anchor) -> list:
    data = read_beir(folder)
    test_queries, test_qrels = data.split("test")
    dev_queries, dev_qrels = data.split("dev")
    bm25 = BM25().index(data.corpus)
    dense = Dense(encoder).index(data.corpus)
    runs: dict[str, Run] = {
        "bm25": bm25.search(test_queries, k=K),
        "dense": dense.search(test_queries, k=K),
    }
    if anchor is not None:
        runs["st-anchor"] = _anchor_run(anchor, data.corpus, test_queries)
    runs["rrf"] = fuse([runs["bm25"], runs["dense"]], "rrf", k=K)
    tuning = tune_fusion(
        {"bm25": bm25.search(dev_queries, k=K), "dense": dense.search(dev_queries, k=K)},
        dev_qrels,
    )
    runs["hybrid"] = tuning.apply([runs["bm25"], runs["dense"]], k=K)
    reports = {
        name: evaluate(run, test_qrels, ["ndcg@10", "recall@100"], queries=test_queries)
        for name, run in runs.items()
    }
    langs = next(iter(reports.values())).by_lang
    return [
        (folder.name, lang, {n: tuple(r.by_lang[lang].values()) for n, r in reports.items()})
        for lang in langs
    ]


def _anchor_run(model, corpus, queries) -> Run:
    """The usual path: SentenceTransformer.encode with the model's prompts, then NumPy."""
    docs = model.encode(
        corpus.full_texts(),
        prompt_name="passage",
        batch_size=32,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    query_vectors = model.encode(
        queries.texts,
        prompt_name="query",
        batch_size=32,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    scores = query_vectors @ docs.T
    top = np.argsort(-scores, axis=1)[:, :K]
    return Run.from_topk(queries.ids, top, np.take_along_axis(scores, top, 1), corpus.ids)


def _family(name: str) -> str:
    if name == "xquad-r-xx2en":
        return "xquad-r xx→en"
    return name.rsplit("-", 1)[0] if name.startswith("xquad") else "tatoeba xxx→eng"


def _print(rows: list, systems: list[str]) -> None:
    header = f"{'collection':<18} {'lang':<5}" + "".join(f" {s:>16}" for s in systems)
    print("\nnDCG@10 / Recall@100 per query language (test split)\n" + header)
    for name, lang, scores in rows:
        cells = "".join(
            f"     {scores[s][0]:.3f}/{scores[s][1]:.3f}" if s in scores else f" {'-':>16}"
            for s in systems
        )
        print(f"{name:<18} {lang:<5}{cells}")
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(_family(row[0]), []).append(row)
    groups["all rows"] = rows
    print("\nmacro averages")
    for label, members in groups.items():
        cells = ""
        for system in systems:
            values = np.array([r[2][system] for r in members if system in r[2]])
            cells += f"     {values[:, 0].mean():.3f}/{values[:, 1].mean():.3f}"
        print(f"{label:<18} n={len(members):<3}{cells}")


if __name__ == "__main__":
    main()
