"""Search one index, or several and fuse their runs (hybrid retrieval)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from polyret.config import Config
from polyret.retrieve.bm25 import BM25
from polyret.retrieve.dense import Dense
from polyret.retrieve.fusion import FuseConfig, fuse
from polyret.retrieve.loading import Index
from polyret.retrieve.multivector import MultiVector
from polyret.retrieve.sparse import LearnedSparse
from polyret.types import Queries, Run


class SearchConfig(Config):
    """How deep a search goes: the ``retrieve`` stage's params and ``polyret search``'s ``-k``."""

    k: int = Field(default=1000, ge=1, description="Documents per query.")


def search(
    indexes: Index | Sequence[Index],
    queries: Queries,
    config: SearchConfig = SearchConfig(),  # frozen
    *,
    fusion: FuseConfig = FuseConfig(),  # frozen
    show_progress: bool = False,
) -> Run:
    """The top ``config.k`` documents per query of one index, or of several fused by
    ``fusion`` (each index searched ``k`` deep).

    Example:
        >>> from polyret.types import Corpus
        >>> corpus = Corpus.from_dict({"d1": "Der Rhein", "d2": "长江"})
        >>> index = BM25().index(corpus)
        >>> list(search(index, Queries.from_dict({"q": "Rhein"}), SearchConfig(k=1))["q"])
        ['d1']
    """
    many = (
        [indexes]
        if isinstance(indexes, (BM25, Dense, MultiVector, LearnedSparse))
        else list(indexes)
    )
    runs = [index.search(queries, k=config.k, show_progress=show_progress) for index in many]
    return runs[0] if len(runs) == 1 else fuse(runs, config=fusion, k=config.k)
