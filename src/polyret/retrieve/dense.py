"""Dense retrieval: an :class:`~polyret.encode.Encoder` in front of a FAISS index.

Exact inner product (``flat``) by default — embeddings are L2-normalized, so this is cosine;
``hnsw`` and ``ivfpq`` trade a little recall for speed and memory on large corpora. The
embedding matrix is built once as one float32 array (never a Python object per document),
and the index folder keeps the encoder's fingerprint so a search with another model fails
instead of returning noise.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from polyret.config import Config
from polyret.encode import DEFAULT_ENCODER, Encoder, load_encoder
from polyret.errors import InvalidInputError, MissingExtraError
from polyret.io.artifact import read_meta, write_meta
from polyret.io.atomic import atomic_directory, atomic_write
from polyret.types import Corpus, Queries, Run

log = logging.getLogger(__name__)

IndexKind = Literal["flat", "hnsw", "ivfpq"]
_FORMAT = 1


class DenseConfig(Config):
    """The encoder and the FAISS index of a dense retriever: the ``index-dense`` stage's
    params, the ``--dense-*`` options of ``polyret index`` and what :meth:`Dense.save`
    writes into ``polyret.json``."""

    encoder: str = Field(
        default=DEFAULT_ENCODER,
        description="Encoder: a registered name (multilingual-e5-small, hashing) or a model "
        "folder.",
    )
    encoder_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of polyret.encode.load_encoder (dim, ...)."
    )
    index: IndexKind = Field(
        default="flat",
        description="FAISS index: flat (exact), hnsw (graph, no training) or ivfpq (inverted "
        "lists + product quantization, trained on the corpus).",
    )
    hnsw_m: int = Field(default=32, ge=2, description="HNSW neighbours per node.")
    ef_search: int = Field(default=128, ge=1, description="HNSW search breadth.")
    nlist: int | None = Field(default=None, ge=1, description="IVF lists (unset: about 4·√N).")
    pq_m: int = Field(
        default=16, ge=1, description="Product-quantization sub-vectors (must divide the dim)."
    )
    nprobe: int = Field(default=16, ge=1, description="IVF lists visited per query.")
    batch_size: int = Field(default=1024, ge=1, description="Queries per FAISS call.")
    encode_batch: int = Field(
        default=20_000, ge=1, description="Documents handed to the encoder at a time."
    )


class Dense:
    """Dense retriever over a :class:`~polyret.types.Corpus`.

    Example:
        >>> from polyret.types import Corpus, Queries
        >>> corpus = Corpus.from_dict({"d1": "Der Rhein", "d2": "长江"})
        >>> dense = Dense("hashing", dim=64).index(corpus)
        >>> list(dense.search(Queries.from_dict({"q": "Der Rhein"}), k=1)["q"])
        ['d1']
    """

    def __init__(
        self,
        encoder: Encoder | str | None = None,
        config: DenseConfig = DenseConfig(),  # frozen
        **encoder_options: Any,
    ) -> None:
        """``encoder`` (a loaded encoder, or a name or folder loaded with
        ``encoder_options``) replaces ``config``'s; by default the config's is loaded."""
        if encoder is None or isinstance(encoder, str):
            name, options = encoder, encoder_options
            if encoder is None:
                name, options = config.encoder, {**config.encoder_options, **encoder_options}
            config = config.model_copy(update={"encoder": name, "encoder_options": options})
            self.encoder = load_encoder(config.encoder, **options)
        else:
            self.encoder = encoder
            config = config.model_copy(update={"encoder": encoder.name, "encoder_options": {}})
        self.config = config
        self._faiss: Any = None
        self._doc_ids: np.ndarray | None = None

    # indexing ------------------------------------------------------------------------------
    def index(self, corpus: Corpus, *, show_progress: bool = False) -> Dense:
        """Encode every document (title + text) and build the FAISS index; returns ``self``."""
        if len(corpus) == 0:
            raise InvalidInputError("cannot index an empty corpus")
        log.info("dense: encoding %d documents with %s", len(corpus), self.encoder.name)
        parts = (
            self.encoder.encode_documents(part.full_texts(), show_progress=show_progress)
            for part in corpus.batches(self.config.encode_batch)
        )
        if self.config.index == "ivfpq":  # training needs every vector at once
            return self.index_embeddings(corpus.ids, np.concatenate(list(parts)))
        # Flat and HNSW grow slice by slice: Python strings exist for one slice only and no
        # second copy of the embedding matrix is ever held beside FAISS's own.
        index = _empty_index(self.encoder.dim, self.config)
        for vectors in parts:
            index.add(_checked(vectors, self.encoder.dim, "document"))
        self._faiss, self._doc_ids = index, np.asarray(corpus.ids, dtype=object)
        log.info("dense: %s index of %d × %d", self.config.index, index.ntotal, index.d)
        return self

    def index_embeddings(self, doc_ids: list[str], embeddings: np.ndarray) -> Dense:
        """Build the index from embeddings computed elsewhere (same encoder)."""
        embeddings = _checked(embeddings, self.encoder.dim, "document")
        if len(doc_ids) != len(embeddings):
            raise InvalidInputError(
                f"{len(doc_ids)} document ids for {len(embeddings)} embeddings", field="doc_ids"
            )
        self._faiss = _build(embeddings, self.config)
        self._doc_ids = np.asarray(doc_ids, dtype=object)
        log.info("dense: %s index of %d × %d", self.config.index, *embeddings.shape)
        return self

    # search --------------------------------------------------------------------------------
    def search(self, queries: Queries, k: int = 1000, *, show_progress: bool = False) -> Run:
        """Top ``k`` documents per query by inner product."""
        embeddings = self.encoder.encode_queries(queries.texts, show_progress=show_progress)
        return self.search_embeddings(queries.ids, embeddings, k)

    def search_embeddings(self, query_ids: list[str], embeddings: np.ndarray, k: int = 1000) -> Run:
        """Top ``k`` documents for query embeddings computed elsewhere (same encoder)."""
        if self._faiss is None or self._doc_ids is None:
            raise InvalidInputError("the dense index is empty: call index() or Dense.load() first")
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}", field="k")
        embeddings = _checked(embeddings, self._faiss.d, "query")
        k = min(k, len(self._doc_ids))
        scores = np.empty((len(embeddings), k), dtype=np.float32)
        indices = np.empty((len(embeddings), k), dtype=np.int64)
        step = self.config.batch_size
        for start in range(0, len(embeddings), step):
            block = slice(start, start + step)
            scores[block], indices[block] = self._faiss.search(embeddings[block], k)
        return Run.from_topk(query_ids, indices, scores, self._doc_ids)

    @property
    def num_documents(self) -> int:
        """Number of indexed documents."""
        return 0 if self._doc_ids is None else len(self._doc_ids)

    # persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Save the FAISS index, doc ids and the encoder's identity, atomically."""
        if self._faiss is None or self._doc_ids is None:
            raise InvalidInputError("nothing to save: the dense index is empty")
        faiss = _faiss()
        with atomic_directory(path, overwrite=overwrite) as tmp:
            faiss.write_index(self._faiss, str(tmp / "index.faiss"))
            with atomic_write(tmp / "doc_ids.json") as handle:
                json.dump(self._doc_ids.tolist(), handle, ensure_ascii=False)
            write_meta(
                tmp,
                "dense",
                _FORMAT,
                config=self.config.model_dump(mode="json"),
                encoder={
                    "name": self.config.encoder,
                    "options": self.config.encoder_options,
                    "dim": self.encoder.dim,
                    "fingerprint": self.encoder.fingerprint,
                },
            )

    @classmethod
    def load(
        cls, path: str | Path, encoder: Encoder | str | None = None, **encoder_options: Any
    ) -> Dense:
        """Load a saved index with its encoder (by default the one it was built with).

        Args:
            path: The folder :meth:`save` wrote.
            encoder: The encoder to query with; by default the saved name and options.
            **encoder_options: Options for loading the encoder by name.

        Raises:
            InvalidInputError: when ``encoder`` is not the model the index was built with.
        """
        path = Path(path)
        meta = read_meta(path, "dense", _FORMAT)
        saved = meta["encoder"]
        if encoder is None:
            encoder, encoder_options = saved["name"], {**saved["options"], **encoder_options}
        retriever = cls(encoder, DenseConfig(**meta["config"]), **encoder_options)
        if retriever.encoder.fingerprint != saved["fingerprint"]:
            raise InvalidInputError(
                f"this index was built with encoder {saved['name']!r} "
                f"(fingerprint {saved['fingerprint'][:12]}), not {retriever.encoder.name!r} "
                f"(fingerprint {retriever.encoder.fingerprint[:12]})",
                path=path,
                field="encoder",
            )
        retriever._faiss = _faiss().read_index(str(path / "index.faiss"))
        doc_ids = json.loads((path / "doc_ids.json").read_text(encoding="utf-8"))
        retriever._doc_ids = np.asarray(doc_ids, dtype=object)
        return retriever


def _checked(embeddings: np.ndarray, dim: int, kind: str) -> np.ndarray:
    """C-contiguous float32 ``[n, dim]`` embeddings with no NaN or infinity."""
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape[1] != dim:
        raise InvalidInputError(
            f"{kind} embeddings have shape {embeddings.shape}, expected [n, {dim}]", field="dim"
        )
    if not np.isfinite(embeddings).all():
        row = int(np.flatnonzero(~np.isfinite(embeddings).all(axis=1))[0])
        raise InvalidInputError(f"{kind} embedding {row} contains NaN or infinity")
    return embeddings


def _empty_index(dim: int, config: DenseConfig) -> Any:
    """A flat or HNSW inner-product index (neither needs training)."""
    faiss = _faiss()
    if config.index == "flat":
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efSearch = config.ef_search
    return index


def _build(embeddings: np.ndarray, config: DenseConfig) -> Any:
    n, dim = embeddings.shape
    if config.index != "ivfpq":
        index = _empty_index(dim, config)
    else:
        if dim % config.pq_m:
            raise InvalidInputError(f"pq_m={config.pq_m} must divide dim={dim}", field="pq_m")
        faiss = _faiss()
        nlist = config.nlist or max(1, min(n // 39, int(4 * np.sqrt(n))))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(quantizer, dim, nlist, config.pq_m, 8, faiss.METRIC_INNER_PRODUCT)
        index.train(embeddings)
        index.nprobe = config.nprobe
    index.add(embeddings)
    return index


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as error:
        raise MissingExtraError("faiss", "dense", "dense retrieval") from error
    return faiss
