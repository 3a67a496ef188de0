"""Request and response bodies of the search service (pydantic models, in the OpenAPI spec)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from polyret.errors import InvalidInputError
from polyret.text import normalize_lang_code

IndexKind = Literal["bm25", "dense", "multivector", "sparse"]
Mode = Literal["bm25", "dense", "multivector", "sparse", "hybrid", "rerank"]

MAX_QUERY_CHARS = 2000
"""Longest query accepted (characters); longer ones get a 422."""
MAX_K = 1000
MAX_DEPTH = 1000
MAX_RERANK_DEPTH = 200
MAX_FUSED = 8
"""Most indexes one ``hybrid``/``rerank`` request fuses."""


class SearchRequest(BaseModel):
    """One query to search.

    ``index`` picks the index of its kind: the one searched in ``bm25``/``dense``/
    ``multivector``/``sparse`` mode, the BM25 or dense member of the ``hybrid``/``rerank``
    fusion (the other member stays the default); in ``rerank`` mode a multi-vector or sparse
    index is reranked alone. ``indexes`` instead names every index ``hybrid``/``rerank``
    fuses, of any kinds. Unset fields take the defaults the loaded pipeline implies
    (``GET /indexes``).
    """

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The query text.")
    lang: str | None = Field(
        default=None,
        description="ISO 639 code of the query (any form: 'de', 'deu', 'de-AT'); "
        "detected from the text when unset.",
    )
    k: int = Field(default=10, ge=1, le=MAX_K, description="Hits to return.")
    mode: Mode = "hybrid"
    index: str | None = Field(default=None, description="Index name (see GET /indexes).")
    indexes: list[str] | None = Field(
        default=None,
        min_length=2,
        max_length=MAX_FUSED,
        description="hybrid/rerank: the indexes to fuse, of any kinds (default: the BM25 and "
        "the dense index of GET /indexes).",
    )
    depth: int = Field(
        default=100,
        ge=1,
        le=MAX_DEPTH,
        description="hybrid/rerank: documents each retriever contributes (at least k).",
    )
    fusion: str | None = Field(
        default=None,
        description="hybrid/rerank: fusion method, a registered combiner (rrf, interpolation; "
        "default: the pipeline's).",
    )
    weights: list[float] | None = Field(
        default=None,
        min_length=2,
        max_length=MAX_FUSED,
        description="hybrid/rerank: one weight per fused index, [BM25 weight, dense weight] or "
        "in the order of indexes (default: the tuned weights of the pipeline's fuse stage over "
        "those indexes, else equal).",
    )
    rerank_depth: int = Field(
        default=20, ge=1, le=MAX_RERANK_DEPTH, description="rerank: top documents rescored."
    )
    include_text: bool = Field(default=False, description="Return each hit's text.")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the query is blank")
        return value

    @field_validator("lang")
    @classmethod
    def _known_lang(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_lang_code(value)
        except InvalidInputError as error:
            raise ValueError(error.reason) from None

    @field_validator("fusion")
    @classmethod
    def _registered_fusion(cls, value: str | None) -> str | None:
        # the combiners registry, not a Literal: a registered plugin combiner works too
        from polyret.retrieve.fusion import combiners

        if value is not None and value not in combiners:
            raise ValueError(f"unknown fusion method {value!r}: use {', '.join(combiners.names())}")
        return value

    @field_validator("weights")
    @classmethod
    def _usable_weights(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (min(value) < 0 or sum(value) <= 0):
            raise ValueError("weights must be >= 0 with a positive sum")
        return value

    @field_validator("indexes")
    @classmethod
    def _distinct_indexes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) < len(value):
            raise ValueError("an index is named twice")
        return value

    @model_validator(mode="after")
    def _fused_indexes(self) -> SearchRequest:
        if self.indexes is None:
            if self.weights is not None and len(self.weights) != 2:
                raise ValueError(
                    f"{len(self.weights)} weights for the 2 default indexes (BM25, dense); "
                    "name the indexes to fuse in 'indexes'"
                )
            return self
        if self.mode not in ("hybrid", "rerank"):
            raise ValueError(
                f"'indexes' names what mode 'hybrid' or 'rerank' fuses, not {self.mode!r}"
            )
        if self.index is not None:
            raise ValueError("give 'index' (one member) or 'indexes' (every member), not both")
        if self.weights is not None and len(self.weights) != len(self.indexes):
            raise ValueError(f"{len(self.weights)} weights for {len(self.indexes)} indexes")
        return self


class Hit(BaseModel):
    """One retrieved document."""

    rank: int
    doc_id: str
    score: float
    lang: str | None = None
    text: str | None = None


class SearchResponse(BaseModel):
    """The ranked hits of one query."""

    query: str
    lang: str
    mode: Mode
    indexes: list[str] = Field(description="The indexes searched.")
    k: int
    hits: list[Hit]
    timing_ms: dict[str, float] = Field(description="Milliseconds per step, and 'total'.")


class IndexInfo(BaseModel):
    """One loaded index."""

    name: str
    kind: IndexKind
    documents: int
    encoder: str | None = None
    path: str


class IndexesResponse(BaseModel):
    """What ``GET /indexes`` returns: the indexes and the defaults of each mode."""

    indexes: list[IndexInfo]
    modes: list[Mode]
    defaults: dict[str, object]


class Health(BaseModel):
    """What ``GET /health`` returns."""

    status: Literal["ok"]
    version: str
    indexes: list[str]
    documents: int
    modes: list[Mode]
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Indexes of the run that could not be opened, and why."
    )


class ErrorBody(BaseModel):
    """Every error response."""

    detail: str
