"""The :class:`Encoder` protocol and what every backend shares.

An encoder turns texts into L2-normalized float32 rows (or int8 rows when asked), with
separate entry points for queries and documents so asymmetric models (E5's ``query: `` /
``passage: `` prefixes) get their prefixes right without the caller knowing about them.
Backends implement :meth:`BaseEncoder._embed` on raw texts; the base class adds prefixes,
the empty-input case, the NaN check, Matryoshka truncation and int8 output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from polyret.errors import InvalidInputError

Precision = Literal["float32", "int8"]
INT8_RANGE = 0.5
"""Default clipping range of int8 output: a value ``v`` becomes ``round(v / range * 127)``.
Components of a normalized 384-dim embedding rarely exceed ±0.3."""


@runtime_checkable
class Encoder(Protocol):
    """What every encoder offers.

    Attributes:
        name: Model name (``"multilingual-e5-small"``, a path, a hub id).
        dim: Output dimension (after Matryoshka truncation).
        max_length: Tokens per text the model sees (longer texts are truncated or windowed).
        query_prefix: Prepended to queries (``"query: "`` for E5, ``""`` if none).
        passage_prefix: Prepended to documents.
        fingerprint: A stable hash of the model and every option that changes the output:
            the key of :class:`polyret.encode.CachedEncoder`.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_length(self) -> int: ...

    @property
    def query_prefix(self) -> str: ...

    @property
    def passage_prefix(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """``[len(texts), dim]`` query embeddings."""
        ...

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """``[len(texts), dim]`` document embeddings."""
        ...


@dataclass(frozen=True)
class EncoderConfig:
    """Options shared by every backend.

    Args:
        dim: Matryoshka truncation: keep the first ``dim`` components and renormalize
            (``None``: the model's full dimension).
        precision: ``"float32"`` (L2-normalized) or ``"int8"`` (the normalized vector
            scaled by ``127 / int8_range``, rounded and clipped).
        int8_range: Clipping range of int8 output.
        query_prefix: Overrides the model's query prefix (``None``: the model's own).
        passage_prefix: Overrides the model's passage prefix.
        batch_size: Texts per forward pass (upper bound when ``max_tokens`` is set).
        max_tokens: Padded tokens per forward pass: batches are formed over texts sorted by
            length, so short texts travel in large batches and long ones in small ones.
        max_length: Truncate texts to this many tokens (``None``: the model's limit).
        threads: CPU threads for the forward pass (``None``: leave the library default).
    """

    dim: int | None = None
    precision: Precision = "float32"
    int8_range: float = INT8_RANGE
    query_prefix: str | None = None
    passage_prefix: str | None = None
    batch_size: int = 32
    max_tokens: int = 2048
    max_length: int | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.dim is not None and self.dim < 1:
            raise InvalidInputError(f"dim must be positive, got {self.dim}", field="dim")
        if self.precision not in ("float32", "int8"):
            raise InvalidInputError(
                f"precision must be 'float32' or 'int8', got {self.precision!r}", field="precision"
            )
        if self.batch_size < 1 or self.max_tokens < 1:
            raise InvalidInputError(
                "batch_size and max_tokens must be positive", field="batch_size"
            )
        if self.int8_range <= 0:
            raise InvalidInputError("int8_range must be positive", field="int8_range")


class WrappedEncoder:
    """Base of encoders that wrap another one (``self.encoder``) and keep its identity:
    name, dimension, window, prefixes and fingerprint are the wrapped encoder's."""

    encoder: Encoder

    name = property(lambda self: self.encoder.name)
    dim = property(lambda self: self.encoder.dim)
    max_length = property(lambda self: self.encoder.max_length)
    query_prefix = property(lambda self: self.encoder.query_prefix)
    passage_prefix = property(lambda self: self.encoder.passage_prefix)
    fingerprint = property(lambda self: self.encoder.fingerprint)


class BaseEncoder:
    """Shared behaviour of the built-in backends.

    Subclasses set ``name``, ``native_dim``, ``max_length``, the default prefixes and
    implement :meth:`_embed` (prefixed texts in, ``[n, native_dim]`` float32 out, not
    necessarily normalized).
    """

    name: str = "encoder"
    backend: str = "base"
    native_dim: int = 0
    default_query_prefix: str = ""
    default_passage_prefix: str = ""
    _max_length: int = 512

    def __init__(self, config: EncoderConfig | None = None, **options: Any) -> None:
        config = config or EncoderConfig()
        self.config = replace(config, **options) if options else config

    # -- the protocol -----------------------------------------------------------------
    @property
    def dim(self) -> int:
        wanted = self.config.dim
        return self.native_dim if wanted is None else min(wanted, self.native_dim)

    @property
    def max_length(self) -> int:
        cap = self.config.max_length
        return self._max_length if cap is None else min(cap, self._max_length)

    @property
    def query_prefix(self) -> str:
        prefix = self.config.query_prefix
        return self.default_query_prefix if prefix is None else prefix

    @property
    def passage_prefix(self) -> str:
        prefix = self.config.passage_prefix
        return self.default_passage_prefix if prefix is None else prefix

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self._identity(), self.config)

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """``[len(texts), dim]`` query embeddings (query prefix added)."""
        return self._encode(texts, self.query_prefix, "query", show_progress)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """``[len(texts), dim]`` document embeddings (passage prefix added)."""
        return self._encode(texts, self.passage_prefix, "passage", show_progress)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, config={self.config})"

    # -- for subclasses ---------------------------------------------------------------
    def set_prompts(self, prompts: dict[str, str]) -> None:
        """Default prefixes from a sentence-transformers ``prompts`` dict (``query``, and
        ``passage`` or ``document``), as a model folder declares them."""
        self.default_query_prefix = prompts.get("query", "")
        self.default_passage_prefix = prompts.get("passage", prompts.get("document", ""))

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        raise NotImplementedError

    def _identity(self) -> dict[str, Any]:
        """What identifies the model weights (name, backend, file sizes, versions)."""
        return {"name": self.name, "backend": self.backend}

    # -- shared -----------------------------------------------------------------------
    def _encode(
        self, texts: Sequence[str], prefix: str, kind: str, show_progress: bool
    ) -> np.ndarray:
        texts = check_texts(texts)
        if not texts:
            dtype = np.int8 if self.config.precision == "int8" else np.float32
            return np.zeros((0, self.dim), dtype)
        raw = self._embed([prefix + t for t in texts], kind, show_progress)
        return finalize(
            raw, dim=self.dim, precision=self.config.precision, int8_range=self.config.int8_range
        )


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, refusing a bare string and non-string items."""
    if isinstance(texts, str):
        raise InvalidInputError("expected a sequence of texts, got one string: wrap it in a list")
    out = list(texts)
    for row, text in enumerate(out):
        if not isinstance(text, str):
            raise InvalidInputError(
                f"text {row} is a {type(text).__name__}, not a str", field="text"
            )
    return out


def finalize(
    embeddings: np.ndarray,
    *,
    dim: int | None = None,
    precision: Precision = "float32",
    int8_range: float = INT8_RANGE,
) -> np.ndarray:
    """Check, truncate (Matryoshka), L2-normalize and optionally quantize embeddings.

    Raises:
        InvalidInputError: a row holds NaN or infinity (the message names the first row).

    Example:
        >>> finalize(np.array([[0.0, 2.0, 5.0]]), dim=2).tolist()
        [[0.0, 1.0]]
        >>> finalize(np.array([[0.0, 1.0]]), precision="int8", int8_range=1.0).tolist()
        [[0, 127]]
    """
    embeddings = np.asarray(embeddings, dtype=np.float32)
    bad = ~np.isfinite(embeddings).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"the encoder produced NaN/inf for {int(bad.sum())} text(s), first at row {row}",
            field="embedding",
        )
    if dim is not None and dim < embeddings.shape[1]:
        embeddings = embeddings[:, :dim]
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    embeddings = np.ascontiguousarray(embeddings / np.maximum(norms, 1e-12), dtype=np.float32)
    if precision == "int8":
        return quantize_int8(embeddings, int8_range)
    return embeddings


def quantize_int8(embeddings: np.ndarray, int8_range: float = INT8_RANGE) -> np.ndarray:
    """Scalar int8 quantization with a fixed range (so queries and documents agree).

    Example:
        >>> quantize_int8(np.array([[0.25, -0.5, 0.9]]), 0.5).tolist()
        [[64, -127, 127]]
    """
    scaled = np.rint(np.asarray(embeddings, np.float32) * (127.0 / int8_range))
    return np.clip(scaled, -127, 127).astype(np.int8)


def length_batches(
    lengths: Sequence[int] | np.ndarray, *, max_tokens: int, batch_size: int
) -> list[np.ndarray]:
    """Group rows into batches of similar length, longest first.

    Each batch holds at most ``batch_size`` rows and ``max_tokens`` padded tokens
    (rows × its longest row), except that a single row longer than ``max_tokens`` forms
    its own batch.

    Example:
        >>> [b.tolist() for b in length_batches([5, 50, 6, 48], max_tokens=100, batch_size=8)]
        [[1, 3], [2, 0]]
    """
    lengths = np.asarray(lengths)
    order = np.argsort(-lengths, kind="stable")
    batches = []
    start = 0
    while start < len(order):
        longest = max(int(lengths[order[start]]), 1)
        size = max(1, min(batch_size, max_tokens // longest))
        batches.append(order[start : start + size])
        start += size
    return batches


def padded_batches(
    encodings: Sequence[Any], pad_id: int, *, max_tokens: int, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(rows, input_ids, attention_mask)`` per :func:`length_batches` batch of tokenized texts.

    ``encodings`` are ``tokenizers`` encodings (``.ids``); ``ids`` and ``mask`` are int64
    ``[len(rows), longest]``, padded with ``pad_id``.
    """
    lengths = np.fromiter((len(e.ids) for e in encodings), np.int64, len(encodings))
    for rows in length_batches(lengths, max_tokens=max_tokens, batch_size=batch_size):
        width = int(lengths[rows[0]])
        ids = np.full((len(rows), width), pad_id, np.int64)
        mask = np.zeros((len(rows), width), np.int64)
        for r, row in enumerate(rows):
            ids[r, : lengths[row]] = encodings[row].ids
            mask[r, : lengths[row]] = 1
        yield rows, ids, mask


def fingerprint_of(identity: dict[str, Any], config: EncoderConfig) -> str:
    """sha1 of the model identity and the output-changing options."""
    options = asdict(config)
    for speed_only in ("batch_size", "max_tokens", "threads"):
        options.pop(speed_only)
    payload = json.dumps({"model": identity, "options": options}, sort_keys=True, default=str)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()
