"""Hard-negative mining: polyret vs sentence-transformers' ``mine_hard_negatives``.

Both sides mine the same (query, positive) pairs — every judged query of a collection, its
relevant document as the positive — against the same corpus with the same model
(multilingual-e5-small: sentence-transformers loads the folder exported by
``polyret.models``, polyret uses ``load_encoder()``) and equivalent settings:

================================  =====================================================
sentence-transformers             polyret ``MiningConfig``
================================  =====================================================
range_min=10, range_max=50        window="kept", min_rank=11, max_rank=50,
                                  depth=50 + the most positives any query text has
                                  (ST retrieves range_max + max_positives for all)
relative_margin=0.05              perc_pos=0.95 (bound = pos − |pos|·0.05, the same)
num_negatives=5                   num_negatives=5
sampling_strategy="random"        sampling="random" (seeded; ST: ``random.seed``)
use_faiss=True (exact IP)         exact inner product (FAISS IndexFlatIP)
query_prompt / corpus_prompt      the model's ``query: `` / ``passage: `` prefixes
corpus deduplicated by raw text   dedup=True (normalized text), near_duplicate=None
================================  =====================================================

What each side does, and is timed for (model loading excluded on both sides):

* sentence-transformers: ``SentenceTransformer.encode`` of corpus and queries (torch,
  float32, batch 32), FAISS top-51, margin and window rules, n-tuple Dataset.
* polyret: ``mine_negatives(pairs, corpus, load_encoder(), config)`` — what a user gets by
  default: the fast path (ONNX Runtime, int8 weights, length-sorted token-capped batches),
  **no embedding cache**, FAISS exact search, every positive scored, the rules over flat
  arrays, a TrainingSet with provenance and funnel.

"cold" is that call from texts (no cache on either side), best of ``--repeats`` rounds,
the two sides alternating (ABBA) so a busy machine slows them alike; each round's ratio,
their median and the processes' CPU seconds (less sensitive to other jobs) are printed
too. "warm" (one run each) reads embeddings from each side's own cache
(sentence-transformers ``cache_folder``, polyret ``CachedEncoder``), filled by the last
cold round: the cost of mining again.

Agreement: per query, the Jaccard of the candidate pools (every candidate passing the rules,
before sampling: ST's pool is its ``labeled-list`` output with 40 "top" negatives), of the
chosen negatives with random sampling (with the Jaccard two independent draws from
polyret's own pool would have, as the chance level) and of the chosen negatives with "top"
sampling (deterministic, so differences come only from the two encoders' numerics). The
same agreement is measured once more with polyret's float32 ONNX encoder
(``load_encoder(quantize=False)``, equal to sentence-transformers within 1e-4): that
isolates the mining logic from the int8 encoder's small score differences, which reorder
e5's tightly packed scores around the window edges.

Run: ``.venv/bin/python benchmarks/bench_mine.py [--repeats 3] [--shared-langs de,zh,ar]
2>/dev/null`` (stderr: sentence-transformers' progress bars). The bigger set, all judged
queries of the shared ``xquad-r-<lang>`` collections merged into one multilingual corpus,
is skipped when ../shared/data is absent or with ``--shared-langs ''``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
os.environ.setdefault("TQDM_DISABLE", "1")  # mine_hard_negatives always shows its bars

from _common import SHARED_DATA, merged_xquad_r

from polyret.datasets import load
from polyret.encode import CachedEncoder, load_encoder
from polyret.mine import (
    HardNegativeMiner,
    MiningConfig,
    mine_negatives,
    pairs_from_qrels,
    retrieve,
)
from polyret.types import Corpus, Dataset, Qrels, TrainingSet

N = 5
CONFIG = MiningConfig(
    num_negatives=N,
    depth=51,
    window="kept",
    min_rank=11,
    max_rank=50,
    perc_pos=0.95,
    sampling="random",
    near_duplicate=None,
    seed=0,
)
ST_SETTINGS: dict[str, Any] = {
    "range_min": 10,
    "range_max": 50,
    "relative_margin": 0.05,
    "query_prompt": "query: ",
    "corpus_prompt": "passage: ",
    "batch_size": 32,
    "use_faiss": True,
    "verbose": False,
}


class TimedEncoder:
    """An encoder proxy that adds up the seconds spent encoding."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    name = property(lambda self: self.inner.name)
    dim = property(lambda self: self.inner.dim)
    max_length = property(lambda self: self.inner.max_length)
    query_prefix = property(lambda self: self.inner.query_prefix)
    passage_prefix = property(lambda self: self.inner.passage_prefix)
    fingerprint = property(lambda self: self.inner.fingerprint)

    def encode_queries(self, texts, *, show_progress=False):  # type: ignore[no-untyped-def]
        return self._timed(self.inner.encode_queries, texts)

    def encode_documents(self, texts, *, show_progress=False):  # type: ignore[no-untyped-def]
        return self._timed(self.inner.encode_documents, texts)

    def _timed(self, fn: Callable[..., np.ndarray], texts: list[str]) -> np.ndarray:
        start = time.perf_counter()
        out = fn(texts)
        self.seconds += time.perf_counter() - start
        return out


def timed_st_model(model: Any) -> dict[str, float]:
    """Wrap the model's encode entry points so their seconds add up in the returned dict
    (once per model: a second call returns the same dict)."""
    if hasattr(model, "_bench_spent"):
        return model._bench_spent
    spent = {"encode": 0.0}
    model._bench_spent = spent
    for name in ("encode_query", "encode_document"):
        original = getattr(model, name)

        def wrapper(*args: Any, _fn: Callable[..., Any] = original, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = _fn(*args, **kwargs)
            spent["encode"] += time.perf_counter() - start
            return out

        setattr(model, name, wrapper)
    return spent


def st_mine(model: Any, pairs: TrainingSet, corpus: Corpus, **options: Any) -> Any:
    from datasets import Dataset as HFDataset
    from sentence_transformers.util import mine_hard_negatives

    random.seed(options.pop("seed", 0))
    data = HFDataset.from_dict(
        {"anchor": pairs.column("query"), "positive": pairs.column("positive")}
    )
    return mine_hard_negatives(data, model, corpus=corpus.full_texts(), **ST_SETTINGS, **options)


def keyed(examples: list[tuple[str, str, list[str]]]) -> dict[tuple[str, str], set[str]]:
    """``(query, positive) → set of negative texts``."""
    out: dict[tuple[str, str], set[str]] = {}
    for query, positive, negatives in examples:
        out.setdefault((query, positive), set()).update(negatives)
    return out


def from_polyret(mined: TrainingSet) -> dict[tuple[str, str], set[str]]:
    return keyed([(e.query, e.positive, e.negatives) for e in mined])


def from_st_tuples(data: Any) -> dict[tuple[str, str], set[str]]:
    negatives = [c for c in data.column_names if c.startswith("negative_")]
    rows = data.to_dict()
    return keyed(
        [
            (a, p, [rows[c][i] for c in negatives])
            for i, (a, p) in enumerate(zip(rows["anchor"], rows["positive"], strict=True))
        ]
    )


def from_st_lists(data: Any) -> dict[tuple[str, str], set[str]]:
    rows = data.to_dict()
    return keyed(
        [(a, docs[0], docs[1:]) for a, docs in zip(rows["anchor"], rows["positive"], strict=True)]
    )


def jaccard(a: dict, b: dict) -> tuple[float, int]:
    """Mean per-query Jaccard over the queries both sides kept, and their number."""
    common = [k for k in a if k in b]
    values = [len(a[k] & b[k]) / len(a[k] | b[k]) if a[k] | b[k] else 1.0 for k in common]
    return (float(np.mean(values)) if values else float("nan")), len(common)


def chance_jaccard(pool: dict[tuple[str, str], set[str]], n: int, trials: int = 20) -> float:
    rng = np.random.default_rng(0)
    values = []
    for texts in pool.values():
        items = sorted(texts)
        if len(items) < n:
            continue
        for _ in range(trials):
            a = set(rng.choice(len(items), n, replace=False).tolist())
            b = set(rng.choice(len(items), n, replace=False).tolist())
            values.append(len(a & b) / len(a | b))
    return float(np.mean(values))


def compare(
    name: str, dataset: Dataset, model: Any, encoder: Any, repeats: int, float32_check: bool
) -> None:
    queries = dataset.queries
    qrels = {q: r for split in dataset.qrels.values() for q, r in split.items()}
    pairs = pairs_from_qrels(queries, Qrels.from_dict(qrels), dataset.corpus)
    corpus = dataset.corpus
    most = max(Counter(pairs.column("query")).values())
    config = replace(CONFIG, depth=50 + most)
    print(
        f"\n## {name}: {len(pairs)} pairs, {len(corpus)} documents (depth {config.depth})",
        flush=True,
    )
    cache = Path(tempfile.mkdtemp(prefix="bench-mine-"))
    st_spent = timed_st_model(model)
    times: dict[str, list[float]] = {"polyret": [], "sentence-transformers": []}
    cpu: dict[str, list[float]] = {"polyret": [], "sentence-transformers": []}
    encode: dict[str, list[float]] = {"polyret": [], "sentence-transformers": []}
    results: dict[str, Any] = {}
    for round_ in range(repeats):
        last = round_ == repeats - 1
        proxy = TimedEncoder(CachedEncoder(encoder, cache / "polyret") if last else encoder)

        def run_polyret(proxy: TimedEncoder = proxy) -> float:
            results["polyret"] = mine_negatives(pairs, corpus, proxy, config)
            return proxy.seconds

        def run_st(last: bool = last) -> float:
            st_spent["encode"] = 0.0
            results["sentence-transformers"] = st_mine(
                model,
                pairs,
                corpus,
                num_negatives=N,
                sampling_strategy="random",
                output_format="n-tuple",
                cache_folder=str(cache / "st") if last else None,
            )
            return st_spent["encode"]

        sides = [("polyret", run_polyret), ("sentence-transformers", run_st)]
        for side, fn in sides if round_ % 2 == 0 else sides[::-1]:  # ABBA against drift
            wall, process = time.perf_counter(), time.process_time()
            encode[side].append(fn())
            times[side].append(time.perf_counter() - wall)
            cpu[side].append(time.process_time() - process)
        print(
            f"  round {round_ + 1}: polyret {times['polyret'][-1]:.1f} s "
            f"(encoding {encode['polyret'][-1]:.1f} s, CPU {cpu['polyret'][-1]:.1f} s), "
            f"sentence-transformers {times['sentence-transformers'][-1]:.1f} s (encoding "
            f"{encode['sentence-transformers'][-1]:.1f} s, CPU "
            f"{cpu['sentence-transformers'][-1]:.1f} s); ratio "
            f"{times['sentence-transformers'][-1] / times['polyret'][-1]:.2f}x",
            flush=True,
        )
    ours, theirs = results["polyret"], results["sentence-transformers"]
    # warm: embeddings from each side's cache
    start = time.perf_counter()
    mine_negatives(pairs, corpus, CachedEncoder(encoder, cache / "polyret"), config)
    warm_ours = time.perf_counter() - start
    start = time.perf_counter()
    st_mine(
        model,
        pairs,
        corpus,
        num_negatives=N,
        sampling_strategy="random",
        output_format="n-tuple",
        cache_folder=str(cache / "st"),
    )
    warm_theirs = time.perf_counter() - start
    # agreement (untimed, from the caches)
    pool_theirs = from_st_lists(
        st_mine(
            model,
            pairs,
            corpus,
            num_negatives=40,
            sampling_strategy="top",
            output_format="labeled-list",
            cache_folder=str(cache / "st"),
        )
    )
    top_theirs = from_st_tuples(
        st_mine(
            model,
            pairs,
            corpus,
            num_negatives=N,
            sampling_strategy="top",
            output_format="n-tuple",
            cache_folder=str(cache / "st"),
        )
    )
    best_ours, best_theirs = min(times["polyret"]), min(times["sentence-transformers"])
    print(f"\n| {name} | polyret | sentence-transformers | ratio |")
    print("|---|---|---|---|")
    print(
        f"| cold, best of {repeats} (s) | {best_ours:.1f} | {best_theirs:.1f} | "
        f"{best_theirs / best_ours:.2f}x |"
    )
    ratios = np.array(times["sentence-transformers"]) / np.array(times["polyret"])
    print(
        f"| of which encoding (s) | {encode['polyret'][int(np.argmin(times['polyret']))]:.1f} | "
        f"{encode['sentence-transformers'][int(np.argmin(times['sentence-transformers']))]:.1f}"
        " | |"
    )
    print(
        f"| cold, per-round ratios | | | {', '.join(f'{r:.2f}x' for r in ratios)} "
        f"(median {np.median(ratios):.2f}x) |"
    )
    print(
        f"| cold, CPU seconds, best of {repeats} | {min(cpu['polyret']):.1f} | "
        f"{min(cpu['sentence-transformers']):.1f} | "
        f"{min(cpu['sentence-transformers']) / min(cpu['polyret']):.2f}x |"
    )
    print(
        f"| warm, embeddings cached (s) | {warm_ours:.1f} | {warm_theirs:.1f} | "
        f"{warm_theirs / warm_ours:.2f}x |"
    )
    print(f"| rows with {N} negatives | {len(ours)} | {len(theirs)} | |")
    pool_ours, top_ours = polyret_views(
        pairs, corpus, CachedEncoder(encoder, cache / "polyret"), config
    )
    agreement("polyret default (int8)", pool_ours, pool_theirs, top_ours, top_theirs)
    chosen = jaccard(from_polyret(ours), from_st_tuples(theirs))
    print(
        f"  chosen negatives, random sampling: per-query Jaccard {chosen[0]:.3f} over "
        f"{chosen[1]} queries (chance level for independent draws from the same pools: "
        f"{chance_jaccard(pool_ours, N):.3f})"
    )
    if float32_check:
        start = time.perf_counter()
        exact = CachedEncoder(load_encoder(quantize=False), cache / "polyret-float32")
        pool_exact, top_exact = polyret_views(pairs, corpus, exact, config)
        print(f"  (float32 ONNX encoding: {time.perf_counter() - start:.0f} s, untimed)")
        agreement("polyret float32 ONNX", pool_exact, pool_theirs, top_exact, top_theirs)


def polyret_views(pairs: TrainingSet, corpus: Corpus, encoder: Any, config: MiningConfig):  # type: ignore[no-untyped-def]
    """Polyret's candidate pool and its "top" negatives, ``(query, positive) → texts``."""
    run, _ = retrieve(pairs, corpus, encoder, config.depth or 51)
    pool = HardNegativeMiner(config).pool(pairs, run, corpus)
    texts = dict(zip(corpus.ids, corpus.full_texts(), strict=True))
    rows = list(pairs)
    kept = zip(pool.row[pool.keep].tolist(), pool.doc_id[pool.keep].tolist(), strict=True)
    pool_texts = keyed([(rows[r].query, rows[r].positive, [texts[d]]) for r, d in kept])
    top = from_polyret(HardNegativeMiner(config, sampling="top").mine(pairs, run, corpus))
    return pool_texts, top


def agreement(
    label: str, pool_ours: dict, pool_theirs: dict, top_ours: dict, top_theirs: dict
) -> None:
    pools = jaccard(pool_ours, pool_theirs)
    pairs_ours = {(k, t) for k, v in pool_ours.items() for t in v}
    pairs_theirs = {(k, t) for k, v in pool_theirs.items() for t in v}
    shared = len(pairs_ours & pairs_theirs)
    top = jaccard(top_ours, top_theirs)
    print(
        f"\n{label} vs sentence-transformers:\n"
        f"  candidate pools: per-query Jaccard {pools[0]:.3f} over {pools[1]} queries; "
        f"{shared} shared (query, negative) pairs of {len(pairs_ours)} (polyret) and "
        f"{len(pairs_theirs)} (sentence-transformers)\n"
        f"  chosen negatives, top sampling: per-query Jaccard {top[0]:.3f} over {top[1]} queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="Cold rounds (best is kept).")
    parser.add_argument(
        "--no-float32-check", action="store_true", help="Skip the float32 agreement check."
    )
    parser.add_argument(
        "--shared-langs", default="de,zh,ar", help="xquad-r languages of the bigger set."
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch
    from sentence_transformers import SentenceTransformer

    from polyret.models import default_model_path

    start = time.perf_counter()
    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model.encode(["warm-up"])  # first call: allocator and thread pool start, untimed
    st_load = time.perf_counter() - start
    start = time.perf_counter()
    encoder = load_encoder()
    encoder.encode_documents(["warm-up"])  # ONNX export/quantization on first use, untimed
    polyret_load = time.perf_counter() - start
    print(
        f"models loaded (untimed below): sentence-transformers {st_load:.1f} s, polyret "
        f"{polyret_load:.1f} s; torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}"
    )
    compare(
        "xquad-r (embedded)",
        load("xquad-r"),
        model,
        encoder,
        args.repeats,
        not args.no_float32_check,
    )
    langs = tuple(lang for lang in args.shared_langs.split(",") if lang)
    if langs and SHARED_DATA.is_dir():
        bigger = merged_xquad_r(langs)
        compare(f"xquad-r {'+'.join(langs)} (shared)", bigger, model, encoder, args.repeats, False)


if __name__ == "__main__":
    main()
