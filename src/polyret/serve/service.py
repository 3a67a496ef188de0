"""The search logic of the service, free of HTTP: one request in, one response out.

Every mode calls polyret's own retrievers (:class:`~polyret.retrieve.BM25`,
:class:`~polyret.retrieve.Dense`, :class:`~polyret.retrieve.MultiVector`,
:class:`~polyret.retrieve.LearnedSparse`), :func:`polyret.retrieve.fuse` and the loaded
reranker, so a hit's score is the score those return for the same query.

Thread safety: the web framework calls :meth:`SearchService.search` from a pool of
threads. Dense indexes share a :class:`~polyret.serve.locked.LockedEncoder` (see there
why); FAISS searches of a built index are read-only and thread-safe. Each BM25,
multi-vector and sparse index and the reranker get a lock of their own (see
:class:`SearchService`).
"""

from __future__ import annotations

import difflib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import get_args

import numpy as np

from polyret._version import __version__
from polyret.errors import InvalidInputError, MissingExtraError, UnknownNameError
from polyret.serve.loading import Fusion, HybridDefaults, LoadedIndex, ServedIndexes
from polyret.serve.schemas import (
    MAX_QUERY_CHARS,
    Health,
    Hit,
    IndexesResponse,
    IndexInfo,
    IndexKind,
    Mode,
    SearchRequest,
    SearchResponse,
)
from polyret.text import detect_language
from polyret.types import UNKNOWN_LANG, Queries, Run

log = logging.getLogger(__name__)

QUERY_ID = "q"


class SearchService:
    """Searches the loaded indexes in every mode.

    Args:
        served: What :func:`~polyret.serve.load_served` opened.

    Example:
        >>> from pathlib import Path
        >>> from polyret.retrieve import BM25
        >>> from polyret.types import Corpus
        >>> from polyret.serve import LoadedIndex, SearchRequest, SearchService, ServedIndexes
        >>> corpus = Corpus.from_records([
        ...     {"id": "d1", "text": "Die Häuser stehen am Rhein.", "lang": "de"},
        ...     {"id": "d2", "text": "Der Zug fährt nach Berlin.", "lang": "de"}])
        >>> bm25 = LoadedIndex("bm25", "bm25", BM25().index(corpus), Path("."))
        >>> service = SearchService(ServedIndexes(Path("."), {"bm25": bm25}, corpus))
        >>> hits = service.search(SearchRequest(query="Haus", lang="de", mode="bm25")).hits
        >>> [(h.doc_id, h.rank, h.lang) for h in hits]
        [('d1', 1, 'de')]
    """

    def __init__(self, served: ServedIndexes) -> None:
        self.served = served
        self.indexes = served.indexes
        corpus = served.corpus
        self._row = {} if corpus is None else {d: n for n, d in enumerate(corpus.ids)}
        self._texts = [] if corpus is None else corpus.full_texts()
        self._langs = [] if corpus is None else corpus.langs
        # BM25 search analyzes the query with module-wide cached analyzers (PyStemmer
        # stemmers, segmenters) that are not documented thread-safe, and the search holds
        # the GIL for most of its ~ms anyway: one search per index at a time. A multi-vector
        # or sparse index's token encoder creates its ONNX session lazily (two threads could
        # both build one; warm_up creates it, but warm-up is optional) and one encoding
        # already uses every core: one search per index at a time too.
        self._locks = {
            name: threading.Lock()
            for name, i in self.indexes.items()
            if i.kind in ("bm25", "multivector", "sparse")
        }
        # Rerankers record per-call diagnostics on themselves (fallbacks, windowed) and a
        # cross-encoder's torch model is not documented re-entrant: one rerank at a time.
        self._rerank_lock = threading.Lock()

    # metadata --------------------------------------------------------------------------------
    @property
    def modes(self) -> list[Mode]:
        """The modes the loaded indexes support."""
        kinds = {i.kind for i in self.indexes.values()}
        modes: list[Mode] = [k for k in get_args(IndexKind) if k in kinds]  # a kind's own mode
        if {"bm25", "dense"} <= kinds:
            modes.append("hybrid")
        if self.served.reranker is not None:
            modes.append("rerank")
        return modes

    @property
    def documents(self) -> int:
        """Documents served: the corpus, else the largest index."""
        if self.served.corpus is not None:
            return len(self.served.corpus)
        return max(i.documents for i in self.indexes.values())

    def health(self) -> Health:
        """Status, version, indexes, document count and modes."""
        return Health(
            status="ok",
            version=__version__,
            indexes=list(self.indexes),
            documents=self.documents,
            modes=self.modes,
            skipped=self.served.skipped,
        )

    def describe(self) -> IndexesResponse:
        """The indexes and the defaults of each mode."""
        hybrid = self.served.hybrid
        return IndexesResponse(
            indexes=[
                IndexInfo(
                    name=i.name,
                    kind=i.kind,
                    documents=i.documents,
                    encoder=i.encoder,
                    path=str(i.path),
                )
                for i in self.indexes.values()
            ],
            modes=self.modes,
            defaults={
                "bm25": hybrid.bm25,
                "dense": hybrid.dense,
                "fusion": hybrid.method,
                "weights": list(hybrid.weights),
                "rrf_k": hybrid.rrf_k,
                "normalization": hybrid.normalization,
                "fuse_stage": hybrid.stage,
                "reranker": self.served.reranker_name,
                "fusions": [
                    {
                        "stage": f.stage,
                        "indexes": list(f.indexes),
                        "fusion": f.method,
                        "weights": list(f.weights),
                    }
                    for f in self.served.fusions
                ],
            },
        )

    def warm_up(self) -> None:
        """Run every mode once, and BM25 once per corpus language, before serving.

        The first query of a language loads its analyzer (a segmenter's dictionary can
        take a second), and the first encoding builds the model's runtime session.
        """
        with suppress(MissingExtraError):
            detect_language("warm up the language identifier")
        for mode in self.modes:
            self.search(SearchRequest(query="warm up the service", lang="en", mode=mode, k=1))
        if "bm25" in self.modes and self.served.corpus is not None:
            first: dict[str, str] = {}
            for text, lang in zip(self._texts, self._langs, strict=True):
                if text.strip():
                    first.setdefault(lang, text[:MAX_QUERY_CHARS])
            for lang, text in first.items():
                with suppress(ValueError):  # a code the request model rejects: no warm-up
                    self.search(SearchRequest(query=text, lang=lang, mode="bm25", k=1))

    # search ----------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResponse:
        """Answer one request.

        Raises:
            UnknownNameError: ``request.index`` names no loaded index.
            InvalidInputError: the mode needs an index or a reranker that is not loaded, or
                ``index`` is of the wrong kind for the mode.
        """
        timing: dict[str, float] = {}
        started = time.perf_counter()
        with _timed(timing, "lang"):
            lang = request.lang or _detect(request.query)
        queries = Queries.from_records([{"id": QUERY_ID, "text": request.query, "lang": lang}])
        mode = request.mode
        if mode in ("bm25", "dense", "multivector", "sparse"):
            index = self._pick(mode, request.index)
            used = [index.name]
            with _timed(timing, mode):
                run = self._first_stage(index, queries, request.k)
        else:
            members, fusion = self._members(request)
            used = [m.name for m in members]
            depth = max(request.depth, request.k, request.rerank_depth if mode == "rerank" else 0)
            run = self._fused(members, fusion, queries, depth, request, timing)
            if mode == "rerank":
                with _timed(timing, "rerank"):
                    run = self._reranked(queries, run, request.rerank_depth)
        hits = self._hits(run, request.k, request.include_text)
        timing["total"] = round((time.perf_counter() - started) * 1000, 3)
        return SearchResponse(
            query=request.query, lang=lang, mode=mode, indexes=used, k=request.k, hits=hits,
            timing_ms=timing,
        )  # fmt: skip

    def _first_stage(self, index: LoadedIndex, queries: Queries, k: int) -> Run:
        lock = self._locks.get(index.name)
        if lock is None:  # dense: its LockedEncoder serializes the encoding
            return index.retriever.search(queries, k=k)
        with lock:
            return index.retriever.search(queries, k=k)

    def _fused(
        self,
        members: list[LoadedIndex],
        fusion: Fusion | HybridDefaults,
        queries: Queries,
        depth: int,
        request: SearchRequest,
        timing: dict[str, float],
    ) -> Run:
        """The hybrid run: each member's top ``depth``, fused (or the one member's run)."""
        runs = []
        for member in members:
            with _timed(timing, member.kind):
                runs.append(self._first_stage(member, queries, depth))
        if len(runs) == 1:
            return runs[0]
        from polyret.retrieve import fuse

        with _timed(timing, "fuse"):
            return fuse(
                runs,
                request.fusion or fusion.method,
                weights=request.weights or list(fusion.weights),
                rrf_k=fusion.rrf_k,
                normalization=fusion.normalization,
            )

    def _reranked(self, queries: Queries, run: Run, depth: int) -> Run:
        """The reranker's scores on the top ``depth``; the tail keeps its order below."""
        if QUERY_ID not in run:
            return run
        doc_ids = run.scores(QUERY_ID)[0].tolist()
        rows = [self._row[d] for d in doc_ids if d in self._row]
        if len(rows) != len(doc_ids):
            raise InvalidInputError("a retrieved document is not in the served corpus")
        corpus = self.served.corpus
        assert corpus is not None  # a reranker is loaded only with a corpus
        with self._rerank_lock:
            return self.served.reranker.rerank(queries, run, corpus.take(rows), k=depth)

    def _hits(self, run: Run, k: int, include_text: bool) -> list[Hit]:
        if QUERY_ID not in run:
            return []
        doc_ids, scores = run.scores(QUERY_ID)
        hits = []
        top = zip(doc_ids[:k].tolist(), scores[:k].tolist(), strict=True)
        for rank, (doc_id, score) in enumerate(top, 1):
            row = self._row.get(doc_id)
            hits.append(
                Hit(
                    rank=rank,
                    doc_id=doc_id,
                    score=float(np.float64(score)),
                    lang=None if row is None else self._langs[row],
                    text=self._texts[row] if include_text and row is not None else None,
                )
            )
        return hits

    # index choice ----------------------------------------------------------------------------
    def _named(self, name: str) -> LoadedIndex:
        if name not in self.indexes:
            valid = list(self.indexes)
            raise UnknownNameError(
                "index", name, valid, difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
            )
        return self.indexes[name]

    def _of_kind(self, kind: IndexKind) -> list[str]:
        return [n for n, i in self.indexes.items() if i.kind == kind]

    def _pick(self, kind: IndexKind, name: str | None) -> LoadedIndex:
        """The named index, checked to be of ``kind``, else the default of ``kind``."""
        if name is not None:
            index = self._named(name)
            if index.kind != kind:
                valid = ", ".join(self._of_kind(kind)) or "none is loaded"
                raise InvalidInputError(
                    f"index {name!r} is a {index.kind} index; mode {kind!r} needs a {kind} "
                    f"index ({valid})",
                    field="index",
                )
            return index
        # the hybrid defaults name the BM25 and dense member; other kinds: the first loaded
        default = getattr(self.served.hybrid, kind, None) or next(iter(self._of_kind(kind)), None)
        if default is None:
            raise InvalidInputError(
                f"mode {kind!r} needs a {kind} index; loaded: "
                + ", ".join(f"{i.name} ({i.kind})" for i in self.indexes.values()),
                field="mode",
            )
        return self.indexes[default]

    def _members(self, request: SearchRequest) -> tuple[list[LoadedIndex], Fusion | HybridDefaults]:
        """The indexes a ``hybrid``/``rerank`` request fuses, and how by default.

        ``indexes`` named: those, fused as the run's fuse stage over the same indexes did
        (its weights in the request's order), else by RRF with equal weights. Unnamed: the
        BM25 and dense defaults (``index`` replaces the one of its kind). ``rerank`` without
        both kinds loaded, or with ``index`` of another kind (a multi-vector or sparse
        index), reranks that one first stage alone (unnamed: the first index).
        """
        mode, name = request.mode, request.index
        chosen = self._named(name) if name is not None else None
        named = [self._named(n) for n in request.indexes or []]
        if mode == "rerank" and self.served.reranker is None:
            raise InvalidInputError(
                "mode 'rerank' needs a reranker and the corpus texts, which were not loaded",
                field="mode",
            )
        if request.indexes is not None:
            return named, self._fusion_of(request.indexes)
        fused: tuple[IndexKind, IndexKind] = ("bm25", "dense")
        both = set(fused) <= {i.kind for i in self.indexes.values()}
        defaults = self.served.hybrid
        if both and (chosen is None or chosen.kind in fused):
            return [
                chosen if chosen is not None and chosen.kind == kind else self._pick(kind, None)
                for kind in fused
            ], defaults
        if mode == "hybrid":
            if both and chosen is not None:
                raise InvalidInputError(
                    f"index {name!r} is a {chosen.kind} index; mode 'hybrid' fuses a BM25 and "
                    f"a dense index ({', '.join(self._of_kind('bm25') + self._of_kind('dense'))}"
                    "), or the indexes named in 'indexes'",
                    field="index",
                )
            raise InvalidInputError(
                "mode 'hybrid' needs a BM25 and a dense index, or the indexes to fuse named in "
                "'indexes'; loaded: "
                + ", ".join(f"{i.name} ({i.kind})" for i in self.indexes.values()),
                field="mode",
            )
        return [chosen or next(iter(self.indexes.values()))], defaults  # rerank one first stage

    def _fusion_of(self, names: list[str]) -> Fusion:
        """The run's fusion of exactly ``names`` (weights reordered), else RRF, equal weights."""
        for fusion in self.served.fusions:
            if set(fusion.indexes) == set(names):
                weight = dict(zip(fusion.indexes, fusion.weights, strict=True))
                return replace(
                    fusion, indexes=tuple(names), weights=tuple(weight[n] for n in names)
                )
        return Fusion(
            stage=None, indexes=tuple(names), method="rrf", weights=(1.0,) * len(names),
            rrf_k=HybridDefaults.rrf_k, normalization=HybridDefaults.normalization,
        )  # fmt: skip


def _detect(text: str) -> str:
    """The query's language, or ``und`` without the language identifier."""
    try:
        return detect_language(text)
    except MissingExtraError:
        return UNKNOWN_LANG


@contextmanager
def _timed(timing: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timing[step] = round(timing.get(step, 0.0) + (time.perf_counter() - started) * 1000, 3)
