"""``polyret demo``: the whole chain on the embedded collection, per language.

BM25, dense retrieval with the packaged multilingual encoder, their hybrid (score
interpolation with weights tuned on the dev split) and a reranked hybrid (the hybrid and a
full-text bi-encoder rescoring, ensembled with weights learned on dev) are evaluated on the
test split. No cross-encoder ships with weights, so the reranker is the packaged encoder;
a fine-tuned cross-encoder (training issue) replaces it when trained. The demo becomes
``polyret run`` on a packaged pipeline config when the pipeline lands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from rich.table import Table

from polyret.datasets import load
from polyret.encode import CachedEncoder, Encoder, load_encoder
from polyret.evaluate import Report, evaluate
from polyret.paths import cache_root
from polyret.rerank import BiEncoderReranker, EnsembleReranker
from polyret.retrieve import BM25, Dense, tune_fusion

log = logging.getLogger(__name__)

DEMO_METRICS = ("ndcg@10", "recall@100")
T = TypeVar("T")


@dataclass(frozen=True)
class DemoResult:
    """Reports per system, the learned weights, and how long each step took."""

    dataset: str
    split: str
    reports: Mapping[str, Report]
    seconds: Mapping[str, float]
    hybrid_weights: tuple[float, ...]
    rerank_weights: tuple[float, ...]


def run_demo(
    dataset: str = "xquad-r",
    split: str = "test",
    *,
    encoder: Encoder | str = "multilingual-e5-small",
    k: int = 100,
) -> DemoResult:
    """BM25, dense, hybrid and reranked retrieval on ``dataset``, evaluated on ``split``.

    Every system searches the dev and the evaluated split together; the hybrid weights and
    the reranking ensemble are learned on dev, then applied to ``split``. Document and query
    embeddings are cached on disk (``$POLYRET_CACHE/embeddings``), so a second run encodes
    nothing.
    """
    collection = load(dataset)
    queries, qrels = collection.split(split)
    dev_queries, dev_qrels = collection.split("dev")
    both = collection.queries.filter(ids=[*dev_queries.ids, *queries.ids])
    if isinstance(encoder, str):
        encoder = CachedEncoder(load_encoder(encoder), cache_root() / "embeddings")
    seconds: dict[str, float] = {}

    def step(name: str, work: Callable[[], T]) -> T:
        start = time.perf_counter()
        result = work()
        seconds[name] = time.perf_counter() - start
        log.info("demo: %s took %.1f s", name, seconds[name])
        return result

    bm25 = step("bm25 index", lambda: BM25().index(collection.corpus))
    bm25_run = step("bm25 search", lambda: bm25.search(both, k=k))
    dense = step("dense index", lambda: Dense(encoder).index(collection.corpus, show_progress=True))
    dense_run = step("dense search", lambda: dense.search(both, k=k))
    tuning = step(
        "hybrid tuning (dev)",
        lambda: tune_fusion(
            {"bm25": bm25_run.select(dev_queries.ids), "dense": dense_run.select(dev_queries.ids)},
            dev_qrels,
        ),
    )
    hybrid_run = tuning.apply([bm25_run, dense_run], k=k)
    ensemble = EnsembleReranker({"hybrid": hybrid_run, "bi-encoder": BiEncoderReranker(encoder)})
    step(
        "rerank fit (dev)",
        lambda: ensemble.fit(
            dev_queries, hybrid_run.select(dev_queries.ids), collection.corpus, dev_qrels, k=k
        ),
    )
    test_hybrid = hybrid_run.select(queries.ids)
    reranked = step("rerank", lambda: ensemble.rerank(queries, test_hybrid, collection.corpus, k))
    runs = {
        "BM25": bm25_run.select(queries.ids),
        "dense": dense_run.select(queries.ids),
        "hybrid": test_hybrid,
        "reranked": reranked,
    }
    reports = {
        name: evaluate(run, qrels, DEMO_METRICS, queries=queries) for name, run in runs.items()
    }
    return DemoResult(
        collection.name, split, reports, seconds, tuning.weights, tuple(ensemble.weights)
    )


def systems_table(reports: Mapping[str, Report], metric: str, title: str = "") -> Table:
    """Rich table of one metric: a row per language (and ``all``), a column per system."""
    table = Table(title=title)
    table.add_column("lang")
    table.add_column("queries", justify="right")
    for system in reports:
        table.add_column(system, justify="right")
    first = next(iter(reports.values()))
    groups = [*first.by_lang, "all"]
    for group in groups:
        cells = []
        for report in reports.values():
            means = report.mean if group == "all" else report.by_lang.get(group, {})
            cells.append(f"{means[metric]:.4f}" if metric in means else "-")
        table.add_row(
            group, str(first.num_queries.get(group, 0)), *cells, end_section=group == groups[-2]
        )
    return table
