"""Language-aware BM25: polyret's analyzers in front of bm25s's scoring.

bm25s computes the per-term document scores (its eager "score matrix"); polyret adds what
a multilingual collection needs: every document and query analyzed by its own language's
analyzer, multi-process analysis, and batched retrieval. bm25s retrieves one query at a time
in Python; here a batch of queries becomes one sparse query×term matrix multiplied by the
term×document score matrix, then an ``argpartition`` top-k per row, which is several times
faster for many queries and gives the same scores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import bm25s
import numpy as np
import scipy.sparse as sp
from pydantic import Field
from tqdm.auto import tqdm

from polyret.config import Config
from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta, write_meta
from polyret.io.atomic import atomic_directory, atomic_write
from polyret.text import analyze_corpus, normalize_lang_code
from polyret.types import UNKNOWN_LANG, Corpus, Queries, Run

log = logging.getLogger(__name__)

Variant = Literal["robertson", "lucene", "atire", "bm25l", "bm25+"]
_FORMAT = 1


class BM25Config(Config):
    """BM25 parameters and analysis options: the ``index-bm25`` stage's params, the options
    of ``polyret index`` and what :meth:`BM25.save` writes into ``polyret.json``."""

    k1: float = Field(
        default=0.9,
        ge=0,
        description="Term-frequency saturation (Pyserini's MIRACL baselines: 0.9 with b 0.4).",
    )
    b: float = Field(default=0.4, ge=0, le=1, description="Length normalization.")
    delta: float = Field(
        default=0.5, description="The delta of BM25L and BM25+ (ignored by the other variants)."
    )
    variant: Variant = Field(
        default="lucene", description="Scoring variant as bm25s names it (lucene: Pyserini's)."
    )
    lang: str = Field(
        default="auto",
        description="'auto' (each text in its own lang, detected if absent) or one code "
        "that forces a single analyzer for everything.",
    )
    analyzer: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of polyret.text.analyzer_for (stemmer, stopwords, lowercase, "
        "accents, ngram).",
    )
    # Names and numbers then meet the documents' stems (Tatoeba tur→eng nDCG@10 0.055 →
    # 0.081, XQuAD-R xx→en 0.158 → 0.183); Pyserini analyzes such queries in the document
    # language only.
    cross_lingual: bool = Field(
        default=True,
        description="Analyze a query in a language no indexed document has twice: in its "
        "own language and in the index's main document language.",
    )


class BM25:
    """A BM25 index over a :class:`~polyret.types.Corpus`.

    Example:
        >>> from polyret.types import Corpus, Queries
        >>> corpus = Corpus.from_records([
        ...     {"id": "de1", "text": "Die Häuser stehen am Rhein.", "lang": "de"},
        ...     {"id": "de2", "text": "Der Zug fährt nach Berlin.", "lang": "de"},
        ... ])
        >>> bm25 = BM25().index(corpus)
        >>> list(bm25.search(Queries.from_dict({"q": "Haus"}, lang="de"), k=5)["q"])
        ['de1']
    """

    def __init__(self, config: BM25Config = BM25Config(), **options: Any) -> None:
        self.config = BM25Config(**{**config.model_dump(), **options}) if options else config
        self._model: bm25s.BM25 | None = None
        self._doc_ids: np.ndarray | None = None
        self._matrix: sp.csr_matrix | None = None
        self._doc_langs: dict[str, int] = {}

    # indexing ------------------------------------------------------------------------------
    def index(self, corpus: Corpus, *, processes: int = 1, show_progress: bool = False) -> BM25:
        """Analyze every document in its language and build the index; returns ``self``."""
        if len(corpus) == 0:
            raise InvalidInputError("cannot index an empty corpus")
        log.info("BM25: analyzing %d documents (%d processes)", len(corpus), processes)
        tokens = analyze_corpus(
            corpus.full_texts(),
            self._langs(corpus),
            processes=processes,
            show_progress=show_progress,
            options=self.config.analyzer,
        )
        return self.index_terms(corpus, tokens)

    def index_terms(self, corpus: Corpus, tokens: list[list[str]]) -> BM25:
        """Build the index from already analyzed documents (``tokens[i]``: the terms of
        ``corpus``'s document ``i``, as :meth:`index` analyzes them); returns ``self``.

        The second half of :meth:`index`, for analysis done elsewhere (on Ray workers).
        """
        vocab: dict[str, int] = {}
        token_ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokens]
        if not vocab:
            raise InvalidInputError(
                f"none of the {len(corpus)} documents has an indexable term (all empty or "
                "punctuation/emoji only)"
            )
        model = bm25s.BM25(
            k1=self.config.k1, b=self.config.b, delta=self.config.delta, method=self.config.variant
        )
        model.index((token_ids, vocab), show_progress=False)
        doc_langs = {lang: n for lang, n in corpus.languages().items() if lang != UNKNOWN_LANG}
        self._set(model, np.asarray(corpus.ids, dtype=object), doc_langs)
        log.info("BM25: indexed %d documents, %d terms", len(corpus), len(model.vocab_dict))
        return self

    @classmethod
    def from_bm25s(
        cls, model: bm25s.BM25, doc_ids: Sequence[str], config: BM25Config | None = None
    ) -> BM25:
        """Wrap an index built by plain bm25s (``doc_ids[i]`` names its document ``i``)."""
        retriever = cls(
            config or BM25Config(k1=model.k1, b=model.b, delta=model.delta, variant=model.method)
        )
        retriever._set(model, np.asarray(doc_ids, dtype=object))
        return retriever

    def _set(
        self, model: bm25s.BM25, doc_ids: np.ndarray, doc_langs: dict[str, int] | None = None
    ) -> None:
        self._model = model
        self._doc_ids = doc_ids
        self._doc_langs = dict(doc_langs or {})
        scores = model.scores
        self._matrix = sp.csr_matrix(
            (scores["data"], scores["indices"], scores["indptr"]),
            shape=(len(scores["indptr"]) - 1, scores["num_docs"]),
        )

    def _langs(self, collection: Corpus | Queries) -> list[str]:
        """The analyzer language of every record; unknown ones are detected ("auto")."""
        if self.config.lang != "auto":
            return [self.config.lang] * len(collection)
        for code in collection.languages():  # fail before any work, naming a record
            try:
                normalize_lang_code(code)
            except InvalidInputError as error:
                first = collection.filter(lang=code).ids[0]
                kind = "document" if isinstance(collection, Corpus) else "query"
                raise InvalidInputError(f"{kind} {first!r}: {error.reason}", field="lang") from None
        return ["auto" if lang == UNKNOWN_LANG else lang for lang in collection.langs]

    # search --------------------------------------------------------------------------------
    @property
    def num_documents(self) -> int:
        """Number of indexed documents."""
        return 0 if self._doc_ids is None else len(self._doc_ids)

    def search(
        self,
        queries: Queries,
        k: int = 1000,
        *,
        batch_size: int = 256,
        processes: int = 1,
        show_progress: bool = False,
    ) -> Run:
        """Top ``k`` documents per query, documents that match no query term left out.

        Queries are analyzed in their own language, like documents. For the BM25L and BM25+
        variants every document has a score, so every query gets ``k`` documents.
        """
        langs = self._langs(queries)
        tokens = analyze_corpus(
            queries.texts, langs, processes=processes, options=self.config.analyzer
        )
        if self.config.cross_lingual and self.config.lang == "auto" and self._doc_langs:
            self._add_document_language_terms(queries.texts, langs, tokens)
        return self.search_terms(
            queries.ids, tokens, k, batch_size=batch_size, show_progress=show_progress
        )

    def _add_document_language_terms(
        self, texts: Sequence[str], langs: Sequence[str], tokens: list[list[str]]
    ) -> None:
        """Extend, in place, the terms of queries in a language absent from the index."""
        main = max(self._doc_langs, key=self._doc_langs.__getitem__)
        foreign = [
            i for i, lang in enumerate(langs) if lang not in self._doc_langs and lang != "auto"
        ]
        if not foreign:
            return
        extra = analyze_corpus([texts[i] for i in foreign], main, options=self.config.analyzer)
        for i, terms in zip(foreign, extra, strict=True):
            own = set(tokens[i])
            tokens[i] = tokens[i] + [t for t in terms if t not in own]

    def search_terms(
        self,
        query_ids: Sequence[str],
        terms: Sequence[Sequence[str]],
        k: int = 1000,
        *,
        batch_size: int = 256,
        show_progress: bool = False,
    ) -> Run:
        """Like :meth:`search`, for queries already analyzed into terms."""
        model, matrix, doc_ids = self._require()
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}", field="k")
        query_matrix = self._query_matrix(terms, model.vocab_dict, matrix.shape[0])
        nonoccurrence = model.nonoccurrence_array
        k = min(k, self.num_documents)
        indices = np.empty((len(query_ids), k), dtype=np.int64)
        scores = np.empty((len(query_ids), k), dtype=np.float32)
        starts = range(0, len(query_ids), batch_size)
        for start in tqdm(starts, desc="BM25 search", disable=not show_progress, unit="batch"):
            dense = _scores(query_matrix[start : start + batch_size], matrix, nonoccurrence)
            top = _top_k(dense, k)
            indices[start : start + len(top)] = top
            scores[start : start + len(top)] = np.take_along_axis(dense, top, axis=1)
        indices[~np.isfinite(scores)] = -1
        return Run.from_topk(query_ids, indices, scores, doc_ids)

    def _query_matrix(
        self, tokens: Sequence[Sequence[str]], vocab: dict[str, int], num_terms: int
    ) -> sp.csr_matrix:
        """Queries × terms counts (a repeated query term counts twice, as in bm25s)."""
        ids = [[vocab[t] for t in query if t in vocab] for query in tokens]
        lengths = np.fromiter((len(q) for q in ids), dtype=np.int64, count=len(ids))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        flat = np.fromiter((t for q in ids for t in q), dtype=np.int64, count=int(indptr[-1]))
        data = np.ones(len(flat), dtype=np.float32)
        matrix = sp.csr_matrix((data, flat, indptr), shape=(len(ids), num_terms))
        matrix.sum_duplicates()
        return matrix

    def _require(self) -> tuple[bm25s.BM25, sp.csr_matrix, np.ndarray]:
        if self._model is None or self._matrix is None or self._doc_ids is None:
            raise InvalidInputError("the BM25 index is empty: call index() or BM25.load() first")
        return self._model, self._matrix, self._doc_ids

    # persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Save to a folder: a plain bm25s index in ``bm25s/``, doc ids, ``polyret.json``.

        The folder appears only when complete (written to a temporary sibling, then renamed).
        """
        model, _, doc_ids = self._require()
        with atomic_directory(path, overwrite=overwrite) as tmp:
            model.save(str(tmp / "bm25s"))
            with atomic_write(tmp / "doc_ids.json") as handle:
                json.dump(doc_ids.tolist(), handle, ensure_ascii=False)
            write_meta(
                tmp,
                "bm25",
                _FORMAT,
                config=self.config.model_dump(mode="json"),
                doc_langs=self._doc_langs,
            )

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool = True) -> BM25:
        """Load a folder written by :meth:`save` (score arrays memory-mapped by default)."""
        path = Path(path)
        meta = read_meta(path, "bm25", _FORMAT)
        retriever = cls(BM25Config(**meta["config"]))
        model = bm25s.BM25.load(str(path / "bm25s"), mmap=mmap, load_vocab=True)
        doc_ids = json.loads((path / "doc_ids.json").read_text(encoding="utf-8"))
        retriever._set(model, np.asarray(doc_ids, dtype=object), meta.get("doc_langs"))
        return retriever


def _scores(
    block: sp.csr_matrix, matrix: sp.csr_matrix, nonoccurrence: np.ndarray | None
) -> np.ndarray:
    """Dense queries × documents scores; ``-inf`` where no query term occurs in a document."""
    product = (block @ matrix).tocsr()
    if nonoccurrence is not None:  # BM25L/BM25+: every document has a score
        dense = np.asarray(product.todense(), dtype=np.float32)
        return dense + (block @ nonoccurrence).astype(np.float32)[:, None]
    dense = np.full(product.shape, -np.inf, dtype=np.float32)
    rows = np.repeat(np.arange(product.shape[0]), np.diff(product.indptr))
    dense[rows, product.indices] = product.data
    return dense


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest values per row, best first."""
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
