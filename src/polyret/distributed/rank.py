"""Reranking and mining on Ray: the queries in shards, one merged Run or TrainingSet.

Rerankers score each query's candidates independently of other queries, so a shard of
queries reranked by one actor gives exactly that part of the local run; the shards are
merged back in the input's query order. Mining distributes its expensive half, the
candidate retrieval (each actor loads the index once and searches its shard of training
queries), then the miner runs once on the merged run in the driver, as locally, so
deduplication and sampling see every example.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from polyret.distributed.backend import Backend
from polyret.distributed.ray_data import resolve, run_shards
from polyret.errors import InvalidInputError
from polyret.mine.config import DEFAULT_STRATEGY
from polyret.types import Corpus, Queries, Run, TrainingSet

log = logging.getLogger(__name__)


def _merge(out: list[dict[str, Any]]) -> Run:
    parts = [pickle.loads(row["run"]) for row in out]
    if not parts:
        return Run.from_dict({})
    q, d, s = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return Run.from_arrays(q, d, s)


def _query_shards(query_ids: list[str], size: int) -> list[dict[str, Any]]:
    return [
        {"shard": n, "query_ids": query_ids[start : start + size]}
        for n, start in enumerate(range(0, len(query_ids), size))
    ]


class RerankShards:
    """Ray actor: loads the reranker once, reranks each shard of queries."""

    def __init__(self, reranker: Any, queries: Any, run: Any, corpus: Any, k: int) -> None:
        self.reranker = resolve(reranker)()
        self.queries, self.run, self.corpus = resolve(queries), resolve(run), resolve(corpus)
        self.k = k

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        runs = []
        for ids in batch["query_ids"]:
            wanted = [str(i) for i in ids]
            queries = self.queries.filter(ids=set(wanted))
            reranked = self.reranker.rerank(queries, self.run.select(wanted), self.corpus, self.k)
            runs.append(pickle.dumps(reranked.to_arrays()))
        return {"shard": batch["shard"], "run": runs}


def rerank(
    reranker: Callable[[], Any],
    queries: Queries,
    run: Run,
    corpus: Corpus,
    backend: Backend,
    k: int = 100,
) -> Run:
    """``reranker().rerank(queries, run, corpus, k)`` with the scoring done on Ray.

    A bi-encoder reranker keeps its local logic and encodes through a
    :class:`~polyret.distributed.encoder.RayEncoder` (the local batches, encoded by the
    actors), so its run is bit-identical to the local one, int8 encoders included. Any
    other reranker is run on shards of queries (:func:`rerank_query_shards`).

    Args:
        reranker: A picklable factory (:class:`~polyret.distributed.RerankerSpec`).
        queries: Texts of the run's queries.
        run: The first-stage run (its query order is kept).
        corpus: The documents.
        backend: The ray backend.
        k: Documents per query to rescore.
    """
    from polyret.distributed.encoder import RayEncoder
    from polyret.rerank.bi_encoder import BiEncoderReranker

    local = reranker()
    if not isinstance(local, BiEncoderReranker):
        return rerank_query_shards(reranker, queries, run, corpus, backend, k)
    local.encoder = RayEncoder(local.encoder, EncoderOf(reranker), backend)
    return local.rerank(queries, run, corpus, k)


@dataclass(frozen=True)
class EncoderOf:
    """Factory of the encoder inside the reranker another factory builds."""

    reranker: Callable[[], Any]

    def __call__(self) -> Any:
        return self.reranker().encoder


def rerank_query_shards(
    reranker: Callable[[], Any],
    queries: Queries,
    run: Run,
    corpus: Corpus,
    backend: Backend,
    k: int = 100,
) -> Run:
    """Rerank on Ray with ``batch_size`` queries per shard, merged in the run's query order.

    Identical to the local run when the reranker scores each query independently of the
    others (LLM rerankers, float32 models up to ~1e-8); a model that batches texts of many
    queries together with batch-dependent numerics (int8 activations) may differ slightly.
    """
    wanted = set(queries.ids)
    order = [q for q in run if q in wanted]
    rows = _query_shards(order, backend.batch_size)
    constructor = {"reranker": reranker, "queries": queries, "run": run, "corpus": corpus, "k": k}
    return _merge(run_shards(backend, rows, RerankShards, constructor))


class RetrieveShards:
    """Ray actor: loads a saved index once, retrieves candidates for shards of examples."""

    def __init__(self, index: str, examples: Any, corpus: Any, k: int) -> None:
        from polyret.retrieve import load_index

        self.retriever = load_index(index)
        self.examples, self.corpus, self.k = resolve(examples), resolve(corpus), k

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        from polyret.mine.negatives import retrieve

        runs = []
        for ids in batch["query_ids"]:
            rows = self.examples.ids
            wanted = {str(i) for i in ids}
            shard = self.examples.take([n for n, i in enumerate(rows) if i in wanted])
            run, _ = retrieve(shard, self.corpus, self.retriever, self.k)
            runs.append(pickle.dumps(run.to_arrays()))
        return {"shard": batch["shard"], "run": runs}


def mine_negatives(
    training_set: TrainingSet,
    corpus: Corpus,
    retriever: str | os.PathLike[str],
    backend: Backend,
    strategy: str = DEFAULT_STRATEGY,
    *,
    k: int | None = None,
    work_dir: str | Path | None = None,
    name: str | None = None,
    **overrides: Any,
) -> TrainingSet:
    """:func:`polyret.mine.mine_negatives` with candidate retrieval sharded on Ray.

    Args:
        training_set: The (query, positive) examples.
        corpus: The documents to mine from.
        retriever: A saved index folder (BM25 or dense), or ``"bm25"``: a BM25 index of
            ``corpus`` with default settings is built first (analysis on Ray) and saved
            in ``work_dir``.
        backend: The ray backend (``batch_size`` examples per shard).
        strategy: A registered mining strategy.
        k: Candidates per query (default: the strategy's depth).
        work_dir: Where the ``"bm25"`` index is saved (``None``: a temporary folder).
        name: The retriever's name in the provenance (default: as the local backend
            names ``retriever``).
        **overrides: :class:`~polyret.mine.MiningConfig` fields (``seed``, ...).

    Raises:
        InvalidInputError: ``retriever`` is neither an index folder nor ``"bm25"``.
    """
    from polyret.mine import resolve_miner
    from polyret.mine.negatives import _default_depth

    miner = resolve_miner(strategy, **overrides)
    depth = k or _default_depth(miner)
    spec = str(retriever)
    with tempfile.TemporaryDirectory(prefix="polyret-") as tmp:
        if spec == "bm25":
            from polyret.distributed.bm25 import index_bm25
            from polyret.retrieve import BM25

            folder = Path(work_dir or tmp) / "bm25"
            index_bm25(BM25(), corpus, backend).save(folder, overwrite=True)
            default_name = "bm25"
        elif Path(spec).is_dir():
            folder, default_name = Path(spec), f"index:{spec}"
        else:
            raise InvalidInputError(
                f"the ray backend mines from a saved index folder or 'bm25', not {spec!r}",
                field="retriever",
            )
        name = name or default_name
        rows = _query_shards(training_set.ids, backend.batch_size)
        constructor = {
            "index": str(folder),
            "examples": training_set,
            "corpus": corpus,
            "k": depth,
        }
        run = _merge(run_shards(backend, rows, RetrieveShards, constructor))
    out = miner.mine(training_set, run, corpus)
    out.provenance["mine"] = {**out.provenance.get("mine", {}), "retriever": name, "k": depth}
    return out
