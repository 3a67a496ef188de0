"""Generation on Ray: the chunks of :func:`polyret.curate.generate`, spread over actors.

The local runner already splits the corpus into chunks (never splitting a document group)
and checkpoints each chunk as an atomically written Parquet shard in ``.<out>.parts/``.
Here actors fill those shards in parallel, each loading the generator (and its LLM client)
once; the local runner then finds every shard done and assembles them. Generators draw
their randomness per document, so the bytes are the same as an uninterrupted local run.

Concurrency per LLM endpoint: every actor sends one request at a time, so at most
``Backend.endpoint_concurrency`` (default ``Backend.workers``) requests reach the endpoint
at once, whatever the size of the cluster.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from polyret.distributed.backend import Backend
from polyret.distributed.ray_data import resolve, run_shards
from polyret.errors import OutputExistsError
from polyret.io.atomic import atomic_write, file_lock
from polyret.types import Corpus, TrainingSet

log = logging.getLogger(__name__)


class GenerateShards:
    """Ray actor: loads the generator once, generates and writes each chunk it is given."""

    def __init__(self, generator: Any, corpus: Any, parts: str) -> None:
        self.generator = resolve(generator)()
        self.corpus = resolve(corpus)
        self.parts = Path(parts)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        import pyarrow.parquet as pq

        from polyret.curate.runner import _shard_name

        for number, start, stop in zip(batch["shard"], batch["start"], batch["stop"], strict=True):
            shard = self.parts / _shard_name(int(number))
            if not shard.is_file():
                chunk = self.corpus.take(range(int(start), int(stop)))
                rows = self.generator.generate(chunk).table
                with atomic_write(shard, "wb") as handle:
                    pq.write_table(rows, handle)
        return {"shard": batch["shard"]}


def generate(
    generator: Callable[[], Any],
    corpus: Corpus,
    out: str | Path,
    backend: Backend,
    *,
    chunk_size: int = 64,
    overwrite: bool = False,
) -> TrainingSet:
    """:func:`polyret.curate.generate` with the chunks generated on Ray.

    Args:
        generator: A picklable factory (:class:`~polyret.distributed.GeneratorSpec`).
        corpus: The documents.
        out: The training-set folder (its ``.parts`` sibling must be visible to workers).
        backend: The ray backend; ``endpoint_concurrency`` caps the actors.
        chunk_size: Documents per chunk (the same chunks as locally).
        overwrite: Replace an existing ``out``.
    """
    from polyret.curate import generate as local_generate
    from polyret.curate.runner import _claim, _job_key, chunked

    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    local = generator()
    parts = out.parent / f".{out.name}.parts"
    parts.mkdir(parents=True, exist_ok=True)
    with file_lock(parts / "lock"):
        _claim(parts, _job_key(local, corpus))
    chunks = chunked(corpus, chunk_size, getattr(local, "group_key", None))
    bounds = np.concatenate([[0], np.cumsum([len(c) for c in chunks])]).tolist()
    rows = [{"shard": n, "start": bounds[n], "stop": bounds[n + 1]} for n in range(len(chunks))]
    workers = min(backend.workers, backend.endpoint_concurrency or backend.workers)
    constructor = {"generator": generator, "corpus": corpus, "parts": str(parts)}
    run_shards(backend, rows, GenerateShards, constructor, workers=workers)
    return local_generate(local, corpus, out, chunk_size=chunk_size, overwrite=overwrite)
