"""Resumable generation: a long job writes one shard per chunk and survives being killed.

``out`` is written only once, atomically, when every chunk is done; until then finished
chunks live as atomically written Parquet shards in a hidden sibling folder
(``.<out>.parts/``) keyed by the job's identity (generator config + corpus hash). A restart
skips finished shards; because generators draw randomness per document
(:func:`polyret.curate.base.rng_for`) the result is byte-identical to an uninterrupted run,
with no row lost or duplicated. LLM answers are additionally cached by the client, so a
chunk interrupted half-way does not pay for its finished requests twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from polyret.curate.base import Generator, finish
from polyret.errors import OutputExistsError
from polyret.io.atomic import atomic_write, file_lock
from polyret.types import Corpus, TrainingSet
from polyret.types.training import SCHEMA

log = logging.getLogger(__name__)


def generate(
    generator: Generator,
    corpus: Corpus,
    out: str | Path | None = None,
    *,
    chunk_size: int = 64,
    overwrite: bool = False,
    show_progress: bool = False,
) -> TrainingSet:
    """Run ``generator`` over ``corpus``; with ``out``, resumably and saved to ``out``.

    Args:
        generator: A registered generation method (see :data:`polyret.curate.generators`).
        corpus: The documents to make examples from.
        out: Folder to save the :class:`~polyret.types.TrainingSet` in. ``None``: generate
            in memory (no checkpoints).
        chunk_size: Documents per checkpointed shard.
        overwrite: Replace an existing ``out`` (otherwise it raises OutputExistsError).
        show_progress: Show a progress bar over documents.

    Returns:
        The examples, with provenance and a ``generate`` funnel step.
    """
    if out is None:
        return generator.generate(corpus, show_progress=show_progress)
    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    parts = out.parent / f".{out.name}.parts"
    parts.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with file_lock(parts / "lock"):
        job = _job_key(generator, corpus)
        _claim(parts, job)
        chunks = chunked(corpus, chunk_size, getattr(generator, "group_key", None))
        done = sum((parts / _shard_name(n)).is_file() for n in range(len(chunks)))
        if done:
            log.info("resuming %s: %d of %d chunks already done", out, done, len(chunks))
        tables = []
        with tqdm(total=len(corpus), disable=not show_progress, desc=generator.name) as bar:
            for number, chunk in enumerate(chunks):
                shard = parts / _shard_name(number)
                if not shard.is_file():
                    rows = generator.generate(chunk).table
                    with atomic_write(shard, "wb") as handle:
                        pq.write_table(rows, handle)
                tables.append(pq.read_table(shard))
                bar.update(len(chunk))
        examples = TrainingSet(pa.concat_tables(tables) if tables else SCHEMA.empty_table())
        result = finish(
            examples,
            generator,
            corpus,
            documents=len(corpus),
            chunks=len(chunks),
            resumed_chunks=done,
            seconds=round(time.time() - started, 3),
        )
        # seconds and resumed_chunks vary between runs: keep them out of the saved funnel
        # so a resumed run writes the same bytes as an uninterrupted one
        saved = TrainingSet(result.table, provenance=result.provenance, funnel=result.funnel[:-1])
        saved = saved.with_step(
            {k: v for k, v in result.funnel[-1].items() if k not in ("seconds", "resumed_chunks")}
        )
        saved.save(out, overwrite=overwrite)
    shutil.rmtree(parts, ignore_errors=True)
    return result


def chunked(
    corpus: Corpus, size: int, group_key: Callable[[str], str | None] | None = None
) -> list[Corpus]:
    """Consecutive chunks of about ``size`` documents that never split a group.

    Generators that make examples from several documents at once (ICT over the sentences
    of one passage) name each document's group with ``group_key(doc_id)``; a chunk then
    runs on to the end of the group it reached ``size`` in, so its output is the same as
    that of one in-memory run. Groups must be contiguous in the corpus.
    """
    if group_key is None:
        return list(corpus.batches(size))
    keys = [group_key(doc_id) for doc_id in corpus.ids]
    chunks, start = [], 0
    for row in range(1, len(keys) + 1):
        at_end = row == len(keys)
        if at_end or (row - start >= size and (keys[row] is None or keys[row] != keys[row - 1])):
            chunks.append(corpus.take(range(start, row)))
            start = row
    return chunks


def _shard_name(number: int) -> str:
    return f"part-{number:06d}.parquet"


def _job_key(generator: Generator, corpus: Corpus) -> str:
    identity = {"generator": generator.config, "corpus": corpus.fingerprint()}
    payload = json.dumps(identity, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _claim(parts: Path, job: str) -> None:
    """Make ``parts`` belong to ``job``; shards of another job (changed config) are dropped."""
    marker = parts / "job.json"
    if marker.is_file() and json.loads(marker.read_text()).get("job") != job:
        log.warning("%s holds shards of another configuration: starting over", parts)
        for shard in parts.glob("part-*.parquet"):
            shard.unlink()
    with atomic_write(marker) as handle:
        json.dump({"job": job}, handle)
