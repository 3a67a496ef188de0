"""The :class:`Reranker` protocol and what pairwise rerankers share.

A reranker reorders each query's top ``k`` documents of a first-stage run. Documents
below ``k`` keep their order after the reranked ones, with scores strictly lower than any
reranked score, so the output is still one complete ranking of everything the input held.
Pairwise rerankers (bi-encoder, cross-encoder, LLM pointwise) score (query, document)
pairs independently; their scores are cached on disk per (model fingerprint, query text,
document text), so a second run over the same pairs is free.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from polyret.errors import InvalidInputError
from polyret.io.sqlite import SQLiteCache
from polyret.types import Corpus, Queries, Run

log = logging.getLogger(__name__)


@runtime_checkable
class Reranker(Protocol):
    """What every reranker offers."""

    def rerank(self, queries: Queries, run: Run, corpus: Corpus, k: int = 100) -> Run:
        """Rerank each query's top ``k`` documents of ``run``."""
        ...


@dataclass(frozen=True)
class Candidates:
    """The pairs to rescore: each query's top-``k`` documents, flattened.

    Attributes:
        query_ids: Query of each pair.
        doc_ids: Document of each pair, in first-stage rank order within its query.
        ranks: 1-based first-stage rank of each pair.
        query_texts: Query text of each pair.
        doc_texts: Full document text (``title + " " + text``) of each pair.
        first_stage: First-stage score of each pair.
        starts: Offset of each query's first pair (plus the total at the end).
    """

    query_ids: np.ndarray
    doc_ids: np.ndarray
    ranks: np.ndarray
    query_texts: list[str]
    doc_texts: list[str]
    first_stage: np.ndarray
    starts: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.doc_ids)

    def spans(self) -> list[tuple[str, int, int]]:
        """``(query_id, start, end)`` of each query's pairs."""
        return [
            (str(self.query_ids[s]), int(s), int(e))
            for s, e in zip(self.starts[:-1], self.starts[1:], strict=True)
            if e > s
        ]


def candidates(queries: Queries, run: Run, corpus: Corpus, k: int) -> Candidates:
    """The top-``k`` (query, document) pairs of ``run`` with their texts.

    Raises:
        InvalidInputError: ``k`` < 1, a run query is not in ``queries`` or a document is
            not in ``corpus``.
    """
    if k < 1:
        raise InvalidInputError(f"k must be positive, got {k}", field="k")
    run = Run.from_dict(run)
    top = run.truncate(k)
    q, d, s = top.to_arrays()
    missing = [qid for qid in top.query_ids.tolist() if qid not in queries]
    if missing:
        raise InvalidInputError(
            f"{len(missing)} run queries are not in the queries given, e.g. {missing[0]!r}",
            field="query_id",
        )
    texts = corpus.full_texts()
    try:
        doc_texts = [texts[corpus.row_of(doc)] for doc in d.tolist()]
    except KeyError as error:
        raise InvalidInputError(
            f"document {error.args[0]!r} of the run is not in the corpus", field="doc_id"
        ) from None
    query_text = {qid: queries[qid].text for qid in top.query_ids.tolist()}
    counts = top.counts()
    return Candidates(
        query_ids=q,
        doc_ids=d,
        ranks=top.ranks(),
        query_texts=[query_text[qid] for qid in q.tolist()],
        doc_texts=doc_texts,
        first_stage=s,
        starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    )


def assemble(run: Run, reranked: Mapping[str, Mapping[str, float]], k: int) -> Run:
    """Reranked top-``k`` scores followed by the untouched tail of ``run``.

    Each query's documents below ``k`` keep their first-stage order with scores
    ``min(reranked) - 1, min(reranked) - 2, ...``.

    Example:
        >>> first = Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.5}})
        >>> out = assemble(first, {"q": {"a": 0.1, "b": 0.9}}, k=2)
        >>> out["q"]
        {'b': 0.9, 'a': 0.1, 'c': -0.9, 'd': -1.9}
    """
    run = Run.from_dict(run)
    qs: list[str] = []
    ds: list[str] = []
    scores: list[np.ndarray] = []
    for qid in run:
        doc_ids, _ = run.scores(qid)
        head = reranked.get(qid, {})
        head_ids = doc_ids[:k].tolist()
        if set(head) != set(head_ids):
            raise InvalidInputError(
                f"reranked documents of query {qid!r} differ from its top {k}", field="doc_id"
            )
        head_scores = np.array([head[d] for d in head_ids], dtype=np.float64)
        if len(head_scores) and not np.isfinite(head_scores).all():
            raise InvalidInputError(
                f"a reranked score of query {qid!r} is not finite", field="score"
            )
        tail = doc_ids[k:].tolist()
        floor = float(head_scores.min()) if len(head_scores) else 0.0
        qs += [qid] * (len(head_ids) + len(tail))
        ds += head_ids + tail
        scores += [head_scores, floor - 1.0 - np.arange(len(tail), dtype=np.float64)]
    values = np.concatenate(scores) if scores else np.zeros(0)
    return Run.from_arrays(qs, ds, values)


def pair_key(fingerprint: str, query: str, document: str) -> str:
    """sha1 of (model fingerprint, query text, document text)."""
    payload = f"{fingerprint}\0{query}\0{document}".encode()
    return hashlib.sha1(payload).hexdigest()


class ScoreCache:
    """Scores per (model fingerprint, query text, document text) in one SQLite file.

    Args:
        path: The database file (shared safely by threads and processes).

    Example:
        >>> import tempfile
        >>> cache = ScoreCache(tempfile.mkdtemp() + "/scores.sqlite")
        >>> cache.put("model-1", ["q"], ["d"], [0.5])
        >>> cache.get("model-1", ["q", "q"], ["d", "e"])
        [0.5, None]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.store = SQLiteCache(path, table="scores")

    def get(self, fingerprint: str, queries: list[str], documents: list[str]) -> list[float | None]:
        keys = [pair_key(fingerprint, q, d) for q, d in zip(queries, documents, strict=True)]
        found = self.store.get_many(list(set(keys)))
        return [found.get(key) for key in keys]

    def put(
        self,
        fingerprint: str,
        queries: list[str],
        documents: list[str],
        scores: list[float] | np.ndarray,
    ) -> None:
        self.store.put_many(
            {
                pair_key(fingerprint, q, d): float(s)
                for q, d, s in zip(queries, documents, scores, strict=True)
            }
        )


def as_score_cache(cache: ScoreCache | str | os.PathLike[str] | None) -> ScoreCache | None:
    """``cache`` as a :class:`ScoreCache` (a path opens one)."""
    return cache if cache is None or isinstance(cache, ScoreCache) else ScoreCache(cache)


class PairReranker:
    """Base of rerankers that score each (query, document) pair on its own.

    Subclasses set :attr:`fingerprint` and implement :meth:`score_pairs`.

    Args:
        cache: A :class:`ScoreCache` or its path (``None``: no cache).
        show_progress: Progress bars while scoring.
    """

    fingerprint: str = "pair-reranker"
    fallbacks: int = 0
    """Pairs of the last :meth:`rerank` that got the first-stage fallback score."""

    def __init__(
        self,
        *,
        cache: ScoreCache | str | os.PathLike[str] | None = None,
        show_progress: bool = False,
    ) -> None:
        self.cache = as_score_cache(cache)
        self.show_progress = show_progress

    def score_pairs(self, query_texts: list[str], doc_texts: list[str]) -> np.ndarray:
        """One relevance score per pair (higher is more relevant; NaN: could not score)."""
        raise NotImplementedError

    def rerank(self, queries: Queries, run: Run, corpus: Corpus, k: int = 100) -> Run:
        """Rescore each query's top ``k`` documents; the rest keep their order below.

        Args:
            queries: Texts of the run's queries.
            run: First-stage ranking.
            corpus: Texts of the run's documents (title + text are scored).
            k: Documents per query to rescore.

        Returns:
            A run with the same (query, document) pairs as ``run``.
        """
        found = candidates(queries, run, corpus, k)
        scores = self.score_candidates(found)
        bad = ~np.isfinite(scores)
        self.fallbacks = int(bad.sum())
        if self.fallbacks:
            scores[bad] = first_stage_fallback(found)[bad]
            log.warning(
                "%s: %d of %d pairs could not be scored and got their first-stage fallback score",
                type(self).__name__,
                self.fallbacks,
                len(found),
            )
        return assemble(run, _by_query(found, scores), k)

    def score_candidates(self, found: Candidates) -> np.ndarray:
        """Scores of ``found``'s pairs, from the cache where possible."""
        cached: list[float | None] = [None] * len(found)
        if self.cache is not None:
            cached = self.cache.get(self.fingerprint, found.query_texts, found.doc_texts)
        todo = [i for i, value in enumerate(cached) if value is None]
        scores = np.array([np.nan if v is None else v for v in cached], dtype=np.float64)
        if todo:
            fresh = np.asarray(
                self.score_pairs(
                    [found.query_texts[i] for i in todo], [found.doc_texts[i] for i in todo]
                ),
                np.float64,
            )
            scores[todo] = fresh
            done = [i for i, value in zip(todo, fresh, strict=True) if np.isfinite(value)]
            if self.cache is not None and done:  # failures are retried next time
                self.cache.put(
                    self.fingerprint,
                    [found.query_texts[i] for i in done],
                    [found.doc_texts[i] for i in done],
                    scores[done],
                )
        log.debug(
            "%s: %d pairs, %d from the cache",
            type(self).__name__,
            len(found),
            len(found) - len(todo),
        )
        return scores


def first_stage_fallback(found: Candidates) -> np.ndarray:
    """First-stage scores min-max scaled to [0, 1] per query (the top document gets 1).

    The score a pair gets when the reranker could not score it: on the scale of
    probabilities and grades, and in first-stage order among the fallbacks.
    """
    out = np.empty(len(found))
    for _, start, end in found.spans():
        values = found.first_stage[start:end]
        span = values.max() - values.min()
        out[start:end] = (values - values.min()) / span if span > 0 else 1.0
    return out


def _by_query(found: Candidates, scores: np.ndarray) -> dict[str, dict[str, float]]:
    return {
        qid: dict(zip(found.doc_ids[s:e].tolist(), scores[s:e].tolist(), strict=True))
        for qid, s, e in found.spans()
    }
