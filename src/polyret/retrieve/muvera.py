"""MUVERA fixed-dimensional encodings: a set of token vectors as one vector for FAISS.

Each of ``repetitions`` random SimHash partitions (``simhash_bits`` hyperplanes, so
``2**simhash_bits`` buckets) assigns every token to a bucket; a query's block for a
bucket is the *sum* of its tokens there, a document's the *mean* (an empty bucket takes
the document token whose bucket is nearest in Hamming distance), each through a random
±1 projection to ``projection_dim``. The inner product of a query's and a document's
encodings approximates their Chamfer (MaxSim) similarity, so an ordinary inner-product
index finds the candidates that exact MaxSim then rescores.

Written here (about 60 lines of numpy) because no MUVERA package is on the offline
index besides fastembed's, which brings its own model runtime and hub downloads.

Reference: Dhulipala et al., "MUVERA: Multi-Vector Retrieval via Fixed Dimensional
Encodings", NeurIPS 2024 (https://arxiv.org/abs/2405.19504).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from polyret.encode.tokens import TokenVectors
from polyret.errors import InvalidInputError


class FixedDimensionalEncoder:
    """Fixed-dimensional encodings of token-vector sets (seeded: the same seed and sizes
    give the same encodings, so a saved index and a later query agree).

    Args:
        dim: Token vector dimension.
        repetitions: Independent partitions concatenated.
        simhash_bits: Hyperplanes per partition (``2**simhash_bits`` buckets).
        projection_dim: Random projection of each bucket's block (``None``: no projection).
        seed: Seed of the hyperplanes and projections.

    Example:
        >>> fde = FixedDimensionalEncoder(4, repetitions=2, simhash_bits=1, projection_dim=None)
        >>> fde.output_dim
        16
    """

    def __init__(
        self,
        dim: int,
        *,
        repetitions: int = 20,
        simhash_bits: int = 3,
        projection_dim: int | None = 32,
        seed: int = 0,
    ) -> None:
        if repetitions < 1 or not 0 <= simhash_bits <= 12 or (projection_dim or 1) < 1:
            raise InvalidInputError(
                "repetitions ≥ 1, 0 ≤ simhash_bits ≤ 12 and projection_dim ≥ 1 are required",
                field="simhash_bits",
            )
        rng = np.random.default_rng(seed)
        self.dim, self.repetitions, self.bits = dim, repetitions, simhash_bits
        self.buckets = 1 << simhash_bits
        self.block = dim if projection_dim is None else projection_dim
        self.hyperplanes = rng.standard_normal((repetitions, dim, simhash_bits)).astype(np.float32)
        self.projections = (
            None
            if projection_dim is None
            else (
                rng.choice([-1.0, 1.0], (repetitions, dim, projection_dim))
                / np.sqrt(projection_dim)
            ).astype(np.float32)
        )
        codes = np.arange(self.buckets)
        xor = codes[:, None] ^ codes[None, :]
        self._hamming = np.array([[bin(v).count("1") for v in row] for row in xor], np.int64)

    @property
    def output_dim(self) -> int:
        """Dimension of an encoding: repetitions × buckets × block."""
        return self.repetitions * self.buckets * self.block

    def encode(self, tokens: TokenVectors, kind: Literal["query", "document"]) -> np.ndarray:
        """``[len(tokens), output_dim]`` float32 encodings of each text's token set."""
        n = len(tokens)
        lengths = tokens.lengths
        if n and lengths.min() < 1:
            raise InvalidInputError("every text needs at least one token vector", field="tokens")
        vectors = tokens.vectors.astype(np.float32) * np.float32(tokens.scale)
        owner = np.repeat(np.arange(n), lengths)
        out = np.zeros((n, self.repetitions, self.buckets, self.block), np.float32)
        for r in range(self.repetitions):
            bucket = (vectors @ self.hyperplanes[r] > 0) @ (1 << np.arange(self.bits))
            projected = vectors if self.projections is None else vectors @ self.projections[r]
            slot = owner * self.buckets + bucket
            counts = np.bincount(slot, minlength=n * self.buckets)
            sums = np.stack(
                [
                    np.bincount(slot, weights=projected[:, j], minlength=n * self.buckets)
                    for j in range(self.block)
                ],
                axis=1,
            ).reshape(n, self.buckets, self.block)
            if kind == "query":
                out[:, r] = sums
                continue
            counts = counts.reshape(n, self.buckets)
            out[:, r] = sums / np.maximum(counts, 1)[:, :, None]
            starts = tokens.offsets[:-1]
            for b in range(self.buckets):
                empty = np.flatnonzero(counts[:, b] == 0)
                if not len(empty):
                    continue
                # per document, its token whose bucket is nearest to b (ties: the first)
                order = np.lexsort((self._hamming[bucket, b], owner))
                out[empty, r, b] = projected[order[starts[empty]]]
        return out.reshape(n, self.output_dim)
