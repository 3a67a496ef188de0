"""BM25 analysis on Ray: documents analyzed in shards, the index built from their terms.

Analysis (tokenizing, stemming, segmenting CJK and Thai, per-language stopwords) is the
part of :meth:`polyret.retrieve.BM25.index` that grows with the corpus and parallelizes;
each actor analyzes a shard of documents with :func:`polyret.text.analyze_corpus` (the
same analyzers, each loaded once per actor process). The terms come back in document
order and the index is built exactly as the local backend builds it, so the saved index
and every run are identical.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from polyret.distributed.backend import Backend
from polyret.distributed.ray_data import run_shards
from polyret.errors import InvalidInputError
from polyret.types import Corpus

log = logging.getLogger(__name__)


class AnalyzeShards:
    """Ray actor: analyzes each shard of texts, each in its own language."""

    def __init__(self, options: str) -> None:
        self.options = json.loads(options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        from polyret.text import analyze_corpus

        terms = []
        for texts, langs in zip(batch["texts"], batch["langs"], strict=True):
            tokens = analyze_corpus(
                [str(t) for t in texts], [str(x) for x in langs], options=self.options
            )
            terms.append(json.dumps(tokens, ensure_ascii=False))
        return {"shard": batch["shard"], "terms": terms}


def analyze_documents(
    texts: list[str], langs: list[str], backend: Backend, *, options: dict[str, Any]
) -> list[list[str]]:
    """Terms of every text (``langs``: one code or ``"auto"`` per text), analyzed on Ray."""
    size = backend.batch_size
    rows = [
        {"shard": n, "texts": texts[start : start + size], "langs": langs[start : start + size]}
        for n, start in enumerate(range(0, len(texts), size))
    ]
    out = run_shards(backend, rows, AnalyzeShards, {"options": json.dumps(options)})
    return [doc for row in out for doc in json.loads(row["terms"])]


def index_bm25(bm25: Any, corpus: Corpus, backend: Backend) -> Any:
    """:meth:`polyret.retrieve.BM25.index` with the analysis done on Ray; returns ``bm25``."""
    if len(corpus) == 0:
        raise InvalidInputError("cannot index an empty corpus")
    log.info("BM25 on ray: analyzing %d documents", len(corpus))
    tokens = analyze_documents(
        corpus.full_texts(), bm25._langs(corpus), backend, options=bm25.config.analyzer
    )
    return bm25.index_terms(corpus, tokens)
