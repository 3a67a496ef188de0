"""An encoder that one thread at a time may call: the service's request threads share it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np


class LockedEncoder:
    """Wraps an :class:`~polyret.encode.Encoder` so its ``encode_*`` calls never overlap.

    Why a lock: the fast encoder creates its ONNX Runtime session lazily on the first call
    (two threads could both build one), the torch and sentence-transformers backends are
    not documented re-entrant, and every backend already spreads one call over all cores
    (ONNX intra-op threads, torch threads), so overlapping calls would only oversubscribe
    the CPU. Everything else (``dim``, ``fingerprint``, ``path``, ...) is the wrapped
    encoder's.

    Args:
        encoder: The encoder to share.
    """

    def __init__(self, encoder: Any) -> None:
        self.inner = encoder
        self.lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """The wrapped encoder's query embeddings, one call at a time."""
        with self.lock:
            return np.asarray(self.inner.encode_queries(texts, show_progress=show_progress))

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """The wrapped encoder's document embeddings, one call at a time."""
        with self.lock:
            return np.asarray(self.inner.encode_documents(texts, show_progress=show_progress))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"LockedEncoder({self.inner!r})"
