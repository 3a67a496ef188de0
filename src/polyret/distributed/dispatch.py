"""One function per heavy stage that runs it on the chosen backend.

``local`` calls the existing in-process code unchanged; ``ray`` calls the Ray Data
implementation. Both give identical results, so callers (pipeline adapters, CLI commands)
pick a backend without changing anything else.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyret.distributed.backend import Backend
from polyret.types import Corpus, Queries, Run, TrainingSet


def index_bm25(
    bm25: Any, corpus: Corpus, backend: Backend, *, processes: int = 1, show_progress: bool = False
) -> Any:
    """``bm25.index(corpus)`` on ``backend``; returns ``bm25`` (``processes`` and
    ``show_progress``: the local backend's options)."""
    if not backend.is_ray:
        return bm25.index(corpus, processes=processes, show_progress=show_progress)
    from polyret.distributed.bm25 import index_bm25 as on_ray

    return on_ray(bm25, corpus, backend)


def index_dense(
    dense: Any,
    corpus: Corpus,
    encoder: Callable[[], Any],
    backend: Backend,
    *,
    show_progress: bool = False,
) -> Any:
    """``dense.index(corpus)`` on ``backend`` (``encoder`` loads ``dense.encoder`` in workers;
    ``show_progress``: the local backend's bars)."""
    if not backend.is_ray:
        return dense.index(corpus, show_progress=show_progress)
    from polyret.distributed.encode import index_dense as on_ray

    return on_ray(dense, corpus, encoder, backend)


def rerank(
    reranker: Callable[[], Any],
    queries: Queries,
    run: Run,
    corpus: Corpus,
    k: int,
    backend: Backend,
) -> Run:
    """``reranker().rerank(queries, run, corpus, k)`` on ``backend``.

    ``reranker`` (like every factory here) is a picklable zero-argument callable, e.g. a
    :class:`~polyret.distributed.RerankerSpec`: on ray each actor calls it once.
    """
    if not backend.is_ray:
        return reranker().rerank(queries, run, corpus, k)  # type: ignore[no-any-return]
    from polyret.distributed.rank import rerank as on_ray

    return on_ray(reranker, queries, run, corpus, backend, k)


def mine_negatives(
    training_set: TrainingSet,
    corpus: Corpus,
    retriever: Any,
    strategy: str,
    backend: Backend,
    *,
    k: int | None = None,
    index_dir: str | os.PathLike[str] | None = None,
    show_progress: bool = False,
    **overrides: Any,
) -> TrainingSet:
    """:func:`polyret.mine.mine_negatives` on ``backend``.

    On ray the workers load the index from a folder: ``retriever`` is an index folder or
    ``"bm25"``, or a loaded index saved at ``index_dir``. ``show_progress``: the local
    backend's bars.
    """
    if not backend.is_ray:
        from polyret.mine import mine_negatives as local

        return local(
            training_set, corpus, retriever, strategy, k=k, show_progress=show_progress,
            **overrides,
        )  # fmt: skip
    from polyret.distributed.rank import mine_negatives as on_ray

    name = None
    if not isinstance(retriever, str | os.PathLike) and index_dir is not None:
        retriever, name = index_dir, type(retriever).__name__  # as the local run names it
    return on_ray(training_set, corpus, retriever, backend, strategy, k=k, name=name, **overrides)


def generate(
    generator: Callable[[], Any],
    corpus: Corpus,
    out: str | os.PathLike[str],
    backend: Backend,
    *,
    chunk_size: int = 64,
    overwrite: bool = False,
) -> TrainingSet:
    """:func:`polyret.curate.generate` on ``backend``."""
    if not backend.is_ray:
        from polyret.curate import generate as local

        return local(generator(), corpus, Path(out), chunk_size=chunk_size, overwrite=overwrite)
    from polyret.distributed.generation import generate as on_ray

    return on_ray(generator, corpus, Path(out), backend, chunk_size=chunk_size, overwrite=overwrite)
