"""A collection as an experiment uses it: loaded by name, optionally cut down."""

from __future__ import annotations

from pydantic import Field

from polyret.config import Config
from polyret.datasets.catalogue import load
from polyret.types import Dataset, Qrels


class DatasetConfig(Config):
    """Which collection, and how much of it: the ``dataset`` stage's params and the options
    of ``polyret datasets export``."""

    source: str = Field(
        description="A catalogue name (xquad-r), a BEIR folder, or an irds:/hf: address."
    )
    langs: list[str] | None = Field(
        default=None, description="Keep only the documents and queries in these languages."
    )
    max_queries: int | None = Field(
        default=None, ge=1, description="Keep the first N judged queries per split and language."
    )


def prepare(config: DatasetConfig) -> Dataset:
    """The collection ``config`` names, cut down to its languages and query budget.

    Judgments of documents that were dropped are dropped, and a query left with none is
    too; with a cut, only judged queries are kept.
    """
    data = load(config.source)
    corpus, queries = data.corpus, data.queries
    if config.langs:
        corpus, queries = corpus.filter(lang=config.langs), queries.filter(lang=config.langs)
    documents = set(corpus.ids)
    langs = dict(zip(queries.ids, queries.langs, strict=True))
    qrels: dict[str, Qrels] = {}
    for split, judged in sorted(data.qrels.items()):
        kept: dict[str, dict[str, int]] = {}
        per_lang: dict[str, int] = {}
        for query_id in judged:
            lang = langs.get(query_id)
            docs = {d: r for d, r in judged[query_id].items() if d in documents}
            if lang is None or not docs:
                continue
            if config.max_queries is not None:
                if per_lang.get(lang, 0) >= config.max_queries:
                    continue
                per_lang[lang] = per_lang.get(lang, 0) + 1
            kept[query_id] = docs
        qrels[split] = Qrels.from_dict(kept)
    if config.langs or config.max_queries:
        queries = queries.filter(ids={q for judged in qrels.values() for q in judged})
    return Dataset(data.name, corpus, queries, qrels)
