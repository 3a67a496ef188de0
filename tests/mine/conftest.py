"""Real data for the mining tests: xquad-r dev pairs and one BM25 run, built once."""

from __future__ import annotations

import pytest

from polyret.mine import pairs_from_qrels
from polyret.types import Run, TrainingSet


@pytest.fixture(scope="session")
def dev_pairs(xquad_r) -> TrainingSet:
    """378 (query, positive) pairs: the dev queries and their judged answer sentence."""
    queries, qrels = xquad_r.split("dev")
    return pairs_from_qrels(queries, qrels, xquad_r.corpus)


@pytest.fixture(scope="session")
def bm25_run(xquad_r, dev_pairs) -> Run:
    """BM25 top 200 for every dev pair (query ids = example ids)."""
    from polyret.retrieve import BM25

    return BM25().index(xquad_r.corpus).search(dev_pairs.queries(), k=200)
