"""A tiny deterministic encoder: hashed character trigrams (tests, plugins, smoke runs).

It needs no model and no extra package, so it stands in for a real encoder where only the
protocol matters (caching, retrieval plumbing). It makes no quality claim.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from polyret.encode.base import BaseEncoder, EncoderConfig


class HashingEncoder(BaseEncoder):
    """Sum of signed hashed character trigrams, L2-normalized.

    Args:
        dim: Output dimension.
        config: Shared encoder options.
        **options: Overrides of ``config`` fields.

    Attributes:
        calls: How many times the model was asked to embed (for cache tests).

    Example:
        >>> enc = HashingEncoder(dim=16)
        >>> enc.encode_documents(["hello world", ""]).shape
        (2, 16)
    """

    backend = "hashing"
    name = "hashing"

    def __init__(self, dim: int = 256, config: EncoderConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.native_dim = dim
        self.calls = 0

    def _identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "dim": self.native_dim}

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.native_dim), np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.lower()} "
            for i in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.native_dim] += 1.0 if value >> 63 else -1.0
            if not out[row].any():
                out[row, 0] = 1.0
        return out
