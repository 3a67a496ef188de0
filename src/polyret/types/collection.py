"""Text collections: :class:`Corpus` (documents) and :class:`Queries`.

Both wrap one immutable Arrow table (columns ``id``, ``text``, ``lang`` and, for documents,
``title``) so a million documents stay a million rows, not a million Python objects. Outside
they behave like a read-only mapping from id to a small frozen record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from polyret.errors import InvalidInputError

UNKNOWN_LANG = "und"
"""BCP-47 code for an undetermined language, used when a record carries none."""


@dataclass(frozen=True, slots=True)
class Document:
    """One document of a :class:`Corpus`."""

    id: str
    text: str
    title: str = ""
    lang: str = UNKNOWN_LANG


@dataclass(frozen=True, slots=True)
class Query:
    """One query of a :class:`Queries` collection."""

    id: str
    text: str
    lang: str = UNKNOWN_LANG


R = TypeVar("R", Document, Query)


T = TypeVar("T")


class RecordTable(Generic[T]):
    """An immutable Arrow table read as a mapping from ``id`` to frozen records.

    The base of :class:`Corpus`, :class:`Queries` and :class:`~polyret.types.TrainingSet`:
    subclasses name the record class and its columns and set ``_table`` and ``_row_of``
    (the lazy id index, ``None`` until first needed).
    """

    record_type: ClassVar[type]
    columns: ClassVar[tuple[str, ...]]
    _table: pa.Table
    _row_of: dict[str, int] | None

    @property
    def table(self) -> pa.Table:
        """The underlying immutable Arrow table."""
        return self._table

    def __len__(self) -> int:
        return self._table.num_rows

    def __iter__(self) -> Iterator[T]:
        for values in table_rows(self._table, self.columns):
            yield self.record_type(*values)

    def __getitem__(self, id: str) -> T:
        row = self.row_of(id)
        return self.record_type(*(self._table.column(n)[row].as_py() for n in self.columns))

    def __contains__(self, id: object) -> bool:
        return id in self._index()

    def row_of(self, id: str) -> int:
        """Row number of ``id``; raises KeyError when absent."""
        return self._index()[id]

    def _index(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {i: n for n, i in enumerate(self._table.column("id").to_pylist())}
        return self._row_of

    def languages(self) -> dict[str, int]:
        """Number of records per (query) language."""
        counts = pc.value_counts(self._table.column("lang")).to_pylist()
        return {c["values"]: c["counts"] for c in counts}


class _Collection(RecordTable[R]):
    """Shared machinery of Corpus and Queries: a validated Arrow table plus a lazy id index."""

    def __init__(self, table: pa.Table) -> None:
        self._table = _validated(table, self.columns, type(self).__name__)
        self._row_of: dict[str, int] | None = None

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable[R | Mapping[str, Any]]) -> Self:
        """Build from records (dataclass instances or dicts with the column names)."""
        columns: dict[str, list[str | None]] = {name: [] for name in cls.columns}
        for record in records:
            row = record if isinstance(record, Mapping) else _as_mapping(record)
            for name in cls.columns:
                value = row.get(name)
                if value is None and name in ("lang", "title"):
                    value = UNKNOWN_LANG if name == "lang" else ""
                columns[name].append(value)
        return cls(pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()}))

    @classmethod
    def from_dict(cls, texts: Mapping[str, str], lang: str = UNKNOWN_LANG) -> Self:
        """Build from ``{id: text}`` with one language for all."""
        return cls.from_records({"id": i, "text": t, "lang": lang} for i, t in texts.items())

    # mapping protocol ------------------------------------------------------------------------
    def __repr__(self) -> str:
        langs = ", ".join(f"{k}: {v}" for k, v in sorted(self.languages().items()))
        return f"{type(self).__name__}({len(self)} records; {langs})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._table.equals(other._table)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return id(self)

    def fingerprint(self) -> str:
        """sha256 of every record's fields (stable across Arrow versions and chunking)."""
        digest = hashlib.sha256()
        for values in table_rows(self._table, self.columns):
            digest.update(("\x1f".join(values) + "\x1e").encode("utf-8"))
        return digest.hexdigest()

    # columns ---------------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """Record ids in table order."""
        return self._table.column("id").to_pylist()

    @property
    def texts(self) -> list[str]:
        """Record texts in table order."""
        return self._table.column("text").to_pylist()

    @property
    def langs(self) -> list[str]:
        """Record languages in table order."""
        return self._table.column("lang").to_pylist()

    # selection -------------------------------------------------------------------------------
    def filter(
        self, *, lang: str | Iterable[str] | None = None, ids: Iterable[str] | None = None
    ) -> Self:
        """Records in ``lang`` (one code or several) and/or with an id in ``ids``."""
        mask = pa.array(np.ones(len(self), dtype=bool))
        if lang is not None:
            wanted = [lang] if isinstance(lang, str) else list(lang)
            mask = pc.and_(
                mask, pc.is_in(self._table.column("lang"), pa.array(wanted, pa.string()))
            )
        if ids is not None:
            wanted_ids = pa.array(list(ids), pa.string())
            mask = pc.and_(mask, pc.is_in(self._table.column("id"), wanted_ids))
        return type(self)(self._table.filter(mask))

    def batches(self, size: int) -> Iterator[Self]:
        """Consecutive slices of at most ``size`` records (zero-copy views of the table)."""
        for start in range(0, len(self), size):
            part = object.__new__(type(self))
            part._table = self._table.slice(start, size)  # already validated as a whole
            part._row_of = None
            yield part

    def take(self, rows: Iterable[int] | np.ndarray) -> Self:
        """Records at the given row numbers, in that order."""
        indices = np.asarray(rows if isinstance(rows, np.ndarray) else list(rows), dtype=np.int64)
        return type(self)(self._table.take(pa.array(indices)))

    def with_langs(self, langs: Iterable[str]) -> Self:
        """A copy whose ``lang`` column is replaced (e.g. by detected languages)."""
        table = self._table.set_column(
            self.columns.index("lang"), "lang", pa.array(list(langs), pa.string())
        )
        return type(self)(table)


class Corpus(_Collection[Document]):
    """Documents with ``id``, ``text``, ``title`` and ``lang``.

    Example:
        >>> corpus = Corpus.from_records([
        ...     {"id": "d1", "text": "Der Rhein fließt nach Norden.", "lang": "de"},
        ...     {"id": "d2", "text": "长江是中国最长的河流。", "lang": "zh"},
        ... ])
        >>> corpus["d2"].lang, len(corpus), len(corpus.filter(lang="de"))
        ('zh', 2, 1)
    """

    record_type = Document
    columns = ("id", "text", "title", "lang")

    def full_texts(self, separator: str = " ") -> list[str]:
        """``title + separator + text`` per document (just the text when the title is empty)."""
        joined = pc.binary_join_element_wise(
            self._table.column("title"), self._table.column("text"), separator
        )
        empty_title = pc.equal(pc.utf8_length(self._table.column("title")), 0)
        return pc.if_else(empty_title, self._table.column("text"), joined).to_pylist()


class Queries(_Collection[Query]):
    """Queries with ``id``, ``text`` and ``lang``.

    Example:
        >>> queries = Queries.from_dict({"q1": "¿Dónde nace el Ebro?"}, lang="es")
        >>> queries["q1"].text
        '¿Dónde nace el Ebro?'
    """

    record_type = Query
    columns = ("id", "text", "lang")


def _as_mapping(record: Document | Query) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


def _validated(table: pa.Table, columns: tuple[str, ...], kind: str) -> pa.Table:
    """Check ids (present, non-empty, unique) and text, and order/cast the columns."""
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInputError(f"{kind} table lacks column(s) {missing}", field=missing[0])
    table = table.select(list(columns)).cast(pa.schema([(c, pa.string()) for c in columns]))
    table = table.combine_chunks()
    for name in columns:
        nulls = table.column(name).null_count
        if nulls and name in ("id", "text"):
            row = int(
                np.flatnonzero(table.column(name).is_null().to_numpy(zero_copy_only=False))[0]
            )
            raise InvalidInputError(f"{kind} record at row {row} has no {name}", field=name)
        if nulls:
            fill = UNKNOWN_LANG if name == "lang" else ""
            table = table.set_column(
                columns.index(name), name, pc.fill_null(table.column(name), fill)
            )
    ids = table.column("id")
    empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(ids)), 0)
    if pc.any(empty).as_py():
        row = int(np.flatnonzero(empty.to_numpy(zero_copy_only=False))[0])
        raise InvalidInputError(f"{kind} record at row {row} has an empty id", field="id")
    if len(pc.unique(ids)) != len(ids):
        duplicate = duplicated_values(ids)[0]
        raise InvalidInputError(f"{kind} has duplicate id {duplicate!r}", field="id")
    return table


def table_rows(table: pa.Table, names: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """The values of columns ``names``, row by row (converted to Python a batch at a time)."""
    for batch in table.to_batches(max_chunksize=4096):
        columns = [batch.column(name).to_pylist() for name in names]
        yield from zip(*columns, strict=True)


def duplicated_values(values: pa.Array | pa.ChunkedArray) -> list[str]:
    """Values that occur more than once, in order of first occurrence."""
    counts = pc.value_counts(values).to_pylist()
    repeated = {c["values"] for c in counts if c["counts"] > 1}
    seen: list[str] = []
    for value in values.to_pylist():
        if value in repeated and value not in seen:
            seen.append(value)
    return seen
