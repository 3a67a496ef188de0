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
from polyret.types import UNKNOWN_LANG, Corpus

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
    import bm25s

    if len(corpus) == 0:
        raise InvalidInputError("cannot index an empty corpus")
    config = bm25.config
    log.info("BM25 on ray: analyzing %d documents", len(corpus))
    tokens = analyze_documents(
        corpus.full_texts(), bm25._langs(corpus), backend, options=config.analyzer
    )
    vocab: dict[str, int] = {}
    token_ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokens]
    if not vocab:
        raise InvalidInputError(
            f"none of the {len(corpus)} documents has an indexable term (all empty or "
            "punctuation/emoji only)"
        )
    model = bm25s.BM25(k1=config.k1, b=config.b, delta=config.delta, method=config.variant)
    model.index((token_ids, vocab), show_progress=False)
    doc_langs = {lang: n for lang, n in corpus.languages().items() if lang != UNKNOWN_LANG}
    bm25._set(model, np.asarray(corpus.ids, dtype=object), doc_langs)
    log.info("BM25 on ray: indexed %d documents, %d terms", len(corpus), len(vocab))
    return bm25
