"""Resolve what a user names on the command line into a Corpus or Queries.

A source is a file (``.jsonl``/``.jsonl.gz``, ``.parquet``, a ``.tsv`` topics file) or a
collection (a catalogue name or a BEIR folder).
"""

from __future__ import annotations

from pathlib import Path

from polyret.datasets.catalogue import load
from polyret.errors import InvalidInputError
from polyret.io import read_corpus, read_parquet, read_queries
from polyret.types import Corpus, Queries


def corpus_from(source: str, lang: str | None = None) -> Corpus:
    """The corpus of a file or collection; ``lang`` fills records that carry none."""
    path = Path(source)
    if path.is_file():
        if path.suffix == ".parquet":
            return _expect(read_parquet(path), Corpus, path)
        return read_corpus(path, lang)
    return load(source).corpus


def queries_from(source: str, split: str | None = None, lang: str | None = None) -> Queries:
    """The queries of a file, or of a collection (only ``split``'s when given)."""
    path = Path(source)
    if path.is_file():
        if path.suffix == ".parquet":
            return _expect(read_parquet(path), Queries, path)
        return read_queries(path, lang)
    dataset = load(source)
    return dataset.split(split)[0] if split else dataset.queries


def _expect(data: object, kind: type, path: Path):
    if not isinstance(data, kind):
        raise InvalidInputError(
            f"expected {kind.__name__}, the file holds {type(data).__name__}", path=path
        )
    return data
