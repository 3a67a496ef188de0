"""An :class:`~polyret.encode.Encoder` whose forward passes run on Ray, batch for batch.

polyret's fast encoder forms its forward batches over *all* the texts of one call (sorted
by token length, capped by ``max_tokens``), and its int8 path quantizes activations per
batch, so a text's vector depends on its batch. :class:`RayEncoder` therefore plans the
batches exactly as the local encoder would (same tokenizer, same
:func:`polyret.encode.length_batches`), ships whole batches to actors and has each actor
encode one batch per call, which reproduces the local batch: the vectors are bit-identical
to one local ``encode_*`` call over all the texts. Any component that takes an encoder (the
bi-encoder reranker, dense mining) gets Ray parallelism this way without changing a bit.

Encoders without ``token_lengths`` are sent in plain slices of ``batch_size`` texts (exact
for batch-independent encoders).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from polyret.distributed.backend import Backend
from polyret.distributed.ray_data import resolve, run_shards
from polyret.encode.base import EncoderConfig, WrappedEncoder, check_texts, length_batches

log = logging.getLogger(__name__)


class EncodeBatches:
    """Ray actor: loads the encoder once; encodes each planned batch in its own call."""

    def __init__(self, encoder: Any, threads: int) -> None:
        self.encoder = resolve(encoder)()
        config = getattr(self.encoder, "config", None)
        if isinstance(config, EncoderConfig) and config.threads is None:
            from dataclasses import replace

            self.encoder.config = replace(config, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        out = []
        for kind, payload in zip(batch["kind"], batch["batches"], strict=True):
            encode = (
                self.encoder.encode_queries if kind == "query" else self.encoder.encode_documents
            )
            vectors = [encode(texts) for texts in pickle.loads(payload)]
            out.append(pickle.dumps(vectors))
        return {"shard": batch["shard"], "vectors": out}


class RayEncoder(WrappedEncoder):
    """``encoder``'s identity and outputs, with the forward passes done by Ray actors.

    Args:
        encoder: The encoder as loaded here (plans batches, answers ``dim``, ``fingerprint``).
        factory: A picklable factory loading the same encoder in each actor.
        backend: The ray backend; ``batch_size`` texts (rounded to whole batches) per shard.
    """

    def __init__(self, encoder: Any, factory: Callable[[], Any], backend: Backend) -> None:
        self.encoder = encoder
        self.factory = factory
        self.backend = backend

    path = property(lambda self: getattr(self.encoder, "path", None))
    config = property(lambda self: getattr(self.encoder, "config", None))

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Query embeddings, identical to ``encoder.encode_queries(texts)``."""
        return self._encode(check_texts(texts), "query", self.query_prefix)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Document embeddings, identical to ``encoder.encode_documents(texts)``."""
        return self._encode(check_texts(texts), "passage", self.passage_prefix)

    def plan(self, texts: list[str], prefix: str) -> list[np.ndarray]:
        """The row indices of each forward batch the local encoder would run."""
        config = getattr(self.encoder, "config", None)
        lengths = getattr(self.encoder, "token_lengths", None)
        if lengths is None or not isinstance(config, EncoderConfig):
            step = self.backend.batch_size
            return [np.arange(s, min(s + step, len(texts))) for s in range(0, len(texts), step)]
        counts = lengths([prefix + t for t in texts])
        return length_batches(counts, max_tokens=config.max_tokens, batch_size=config.batch_size)

    def _encode(self, texts: list[str], kind: str, prefix: str) -> np.ndarray:
        if not texts:
            return np.asarray(self.encoder.encode_documents([]))
        batches = self.plan(texts, prefix)
        shards: list[list[np.ndarray]] = [[]]
        for rows in batches:  # whole batches, about batch_size texts per shard
            if shards[-1] and sum(map(len, shards[-1])) + len(rows) > self.backend.batch_size:
                shards.append([])
            shards[-1].append(rows)
        payload = [
            {
                "shard": n,
                "kind": kind,
                "batches": pickle.dumps([[texts[i] for i in rows] for rows in shard]),
            }
            for n, shard in enumerate(shards)
        ]
        threads = max(1, int(self.backend.num_cpus))
        done = run_shards(
            self.backend, payload, EncodeBatches, {"encoder": self.factory, "threads": threads}
        )
        out: np.ndarray | None = None
        for row, shard in zip(done, shards, strict=True):
            for rows, vectors in zip(shard, pickle.loads(row["vectors"]), strict=True):
                if out is None:
                    out = np.empty((len(texts), vectors.shape[1]), vectors.dtype)
                out[rows] = vectors
        assert out is not None
        log.info("ray encoder: %d %s texts in %d batches, %d shards", len(texts), kind,
                 len(batches), len(shards))  # fmt: skip
        return out
