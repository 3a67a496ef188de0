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

    Queries of concurrent requests are encoded together: a thread that finds the encoder
    busy leaves its texts in a queue, and whichever thread gets the encoder next encodes
    everything queued in one call (a batch of short queries costs little more than one),
    then hands every thread its rows. A served corpus does not change, so document
    embeddings (what a bi-encoder reranker asks for, the same top documents again and
    again) are kept in a bounded LRU map.

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
        self._queued: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self.calls = 0
        """Query-encoding calls made on the wrapped encoder."""

    @property
    def cached(self) -> int:
        """Document embeddings held."""
        return len(self._documents)

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """The wrapped encoder's query embeddings, batched with concurrent callers' queries."""
        mine = _Pending(list(texts))
        with self._queue_lock:
            self._queued.append(mine)
        with self.lock:
            if not mine.done:  # nobody took it along: encode everything queued now
                with self._queue_lock:
                    batch, self._queued = self._queued, []
                _encode_batch(self.inner, batch, show_progress)
                self.calls += 1
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

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
        if name.startswith("_"):  # not found on self: never the wrapped encoder's privates
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"LockedEncoder({self.inner!r})"


class _Pending:
    """One caller's query texts, and their embeddings (or error) once encoded."""

    __slots__ = ("done", "error", "result", "texts")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.done = False
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None


def _encode_batch(encoder: Any, batch: list[_Pending], show_progress: bool) -> None:
    """Encode every pending caller's texts in one call and give each its rows.

    When the batch fails, each caller is encoded alone, so one bad input fails only its
    own request.
    """
    texts = [t for pending in batch for t in pending.texts]
    try:
        vectors = np.asarray(encoder.encode_queries(texts, show_progress=show_progress))
    except Exception as error:
        if len(batch) == 1:
            batch[0].error, batch[0].done = error, True
            return
        for pending in batch:
            _encode_batch(encoder, [pending], show_progress)
        return
    start = 0
    for pending in batch:
        pending.result = vectors[start : start + len(pending.texts)]
        start += len(pending.texts)
        pending.done = True
