"""Learned sparse retrieval: an inverted index of learned lexical weights, searched as a
sparse product.

The corpus's weights (:func:`polyret.encode.sparse.load_sparse_encoder`: BGE-M3's sparse
head or a SPLADE model) are kept as one scipy CSR matrix ``[terms × documents]`` (a term
× document matrix, as BM25 keeps its scores) over the vocabulary ids that occur in the
corpus (``terms``: a 250k-id vocabulary would otherwise cost 2 MB of row offsets); a batch
of queries, restricted to those ids, times it gives every score at once, and only
documents sharing a token with the query are candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from polyret.config import Config
from polyret.encode.sparse import SparseEncoder, SpladeEncoder, load_sparse_encoder
from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta, write_meta
from polyret.io.atomic import atomic_directory
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.retrieve.persist import check_fingerprint, read_doc_ids, write_doc_ids
from polyret.types import Corpus, Queries, Run

log = logging.getLogger(__name__)
_FORMAT = 1
_SCORES_PER_BATCH = 1 << 22  # query × document scores held at once while searching


class LearnedSparseConfig(Config):
    """The sparse encoder of a learned-sparse index."""

    encoder: str = Field(
        default=DEFAULT_MODEL,
        description="Model name or folder with a sparse head (BGE-M3's sparse_linear.pt) or a "
        "SPLADE (masked-LM) folder.",
    )
    encoder_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of polyret.encode.sparse.SparseEncoder (mask_punctuation, "
        "threads, ...) or SpladeEncoder.",
    )


class LearnedSparse:
    """Learned-sparse retriever over a :class:`~polyret.types.Corpus`.

    Raises:
        InvalidInputError: the encoder folder has no sparse head (named with the folder).
    """

    def __init__(
        self, config: LearnedSparseConfig = LearnedSparseConfig(), **options: Any
    ) -> None:  # frozen
        self.config = config.model_copy(update=options) if options else config
        self.encoder: SparseEncoder | SpladeEncoder = load_sparse_encoder(
            self.config.encoder, **self.config.encoder_options
        )
        self.matrix: Any = None  # CSR [terms × documents]
        self.terms: np.ndarray | None = None  # vocabulary id of each matrix row
        self._doc_ids: np.ndarray | None = None

    def index(self, corpus: Corpus, *, show_progress: bool = False) -> LearnedSparse:
        """Encode every document's weights into the inverted index; returns ``self``."""
        if len(corpus) == 0:
            raise InvalidInputError("cannot index an empty corpus")
        weights = self.encoder.encode_documents(corpus.full_texts(), show_progress=show_progress)
        self.terms = np.unique(weights.indices).astype(np.int32)
        self.matrix = weights[:, self.terms].T.tocsr()
        self._doc_ids = np.asarray(corpus.ids, dtype=object)
        log.info(
            "sparse: %d documents, %.1f terms each, %d bytes per document",
            len(corpus),
            self.matrix.nnz / len(corpus),
            self.bytes_per_document,
        )
        return self

    @property
    def num_documents(self) -> int:
        """Number of indexed documents."""
        return 0 if self._doc_ids is None else len(self._doc_ids)

    @property
    def bytes_per_document(self) -> int:
        """Bytes of the inverted index (weights, doc rows, term offsets, term ids) per document."""
        if self.matrix is None or self.terms is None or not self.num_documents:
            return 0
        m = self.matrix
        total = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + self.terms.nbytes
        return int(total / self.num_documents)

    def search(self, queries: Queries, k: int = 1000, *, show_progress: bool = False) -> Run:
        """Top ``k`` per query by the dot product of sparse weights (documents sharing no
        weighted token with the query are not returned)."""
        self._ready(k)
        weights = self.encoder.encode_queries(queries.texts, show_progress=show_progress)
        return self.search_weights(queries.ids, weights, k)

    def search_weights(self, query_ids: Sequence[str], weights: sp.csr_matrix, k: int) -> Run:
        """:meth:`search` for queries already encoded (CSR ``[queries × vocab]``)."""
        matrix, terms, doc_ids = self._ready(k)
        weights = weights.tocsr()[:, terms]  # ids absent from the corpus score nothing
        k = min(k, len(doc_ids))
        rows = np.full((weights.shape[0], k), -1, np.int64)
        scores = np.zeros(rows.shape, np.float32)
        step = max(1, _SCORES_PER_BATCH // len(doc_ids))
        for start in range(0, weights.shape[0], step):
            product = (weights[start : start + step] @ matrix).tocsr()
            for i in range(product.shape[0]):
                found, value = _top(product, i, k)
                rows[start + i, : len(found)], scores[start + i, : len(found)] = found, value
        return Run.from_topk(query_ids, rows, scores, doc_ids)

    def _ready(self, k: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        if self.matrix is None or self.terms is None or self._doc_ids is None:
            raise InvalidInputError(
                "the sparse index is empty: call index() or LearnedSparse.load() first"
            )
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}", field="k")
        return self.matrix, self.terms, self._doc_ids

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Save the inverted index, doc ids and the encoder's identity, atomically."""
        matrix, terms, doc_ids = self._ready(1)
        with atomic_directory(path, overwrite=overwrite) as tmp:
            sp.save_npz(tmp / "matrix.npz", matrix, compressed=False)
            np.save(tmp / "terms.npy", terms)
            write_doc_ids(tmp, doc_ids)
            write_meta(
                tmp,
                "sparse",
                _FORMAT,
                config=self.config.model_dump(mode="json"),
                encoder={"fingerprint": self.encoder.fingerprint},
            )

    @classmethod
    def load(cls, path: str | Path) -> LearnedSparse:
        """Load a saved index with the sparse encoder it was built with.

        Raises:
            InvalidInputError: the encoder's model folder changed since the index was built.
        """
        path = Path(path)
        meta = read_meta(path, "sparse", _FORMAT)
        retriever = cls(LearnedSparseConfig(**meta["config"]))
        check_fingerprint(
            path,
            retriever.config.encoder,
            meta["encoder"]["fingerprint"],
            retriever.encoder.fingerprint,
        )
        retriever.matrix = sp.load_npz(path / "matrix.npz").tocsr()
        retriever.terms = np.load(path / "terms.npy")
        retriever._doc_ids = read_doc_ids(path)
        return retriever


def _top(product: Any, row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best (document, score) of one row of a CSR score matrix, best first (ties:
    the lower document row first)."""
    lo, hi = product.indptr[row], product.indptr[row + 1]
    docs, values = product.indices[lo:hi], product.data[lo:hi]
    if len(values) > k:
        best = np.argpartition(-values, k - 1)[:k]
        docs, values = docs[best], values[best]
    order = np.lexsort((docs, -values))
    return docs[order], values[order]
