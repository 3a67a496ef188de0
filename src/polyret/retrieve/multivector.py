"""Multi-vector (late-interaction) first stage: MUVERA candidates, exact MaxSim ranking.

Every document keeps its token vectors (:class:`~polyret.encode.tokens.TokenEncoder`,
float16 or int8) and one fixed-dimensional encoding (:mod:`polyret.retrieve.muvera`) in
a FAISS inner-product index. A query's encoding fetches ``candidates`` documents from
FAISS, and exact MaxSim over their token vectors ranks them: the index never holds one
row per document token, and the final order is the exact late-interaction order within
the candidates. :meth:`MultiVector.search_exact` scores every document (the anchor the
benchmark times it against).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from polyret.config import Config
from polyret.encode.tokens import TokenEncoder, TokenVectors, maxsim
from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta, write_meta
from polyret.io.atomic import atomic_directory
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.retrieve.dense import _faiss
from polyret.retrieve.muvera import FixedDimensionalEncoder
from polyret.retrieve.persist import check_fingerprint, read_doc_ids, write_doc_ids
from polyret.types import Corpus, Queries, Run

log = logging.getLogger(__name__)
_FORMAT = 1


class MultiVectorConfig(Config):
    """The token encoder, the encodings and the search depth of a multi-vector index."""

    encoder: str = Field(default=DEFAULT_MODEL, description="Model name or folder.")
    encoder_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of polyret.encode.tokens.TokenEncoder (layers, storage, ...).",
    )
    repetitions: int = Field(default=20, ge=1, description="MUVERA partitions.")
    simhash_bits: int = Field(default=3, ge=0, le=12, description="Hyperplanes per partition.")
    projection_dim: int = Field(default=32, ge=1, description="Block size of each bucket.")
    seed: int = Field(default=0, description="Seed of the partitions and projections.")
    candidates: int = Field(
        default=300, ge=1, description="Documents fetched by the encodings, rescored exactly."
    )


class MultiVector:
    """Late-interaction retriever over a :class:`~polyret.types.Corpus`.

    Example:
        >>> from polyret.types import Corpus, Queries
        >>> corpus = Corpus.from_dict({"d1": "Der Rhein fließt durch Basel.", "d2": "长江"})
        >>> index = MultiVector().index(corpus)
        >>> list(index.search(Queries.from_dict({"q": "Rhein Basel"}), k=1)["q"])
        ['d1']
    """

    def __init__(
        self, config: MultiVectorConfig = MultiVectorConfig(), **options: Any
    ) -> None:  # frozen
        self.config = config.model_copy(update=options) if options else config
        self.encoder = TokenEncoder(self.config.encoder, **self.config.encoder_options)
        self.fde = FixedDimensionalEncoder(
            self.encoder.dim,
            repetitions=self.config.repetitions,
            simhash_bits=self.config.simhash_bits,
            projection_dim=self.config.projection_dim,
            seed=self.config.seed,
        )
        self.tokens: TokenVectors | None = None
        self._faiss: Any = None
        self._doc_ids: np.ndarray | None = None

    def index(self, corpus: Corpus, *, show_progress: bool = False) -> MultiVector:
        """Encode every document's tokens and its encoding; returns ``self``."""
        if len(corpus) == 0:
            raise InvalidInputError("cannot index an empty corpus")
        log.info("multivector: token vectors of %d documents", len(corpus))
        self.tokens = self.encoder.encode_documents(
            corpus.full_texts(), show_progress=show_progress
        )
        self._faiss = _faiss().IndexFlatIP(self.fde.output_dim)
        self._faiss.add(self.fde.encode(self.tokens, "document"))
        self._doc_ids = np.asarray(corpus.ids, dtype=object)
        log.info(
            "multivector: %d documents, %.1f tokens each, %d bytes per document",
            len(corpus),
            self.tokens.lengths.mean(),
            self.bytes_per_document,
        )
        return self

    @property
    def bytes_per_document(self) -> int:
        """Token vectors plus the encoding (float32 in FAISS), per document."""
        if self.tokens is None:
            return 0
        return int(self.tokens.nbytes / len(self.tokens)) + 4 * self.fde.output_dim

    @property
    def num_documents(self) -> int:
        """Number of indexed documents."""
        return 0 if self._doc_ids is None else len(self._doc_ids)

    def search(self, queries: Queries, k: int = 1000, *, show_progress: bool = False) -> Run:
        """Top ``k`` per query: the encodings' top ``max(k, candidates)``, ranked by MaxSim."""
        tokens, doc_ids = self._ready(k)
        query_tokens = self.encoder.encode_queries(queries.texts, show_progress=show_progress)
        depth = min(max(k, self.config.candidates), len(doc_ids))
        _, found = self._faiss.search(self.fde.encode(query_tokens, "query"), depth)
        rows = np.empty((len(queries), min(k, depth)), np.int64)
        scores = np.empty(rows.shape, np.float32)
        for i in range(len(queries)):
            hits = found[i][found[i] >= 0]
            exact = maxsim(query_tokens[i], tokens, hits)
            best = np.argsort(-exact, kind="stable")[: rows.shape[1]]
            rows[i], scores[i] = hits[best], exact[best]
        return Run.from_topk(queries.ids, rows, scores, doc_ids)

    def search_exact(self, queries: Queries, k: int = 1000) -> Run:
        """Top ``k`` per query by MaxSim over every document (no encodings; slow)."""
        tokens, doc_ids = self._ready(k)
        query_tokens = self.encoder.encode_queries(queries.texts)
        k = min(k, len(doc_ids))
        rows = np.empty((len(queries), k), np.int64)
        scores = np.empty(rows.shape, np.float32)
        for i in range(len(queries)):
            exact = maxsim(query_tokens[i], tokens)
            rows[i] = np.argsort(-exact, kind="stable")[:k]
            scores[i] = exact[rows[i]]
        return Run.from_topk(queries.ids, rows, scores, doc_ids)

    def _ready(self, k: int) -> tuple[TokenVectors, np.ndarray]:
        if self.tokens is None or self._doc_ids is None:
            raise InvalidInputError(
                "the multi-vector index is empty: call index() or MultiVector.load() first"
            )
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}", field="k")
        return self.tokens, self._doc_ids

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Save token vectors, encodings, doc ids and the encoder's identity, atomically."""
        tokens, doc_ids = self._ready(1)
        with atomic_directory(path, overwrite=overwrite) as tmp:
            np.save(tmp / "token_vectors.npy", tokens.vectors)
            np.save(tmp / "token_offsets.npy", tokens.offsets)
            _faiss().write_index(self._faiss, str(tmp / "index.faiss"))
            write_doc_ids(tmp, doc_ids)
            write_meta(
                tmp,
                "multivector",
                _FORMAT,
                config=self.config.model_dump(mode="json"),
                encoder={"fingerprint": self.encoder.fingerprint, "scale": tokens.scale},
            )

    @classmethod
    def load(cls, path: str | Path) -> MultiVector:
        """Load a saved index with the token encoder it was built with.

        Raises:
            InvalidInputError: the encoder's model folder changed since the index was built.
        """
        path = Path(path)
        meta = read_meta(path, "multivector", _FORMAT)
        retriever = cls(MultiVectorConfig(**meta["config"]))
        saved = meta["encoder"]
        check_fingerprint(
            path, retriever.config.encoder, saved["fingerprint"], retriever.encoder.fingerprint
        )
        retriever.tokens = TokenVectors(
            np.load(path / "token_vectors.npy"), np.load(path / "token_offsets.npy"), saved["scale"]
        )
        retriever._faiss = _faiss().read_index(str(path / "index.faiss"))
        retriever._doc_ids = read_doc_ids(path)
        return retriever
