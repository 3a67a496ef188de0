"""``polyret demo``: index, search and evaluate the embedded collection, per language.

For now the chain is BM25 only; later stages (dense, hybrid, rerank, fine-tune) add rows as
they land, and the demo becomes ``polyret run`` on a packaged pipeline config.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.table import Table

from polyret.datasets import load
from polyret.evaluate import Report, evaluate
from polyret.retrieve import BM25

log = logging.getLogger(__name__)

DEMO_METRICS = ("ndcg@10", "recall@100")


@dataclass(frozen=True)
class DemoResult:
    """Reports per system, and how long each step took."""

    dataset: str
    split: str
    reports: Mapping[str, Report]
    seconds: Mapping[str, float]


def run_demo(dataset: str = "xquad-r", split: str = "test", k: int = 100) -> DemoResult:
    """Run every available first stage on ``dataset`` and evaluate it on ``split``."""
    collection = load(dataset)
    queries, qrels = collection.split(split)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    bm25 = BM25().index(collection.corpus)
    seconds["bm25 index"] = time.perf_counter() - start
    start = time.perf_counter()
    run = bm25.search(queries, k=k)
    seconds["bm25 search"] = time.perf_counter() - start
    log.info(
        "BM25: %d documents indexed in %.1f s, %d queries searched in %.1f s",
        len(collection.corpus),
        seconds["bm25 index"],
        len(queries),
        seconds["bm25 search"],
    )
    reports = {"BM25": evaluate(run, qrels, DEMO_METRICS, queries=queries)}
    return DemoResult(collection.name, split, reports, seconds)


def systems_table(reports: Mapping[str, Report], metrics: Sequence[str], title: str = "") -> Table:
    """Rich table: one row per language (and ``all``), one column per system × metric."""
    table = Table(title=title)
    table.add_column("lang")
    table.add_column("queries", justify="right")
    for system in reports:
        for metric in metrics:
            table.add_column(f"{system}\n{metric}", justify="right")
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
