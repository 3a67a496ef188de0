"""An encoder that one thread at a time may call: the service's request threads share it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

DOCUMENT_CACHE = 50_000
"""Document embeddings kept in memory per encoder (~75 MB at 384 float32 dimensions)."""


class LockedEncoder:
    """Wraps an :class:`~polyret.encode.Encoder` so its ``encode_*`` calls never overlap.

    Why a lock: the fast encoder creates its ONNX Runtime session lazily on the first call
    (two threads could both build one), the torch and sentence-transformers backends are
    not documented re-entrant, and every backend already spreads one call over all cores
    (ONNX intra-op threads, torch threads), so overlapping calls would only oversubscribe
    the CPU. Everything else (``dim``, ``fingerprint``, ``path``, ...) is the wrapped
    encoder's.

    A served corpus does not change, so document embeddings (what a bi-encoder reranker
    asks for, the same top documents again and again) are kept in a bounded LRU map;
    queries are always encoded.

    Args:
        encoder: The encoder to share.
        document_cache: Document embeddings to keep (0: none).

    Example:
        >>> from polyret.encode import load_encoder
        >>> encoder = LockedEncoder(load_encoder("hashing", dim=8), document_cache=2)
        >>> first = encoder.encode_documents(["a river", "a lake"])
        >>> bool((encoder.encode_documents(["a lake"]) == first[1:]).all()), encoder.cached
        (True, 2)
    """

    def __init__(self, encoder: Any, *, document_cache: int = DOCUMENT_CACHE) -> None:
        self.inner = encoder
        self.lock = threading.Lock()
        self.document_cache = document_cache
        self._documents: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def cached(self) -> int:
        """Document embeddings held."""
        return len(self._documents)

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """The wrapped encoder's query embeddings, one call at a time."""
        with self.lock:
            return np.asarray(self.inner.encode_queries(texts, show_progress=show_progress))

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """The wrapped encoder's document embeddings (cached ones reused), one call at a time."""
        with self.lock:
            if self.document_cache <= 0 or not texts:
                return np.asarray(self.inner.encode_documents(texts, show_progress=show_progress))
            known = self._documents
            missing = list(dict.fromkeys(t for t in texts if t not in known))
            fresh: dict[str, np.ndarray] = {}
            if missing:
                vectors = self.inner.encode_documents(missing, show_progress=show_progress)
                fresh = dict(zip(missing, np.asarray(vectors), strict=True))
            out = np.stack([fresh[t] if t in fresh else known[t] for t in texts])
            for text in texts:
                if text in known:
                    known.move_to_end(text)
            known.update(fresh)
            while len(known) > self.document_cache:
                known.popitem(last=False)
            return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"LockedEncoder({self.inner!r})"
