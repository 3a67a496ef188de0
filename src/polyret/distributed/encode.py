"""Encoding on Ray: the corpus in shards, one embedding file per shard, one Dense index.

Shard ``n`` holds documents ``n·size .. (n+1)·size`` with ``size`` the index's
``encode_batch``: the local :meth:`polyret.retrieve.Dense.index` encodes exactly these
slices, so every text is batched with the same neighbours and the embeddings are
bit-identical to the local backend's (the int8 ONNX path quantizes activations per batch,
which is why the shard size cannot be chosen freely). Each actor loads the encoder once
and writes ``shard-NNNNNN.npy`` atomically (:mod:`polyret.distributed.shards`); the driver
then reads the shards in order and builds the same FAISS index.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from polyret.distributed.backend import Backend
from polyret.distributed.ray_data import resolve, run_shards
from polyret.distributed.shards import read_shards, remove_leftovers, shard_path, write_shard
from polyret.encode.base import EncoderConfig
from polyret.errors import InvalidInputError
from polyret.types import Corpus

log = logging.getLogger(__name__)


class EncodeShards:
    """Ray actor: loads the encoder once, encodes and writes each shard it is given.

    An encoder that leaves its thread count to the library (``threads=None``) gets the
    actor's CPUs instead of every core of the node, so actors do not oversubscribe it
    (``threads`` is a speed-only option: it is not part of the fingerprint).
    """

    def __init__(self, encoder: Any, folder: str, threads: int) -> None:
        self.encoder = resolve(encoder)()
        config = getattr(self.encoder, "config", None)
        if isinstance(config, EncoderConfig) and config.threads is None:
            self.encoder.config = replace(config, threads=threads)
        self.folder = folder

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        for number, texts in zip(batch["shard"], batch["texts"], strict=True):
            if not shard_path(self.folder, int(number)).is_file():  # a retry skips done work
                vectors = self.encoder.encode_documents([str(t) for t in texts])
                write_shard(self.folder, int(number), vectors)
        return {
            "shard": batch["shard"],
            "fingerprint": [self.encoder.fingerprint] * len(batch["shard"]),
        }


def encode_documents(
    encoder: Callable[[], Any],
    texts: list[str],
    backend: Backend,
    *,
    shard_size: int,
    work_dir: str | Path | None = None,
    fingerprint: str | None = None,
) -> np.ndarray:
    """Document embeddings of ``texts`` computed on Ray, in input order.

    Args:
        encoder: A picklable factory of the encoder (:class:`~polyret.distributed.EncoderSpec`).
        texts: The texts (full document texts).
        backend: The ray backend.
        shard_size: Texts per shard (one file each).
        work_dir: Folder of the shard files, visible to every worker. Given, it is kept
            and a re-run skips finished shards; ``None``: a temporary folder, removed.
        fingerprint: The encoder fingerprint the workers must report (``None``: no check).

    Raises:
        InvalidInputError: a worker loaded an encoder with another fingerprint.
    """
    if shard_size < 1:
        raise InvalidInputError(f"shard_size must be >= 1, got {shard_size}", field="shard_size")
    folder = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="polyret-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        rows = [
            {"shard": n, "texts": texts[start : start + shard_size]}
            for n, start in enumerate(range(0, len(texts), shard_size))
        ]
        threads = max(1, int(backend.num_cpus))
        constructor = {"encoder": encoder, "folder": str(folder), "threads": threads}
        out = run_shards(backend, rows, EncodeShards, constructor)
        seen = {str(row["fingerprint"]) for row in out}
        if fingerprint is not None and seen - {fingerprint}:
            raise InvalidInputError(
                f"workers loaded encoder {sorted(seen)} instead of {fingerprint}",
                field="encoder",
            )
        remove_leftovers(folder)
        shards = read_shards(folder, len(rows))
        return np.concatenate(shards) if shards else np.zeros((0, 0), np.float32)
    finally:
        if work_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def index_dense(
    dense: Any,
    corpus: Corpus,
    encoder: Callable[[], Any],
    backend: Backend,
    *,
    work_dir: str | Path | None = None,
) -> Any:
    """:meth:`polyret.retrieve.Dense.index` with the encoding done on Ray; returns ``dense``.

    Args:
        dense: The :class:`~polyret.retrieve.Dense` to fill (its encoder identifies the
            model; ``encoder`` loads the same model in each worker).
        corpus: The documents.
        encoder: Factory of the same encoder for the workers.
        backend: The ray backend.
        work_dir: Shard folder (see :func:`encode_documents`).
    """
    if len(corpus) == 0:
        raise InvalidInputError("cannot index an empty corpus")
    log.info("dense on ray: encoding %d documents", len(corpus))
    embeddings = encode_documents(
        encoder,
        corpus.full_texts(),
        backend,
        shard_size=dense.config.encode_batch,
        work_dir=work_dir,
        fingerprint=dense.encoder.fingerprint,
    )
    return dense.index_embeddings(corpus.ids, embeddings)
