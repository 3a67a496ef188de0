"""Parquet for every core type; the type is recorded in the file's schema metadata."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from polyret.errors import InvalidInputError
from polyret.io.atomic import atomic_write
from polyret.types import Corpus, Qrels, Queries, Run

_KINDS: dict[str, type[Corpus] | type[Queries] | type[Run] | type[Qrels]] = {
    "corpus": Corpus,
    "queries": Queries,
    "run": Run,
    "qrels": Qrels,
}


def write_parquet(data: Corpus | Queries | Run | Qrels, path: str | Path) -> None:
    """Write a corpus, queries, run or qrels to one Parquet file, atomically."""
    kind = next(name for name, cls in _KINDS.items() if isinstance(data, cls))
    table = data.table if isinstance(data, Corpus | Queries) else data.to_arrow()
    table = table.replace_schema_metadata({b"polyret.type": kind.encode()})
    with atomic_write(path, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")


def read_parquet(path: str | Path) -> Corpus | Queries | Run | Qrels:
    """Read a Parquet file written by :func:`write_parquet` (or with the same columns)."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise InvalidInputError(f"not a readable Parquet file: {error}", path=path) from None
    kind = (table.schema.metadata or {}).get(b"polyret.type", b"").decode() or _guess_kind(table)
    cls = _KINDS.get(kind)
    if cls is None:
        raise InvalidInputError(
            f"cannot tell what the columns {table.column_names} hold", path=path
        )
    try:
        if issubclass(cls, (Corpus, Queries)):
            return cls(table.replace_schema_metadata(None))
        value = "score" if cls is Run else "relevance"
        return cls.from_arrays(
            table.column("query_id").to_numpy(zero_copy_only=False),
            table.column("doc_id").to_numpy(zero_copy_only=False),
            table.column(value).to_numpy(),
            source=str(path),
        )
    except (KeyError, InvalidInputError) as error:
        raise InvalidInputError(f"bad {kind} table: {error}", path=path) from None


def _guess_kind(table: pa.Table) -> str:
    names = set(table.column_names)
    if {"query_id", "doc_id", "score"} <= names:
        return "run"
    if {"query_id", "doc_id", "relevance"} <= names:
        return "qrels"
    if {"id", "text", "title"} <= names:
        return "corpus"
    return "queries" if {"id", "text"} <= names else ""
