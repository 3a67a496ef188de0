""":func:`mine_negatives`: retrieve for the training queries, then mine.

One call from (query, positive) pairs to a training set with hard negatives: the retriever
is built or loaded, searched with the training queries, and the run handed to a miner.
With a dense retriever the positives' scores are computed exactly (the query embedding
against the positive's embedding, already computed for the index), so positive-relative
rules (TopK-PercPos, TopK-MarginPos) know every positive's score, as
sentence-transformers' ``mine_hard_negatives`` does, even when the positive falls below
the retrieved depth.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from polyret.encode import Encoder, load_encoder
from polyret.errors import InvalidInputError
from polyret.mine.config import DEFAULT_RETRIEVER, DEFAULT_STRATEGY, MiningConfig
from polyret.mine.miner import HardNegativeMiner, Miner, resolve_miner
from polyret.mine.pool import corpus_rows
from polyret.rerank.base import Reranker
from polyret.types import Corpus, Queries, Run, TrainingSet

log = logging.getLogger(__name__)

DEFAULT_DEPTH = 100
"""Documents retrieved per query when neither ``k`` nor the strategy's window says."""


@runtime_checkable
class Searcher(Protocol):
    """Anything that ranks documents for queries (BM25, Dense, a pipeline stage)."""

    def search(self, queries: Queries, k: int = ...) -> Run: ...


RetrieverSpec = str | os.PathLike[str] | Searcher | Encoder | Run


def mine_negatives(
    training_set: TrainingSet,
    corpus: Corpus,
    retriever: RetrieverSpec = DEFAULT_RETRIEVER,
    strategy: str | MiningConfig | Miner = DEFAULT_STRATEGY,
    *,
    k: int | None = None,
    guide: Reranker | Encoder | str | None = None,
    show_progress: bool = False,
    **overrides: Any,
) -> TrainingSet:
    """Retrieve candidates for every example's query and mine hard negatives from them.

    Args:
        training_set: (query, positive) examples; positives should be ``corpus`` documents
            (``positive_id``) so they are never mined as their own negatives.
        corpus: The documents to mine from.
        retriever: ``"dense"`` (the packaged multilingual-e5-small, exact search),
            ``"bm25"``, ``"hybrid"`` (both, fused by RRF), an :class:`~polyret.encode.Encoder`
            (exact dense search with it), an index folder (``polyret index``), a TREC run
            file, a :class:`~polyret.types.Run`, or any object with ``search(queries, k)``.
        strategy: A registered strategy name, a :class:`MiningConfig` or a miner.
        k: Documents retrieved per query (default: the strategy's ``depth``, else its
            ``max_rank`` + 1, else 100).
        guide: The guide of the GISTEmbed filter (a loaded reranker or encoder, or a
            reranker name).
        show_progress: Progress bars while indexing and encoding.
        **overrides: :class:`MiningConfig` fields (``num_negatives``, ``seed``, ...).

    Returns:
        The mined training set; ``provenance["mine"]["retriever"]`` names the retriever.

    Example:
        >>> from polyret.types import Corpus, TrainingSet
        >>> corpus = Corpus.from_dict({"p": "the Rhine flows north", "a": "the Rhine",
        ...                            "b": "the Main flows west", "c": "tea"}, lang="en")
        >>> examples = TrainingSet.from_records([{"id": "e1", "query": "Rhine flows",
        ...     "lang": "en", "positive_id": "p", "positive": "the Rhine flows north"}])
        >>> mined = mine_negatives(examples, corpus, "bm25", "top-k", num_negatives=2)
        >>> mined["e1"].negative_ids
        ['a', 'b']
    """
    miner = resolve_miner(strategy, guide=guide, **overrides)
    depth = k or _default_depth(miner)
    run, name = retrieve(training_set, corpus, retriever, depth, show_progress=show_progress)
    out = miner.mine(training_set, run, corpus)
    out.provenance["mine"] = {**out.provenance.get("mine", {}), "retriever": name, "k": depth}
    return out


def retrieve(
    training_set: TrainingSet,
    corpus: Corpus,
    retriever: RetrieverSpec,
    k: int,
    *,
    show_progress: bool = False,
) -> tuple[Run, str]:
    """The run of ``retriever`` for the training queries, and a name for provenance.

    Dense runs (``"dense"``, an encoder, a dense index) also hold each positive with its
    exact score when it falls below ``k``.
    """
    from polyret.retrieve import BM25, Dense, fuse, load_index

    queries = training_set.queries()
    if isinstance(retriever, Run):
        return retriever, "run"
    if isinstance(retriever, Encoder):
        return dense_run(training_set, corpus, retriever, k, show_progress), retriever.name
    if isinstance(retriever, str | os.PathLike):
        spec = str(retriever)
        path = Path(spec)
        if spec == "bm25":
            bm25 = BM25().index(corpus, show_progress=show_progress)
            return bm25.search(queries, k=k, show_progress=show_progress), "bm25"
        if spec == "dense":
            return dense_run(training_set, corpus, load_encoder(), k, show_progress), "dense"
        if spec == "hybrid":
            encoder = load_encoder()
            dense = dense_run(training_set, corpus, encoder, k, show_progress)
            bm25 = BM25().index(corpus, show_progress=show_progress)
            lexical = bm25.search(queries, k=k, show_progress=show_progress)
            return fuse([lexical, dense], "rrf", k=k), "hybrid"
        if path.is_dir():
            retriever = load_index(path)
            spec = f"index:{path}"
        elif path.is_file():
            from polyret.io import read_trec_run

            return read_trec_run(path), f"run:{path}"
        else:
            raise InvalidInputError(
                f"unknown retriever {spec!r}: use bm25, dense, hybrid, an index folder or a "
                "TREC run file",
                field="retriever",
            )
    else:
        spec = type(retriever).__name__
    if isinstance(retriever, Dense):
        embeddings = _query_embeddings(training_set, retriever.encoder, show_progress)
        run = retriever.search_embeddings(training_set.ids, embeddings, k)
        scores = _missing_positive_scores(run, training_set, corpus, retriever.encoder, embeddings)
        return with_positives(run, training_set, scores), spec
    if isinstance(retriever, Searcher):
        return retriever.search(queries, k=k), spec
    raise InvalidInputError(f"cannot retrieve with a {type(retriever).__name__}", field="retriever")


def dense_run(
    training_set: TrainingSet,
    corpus: Corpus,
    encoder: Encoder,
    k: int,
    show_progress: bool = False,
) -> Run:
    """Exact inner-product top ``k`` over ``corpus``, plus every positive's exact score."""
    from polyret.retrieve import Dense

    documents = encoder.encode_documents(corpus.full_texts(), show_progress=show_progress)
    queries = _query_embeddings(training_set, encoder, show_progress)
    dense = Dense(encoder).index_embeddings(corpus.ids, documents)
    run = dense.search_embeddings(training_set.ids, queries, k)
    rows = corpus_rows(corpus, training_set.table.column("positive_id"), strict=False)
    scores = np.full(len(training_set), np.nan)
    in_corpus = np.flatnonzero(rows >= 0)
    scores[in_corpus] = _rowwise_dot(queries[in_corpus], documents[rows[in_corpus]])
    others = np.flatnonzero(rows < 0)
    if len(others):  # positives that are not corpus documents: encode them
        texts = training_set.table.column("positive").take(pa.array(others)).to_pylist()
        scores[others] = _rowwise_dot(queries[others], encoder.encode_documents(texts))
    return with_positives(run, training_set, scores)


def with_positives(run: Run, training_set: TrainingSet, scores: np.ndarray) -> Run:
    """``run`` plus (example, positive, score) for positives it lacks (NaN scores skipped).

    Example:
        >>> from polyret.types import TrainingSet
        >>> ts = TrainingSet.from_records([{"id": "e", "query": "q", "positive_id": "p",
        ...                                 "positive": "P"}])
        >>> with_positives(Run.from_dict({"e": {"a": 0.9}}), ts, np.array([0.5]))["e"]
        {'a': 0.9, 'p': 0.5}
    """
    add = missing_positives(run, training_set)
    add = add[~np.isnan(scores[add])]
    if not len(add):
        return run
    q, d, s = run.to_arrays()
    ids = np.asarray(training_set.ids, dtype=object)
    positive_ids = np.asarray(training_set.column("positive_id"), dtype=object)
    return Run.from_arrays(
        np.concatenate([q, ids[add]]),
        np.concatenate([d, positive_ids[add]]),
        np.concatenate([s, scores[add]]),
    )


def missing_positives(run: Run, training_set: TrainingSet) -> np.ndarray:
    """Rows whose positive is a document (``positive_id``) that ``run`` lacks for them."""
    positive_ids = np.asarray(training_set.column("positive_id"), dtype=object)
    row_of = {example: i for i, example in enumerate(training_set.ids)}
    rows = np.fromiter((row_of.get(q, -1) for q in run.query_ids.tolist()), np.int64, len(run))
    entry_rows = np.repeat(rows, run.counts())
    _, doc_ids, _ = run.to_arrays()
    known = entry_rows >= 0
    hit = np.zeros(len(known), dtype=bool)
    hit[known] = doc_ids[known] == positive_ids[entry_rows[known]]
    found = np.zeros(len(training_set), dtype=bool)
    found[entry_rows[hit]] = True
    return np.flatnonzero(~found & (positive_ids != ""))


def _default_depth(miner: Miner) -> int:
    if not isinstance(miner, HardNegativeMiner):
        return DEFAULT_DEPTH
    config = miner.config
    if config.depth is not None:
        return config.depth
    if config.max_rank is not None:
        return config.max_rank + 1
    return DEFAULT_DEPTH


def _query_embeddings(
    training_set: TrainingSet, encoder: Encoder, show_progress: bool
) -> np.ndarray:
    """One embedding per example, each distinct query text encoded once."""
    encoded = training_set.table.column("query").combine_chunks().dictionary_encode()
    unique = encoder.encode_queries(encoded.dictionary.to_pylist(), show_progress=show_progress)
    return unique[encoded.indices.to_numpy(zero_copy_only=False)]


def _missing_positive_scores(
    run: Run, training_set: TrainingSet, corpus: Corpus, encoder: Encoder, queries: np.ndarray
) -> np.ndarray:
    """Scores of the positives ``run`` lacks, by encoding their texts (NaN elsewhere)."""
    rows = missing_positives(run, training_set)
    scores = np.full(len(training_set), np.nan)
    if not len(rows):
        return scores
    docs = corpus_rows(
        corpus, training_set.table.column("positive_id").take(pa.array(rows)), strict=False
    )
    texts = training_set.table.column("positive").take(pa.array(rows)).to_pylist()
    full = corpus.take(docs[docs >= 0]).full_texts()
    for position, row in enumerate(np.flatnonzero(docs >= 0).tolist()):
        texts[row] = full[position]
    scores[rows] = _rowwise_dot(queries[rows], encoder.encode_documents(texts))
    return scores


def _rowwise_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a.astype(np.float32), b.astype(np.float32)).astype(np.float64)
