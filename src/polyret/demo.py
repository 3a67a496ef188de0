"""``polyret demo``: the whole chain on the embedded collection, per language.

BM25, dense retrieval with the packaged multilingual encoder, and their hybrid (score
interpolation with weights tuned on the dev split) are evaluated on the test split. Later
stages (rerank, fine-tune) add rows as they land; the demo becomes ``polyret run`` on a
packaged pipeline config.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from rich.table import Table

from polyret.datasets import load
from polyret.encode import Encoder
from polyret.evaluate import Report, evaluate
from polyret.retrieve import BM25, Dense, tune_fusion

log = logging.getLogger(__name__)

DEMO_METRICS = ("ndcg@10", "recall@100")
T = TypeVar("T")


@dataclass(frozen=True)
class DemoResult:
    """Reports per system, the tuned hybrid weights, and how long each step took."""

    dataset: str
    split: str
    reports: Mapping[str, Report]
    seconds: Mapping[str, float]
    hybrid_weights: tuple[float, ...]


def run_demo(
    dataset: str = "xquad-r",
    split: str = "test",
    *,
    encoder: Encoder | str = "multilingual-e5-small",
    k: int = 100,
) -> DemoResult:
    """Run BM25, dense and hybrid retrieval on ``dataset`` and evaluate them on ``split``."""
    collection = load(dataset)
    queries, qrels = collection.split(split)
    dev_queries, dev_qrels = collection.split("dev")
    seconds: dict[str, float] = {}

    def step(name: str, work: Callable[[], T]) -> T:
        start = time.perf_counter()
        result = work()
        seconds[name] = time.perf_counter() - start
        log.info("demo: %s took %.1f s", name, seconds[name])
        return result

    bm25 = step("bm25 index", lambda: BM25().index(collection.corpus))
    bm25_runs = step(
        "bm25 search", lambda: (bm25.search(queries, k=k), bm25.search(dev_queries, k=k))
    )
    dense = step("dense index", lambda: Dense(encoder).index(collection.corpus, show_progress=True))
    dense_runs = step(
        "dense search", lambda: (dense.search(queries, k=k), dense.search(dev_queries, k=k))
    )
    tuning = step(
        "hybrid tuning (dev)",
        lambda: tune_fusion({"bm25": bm25_runs[1], "dense": dense_runs[1]}, dev_qrels),
    )
    hybrid = tuning.apply([bm25_runs[0], dense_runs[0]], k=k)
    reports = {
        name: evaluate(run, qrels, DEMO_METRICS, queries=queries)
        for name, run in {"BM25": bm25_runs[0], "dense": dense_runs[0], "hybrid": hybrid}.items()
    }
    return DemoResult(collection.name, split, reports, seconds, tuning.weights)


def systems_table(reports: Mapping[str, Report], metrics: Sequence[str], title: str = "") -> Table:
    """Rich table: one row per language (and ``all``), one column per system × metric."""
    table = Table(title=title)
    table.add_column("lang")
    table.add_column("queries", justify="right")
    for system in reports:
        for metric in metrics:
            table.add_column(f"{system}\n{_short(metric)}", justify="right")
    first = next(iter(reports.values()))
    groups = [*first.by_lang, "all"]
    for group in groups:
        cells = []
        for report in reports.values():
            means = report.mean if group == "all" else report.by_lang.get(group, {})
            cells += [f"{means[m]:.4f}" if m in means else "-" for m in metrics]
        table.add_row(
            group, str(first.num_queries.get(group, 0)), *cells, end_section=group == groups[-2]
        )
    return table


def _short(metric: str) -> str:
    """Compact column label: ``ndcg@10`` → ``nDCG@10``, ``recall@100`` → ``R@100``."""
    name, _, cutoff = metric.partition("@")
    label = {"ndcg": "nDCG", "recall": "R", "mrr": "MRR", "map": "MAP", "p": "P"}.get(name, name)
    return f"{label}@{cutoff}" if cutoff else label
