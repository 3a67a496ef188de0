"""Readers and writers: BEIR folders, TREC runs and qrels, MIRACL topics, JSONL, Parquet.

Readers are strict (file, line and field in every error) and fast (Arrow's native parsers
on the happy path); writers are atomic.
"""

from polyret.io.atomic import atomic_directory, atomic_write
from polyret.io.beir import (
    read_beir,
    read_corpus,
    read_qrels,
    read_queries,
    write_beir,
    write_corpus,
    write_qrels,
    write_queries,
)
from polyret.io.parquet import read_parquet, write_parquet
from polyret.io.trec import read_trec_qrels, read_trec_run, write_trec_qrels, write_trec_run

__all__ = [
    "atomic_directory",
    "atomic_write",
    "read_beir",
    "read_corpus",
    "read_parquet",
    "read_qrels",
    "read_queries",
    "read_trec_qrels",
    "read_trec_run",
    "write_beir",
    "write_corpus",
    "write_parquet",
    "write_qrels",
    "write_queries",
    "write_trec_qrels",
    "write_trec_run",
]
