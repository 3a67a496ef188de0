"""Training data: :class:`TrainingSet`, one (query, positive, negatives) example per row.

Generators (``polyret.curate``) write it, filters drop rows from it, miners
(``polyret.mine``) fill its negatives and trainers (``polyret.train``) read it. Like
:class:`~polyret.types.Corpus` it wraps one immutable Arrow table; its provenance (inputs'
hashes, models, prompts, seeds) and the *funnel* (rows kept and dropped by each step) travel
with it and are saved next to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta, write_meta
from polyret.io.atomic import atomic_directory, atomic_write
from polyret.io.jsonl import iter_json_lines
from polyret.types.collection import (
    UNKNOWN_LANG,
    Queries,
    RecordTable,
    duplicated_values,
)
from polyret.types.ranking import Qrels

FORMAT = 1
EXAMPLES_FILE = "examples.parquet"

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("query", pa.string()),
        ("lang", pa.string()),
        ("positive_id", pa.string()),
        ("positive", pa.string()),
        ("positive_lang", pa.string()),
        ("source_id", pa.string()),
        ("method", pa.string()),
        ("prompt_id", pa.string()),
        ("model", pa.string()),
        ("raw", pa.string()),
        ("meta", pa.string()),
        ("positive_score", pa.float32()),
        ("negative_ids", pa.list_(pa.string())),
        ("negatives", pa.list_(pa.string())),
        ("negative_scores", pa.list_(pa.float32())),
        ("negative_ranks", pa.list_(pa.int32())),
    ]
)
"""Columns of a training set; ``id``, ``query`` and ``positive`` are required."""

_DEFAULTS: dict[str, Any] = {
    "lang": UNKNOWN_LANG,
    "positive_id": "",
    "positive_lang": UNKNOWN_LANG,
    "source_id": "",
    "method": "",
    "prompt_id": "",
    "model": "",
    "raw": "",
    "meta": "{}",
    "positive_score": None,
    "negative_ids": [],
    "negatives": [],
    "negative_scores": [],
    "negative_ranks": [],
}
_REQUIRED = ("id", "query", "positive")


@dataclass(frozen=True, slots=True)
class Example:
    """One row of a :class:`TrainingSet`.

    Attributes:
        id: Unique, deterministic example id.
        query: The (generated) query.
        lang: The query's language.
        positive_id: Corpus id of the positive (``""`` when the positive is not a corpus
            document, e.g. an ICT context).
        positive: Positive text.
        positive_lang: The positive's language (differs from ``lang`` when cross-lingual).
        source_id: The document the query was made from (Gecko may relabel the positive
            to another document).
        method: Generation method (``"swim-ir"``, ``"ict"``, ...).
        prompt_id: Prompt template id (``""`` for no-LLM methods).
        model: Model that generated the query (``""`` for no-LLM methods).
        raw: The raw LLM answer(s), kept so malformed answers can be inspected.
        meta: Method-specific extras as a JSON object string (task description, ...).
        positive_score: Score of the positive by the mining retriever, if mined.
        negative_ids: Hard-negative document ids, best-ranked first.
        negatives: Their texts.
        negative_scores: Their retriever scores.
        negative_ranks: Their 1-based ranks in the mining run.
    """

    id: str
    query: str
    lang: str = UNKNOWN_LANG
    positive_id: str = ""
    positive: str = ""
    positive_lang: str = UNKNOWN_LANG
    source_id: str = ""
    method: str = ""
    prompt_id: str = ""
    model: str = ""
    raw: str = ""
    meta: str = "{}"
    positive_score: float | None = None
    negative_ids: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    negative_scores: list[float] = field(default_factory=list)
    negative_ranks: list[int] = field(default_factory=list)


class TrainingSet(RecordTable[Example]):
    """Training examples in one immutable Arrow table, plus provenance and funnel.

    Args:
        table: A table with at least ``id``, ``query`` and ``positive``; missing optional
            columns get their defaults (see :data:`SCHEMA`).
        provenance: What made the set (inputs' hashes, methods, models, prompts, seeds).
        funnel: One entry per step that produced or filtered it (see :meth:`with_step`).

    Example:
        >>> ts = TrainingSet.from_records([
        ...     {"id": "e1", "query": "Wo fließt der Rhein?", "lang": "de",
        ...      "positive_id": "d1", "positive": "Der Rhein fließt nach Norden."},
        ... ])
        >>> len(ts), ts["e1"].positive_id, ts.num_negatives
        (1, 'd1', 0)
    """

    record_type = Example
    columns = tuple(SCHEMA.names)

    def __init__(
        self,
        table: pa.Table,
        *,
        provenance: Mapping[str, Any] | None = None,
        funnel: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self._table = _validated(table)
        self.provenance: dict[str, Any] = dict(provenance or {})
        self.funnel: list[dict[str, Any]] = [dict(step) for step in funnel]
        self._row_of: dict[str, int] | None = None

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_records(
        cls, records: Iterable[Example | Mapping[str, Any]], **kwargs: Any
    ) -> TrainingSet:
        """Build from :class:`Example` objects or dicts with the column names."""
        columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
        for record in records:
            row = record if isinstance(record, Mapping) else _as_mapping(record)
            for name in SCHEMA.names:
                value = row.get(name)
                if value is None and name not in _REQUIRED:
                    value = _DEFAULTS[name]
                if name == "meta" and not isinstance(value, str):
                    value = json.dumps(value, ensure_ascii=False, sort_keys=True)
                columns[name].append(value)
        table = pa.table({n: pa.array(v, SCHEMA.field(n).type) for n, v in columns.items()})
        return cls(table, **kwargs)

    @classmethod
    def empty(cls, **kwargs: Any) -> TrainingSet:
        """A training set with no rows."""
        return cls(SCHEMA.empty_table(), **kwargs)

    @classmethod
    def concat(cls, sets: Sequence[TrainingSet], **kwargs: Any) -> TrainingSet:
        """Rows of several sets in order (ids must stay unique).

        Without ``provenance``/``funnel`` keywords the parts' provenances are listed under
        ``"parts"`` and their funnels are joined, so a mixed set still reports each method.
        """
        if not sets:
            return cls.empty(**kwargs)
        if not kwargs:
            kwargs = {
                "provenance": {"parts": [s.provenance for s in sets]},
                "funnel": [step for s in sets for step in s.funnel],
            }
        return cls(pa.concat_tables([s.table for s in sets]), **kwargs)

    # access ---------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrainingSet) and self._table.equals(other._table)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        langs = ", ".join(f"{k}: {v}" for k, v in sorted(self.languages().items()))
        return f"TrainingSet({len(self)} examples; {langs})"

    def column(self, name: str) -> list[Any]:
        """One column as a Python list."""
        return self._table.column(name).to_pylist()

    @property
    def ids(self) -> list[str]:
        """Example ids in table order."""
        return self.column("id")

    @property
    def num_negatives(self) -> int:
        """Smallest number of negatives of any row (0 for an empty set)."""
        if not len(self):
            return 0
        return int(pc.min(pc.list_value_length(self._table.column("negative_ids"))).as_py())

    def counts(self, by: Sequence[str] = ("lang", "method")) -> dict[tuple[str, ...], int]:
        """Number of examples per combination of the ``by`` columns."""
        keys = zip(*(self.column(name) for name in by), strict=True)
        out: dict[tuple[str, ...], int] = {}
        for key in keys:
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))

    # derived views --------------------------------------------------------------------------
    def queries(self) -> Queries:
        """The queries, with the example ids as query ids."""
        return Queries(
            pa.table(
                {
                    "id": self._table.column("id"),
                    "text": self._table.column("query"),
                    "lang": self._table.column("lang"),
                }
            )
        )

    def qrels(self) -> Qrels:
        """Example id → its positive's corpus id (rows whose positive is not a document are
        left out)."""
        has_doc = pc.greater(pc.utf8_length(self._table.column("positive_id")), 0)
        kept = self._table.filter(has_doc)
        ids = kept.column("id").to_numpy(zero_copy_only=False)
        docs = kept.column("positive_id").to_numpy(zero_copy_only=False)
        return Qrels.from_arrays(ids, docs, np.ones(len(ids), dtype=np.int32))

    def to_sentence_transformers(self, num_negatives: int | None = None) -> pa.Table:
        """Columns ``anchor``, ``positive``, ``negative_1`` … ``negative_n`` (the layout of
        sentence-transformers' ``mine_hard_negatives(output_format="n-tuple")``).

        Args:
            num_negatives: Negatives per row (default: :attr:`num_negatives`, the fewest any
                row has, so every row is complete).

        Raises:
            InvalidInputError: a row has fewer than ``num_negatives`` negatives.
        """
        n = self.num_negatives if num_negatives is None else num_negatives
        if n > self.num_negatives:
            raise InvalidInputError(
                f"asked for {n} negatives per row but some rows have {self.num_negatives}",
                field="num_negatives",
            )
        columns: dict[str, Any] = {
            "anchor": self._table.column("query"),
            "positive": self._table.column("positive"),
        }
        negatives = self._table.column("negatives").combine_chunks()
        for i in range(n):
            columns[f"negative_{i + 1}"] = pc.list_element(negatives, i)
        return pa.table(columns)

    # selection ------------------------------------------------------------------------------
    def filter(
        self, mask: Sequence[bool] | np.ndarray, step: Mapping[str, Any] | None = None
    ) -> Self:
        """Rows where ``mask`` holds, keeping provenance (and recording ``step`` if given)."""
        mask = np.asarray(mask, dtype=bool)
        if len(mask) != len(self):
            raise InvalidInputError(f"mask of {len(mask)} rows for {len(self)} examples")
        out = self._derive(self._table.filter(pa.array(mask)))
        return out.with_step(step) if step else out

    def take(self, rows: Iterable[int] | np.ndarray) -> Self:
        """Rows at the given positions, in that order."""
        indices = np.asarray(rows if isinstance(rows, np.ndarray) else list(rows), dtype=np.int64)
        return self._derive(self._table.take(pa.array(indices)))

    def with_columns(self, **columns: Sequence[Any] | pa.Array) -> Self:
        """A copy with some columns replaced (same number of rows)."""
        table = self._table
        for name, values in columns.items():
            if name not in SCHEMA.names:
                raise InvalidInputError(f"unknown training-set column {name!r}", field=name)
            array = values if isinstance(values, pa.Array) else pa.array(values)
            table = table.set_column(
                SCHEMA.names.index(name), name, array.cast(SCHEMA.field(name).type)
            )
        return self._derive(table)

    def with_step(self, step: Mapping[str, Any]) -> Self:
        """A copy whose funnel ends with ``step`` (``{"step": name, "kept": n, ...}``)."""
        out = self._derive(self._table)
        out.funnel.append(dict(step))
        return out

    def _derive(self, table: pa.Table) -> Self:
        out = object.__new__(type(self))
        out._table = table
        out.provenance = dict(self.provenance)
        out.funnel = [dict(step) for step in self.funnel]
        out._row_of = None
        return out

    # persistence ----------------------------------------------------------------------------
    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``examples.parquet`` and ``polyret.json`` (provenance, funnel) atomically."""
        with atomic_directory(folder, overwrite=overwrite) as tmp:
            pq.write_table(self._table, tmp / EXAMPLES_FILE, compression="zstd")
            write_meta(
                tmp,
                "training-set",
                FORMAT,
                rows=len(self),
                languages=dict(sorted(self.languages().items())),
                provenance=self.provenance,
                funnel=self.funnel,
            )
        return Path(folder)

    @classmethod
    def load(cls, path: str | Path) -> TrainingSet:
        """Read a folder written by :meth:`save`, or a ``.parquet``/``.jsonl`` file of rows.

        Raises:
            InvalidInputError: naming the file, line and field of a bad record.
        """
        path = Path(path)
        if path.is_dir():
            meta = read_meta(path, "training-set", FORMAT)
            table = _read_parquet(path / EXAMPLES_FILE)
            return cls(table, provenance=meta.get("provenance"), funnel=meta.get("funnel", ()))
        if path.suffix == ".parquet":
            return cls(_read_parquet(path))
        return cls.from_records(_jsonl_rows(path))

    def to_jsonl(self, path: str | Path) -> None:
        """Write one JSON object per example, atomically."""
        with atomic_write(path) as handle:
            for example in self:
                row = _as_mapping(example)
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _as_mapping(example: Example) -> dict[str, Any]:
    return {name: getattr(example, name) for name in SCHEMA.names}


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise InvalidInputError(f"not a readable Parquet file: {error}", path=path) from None


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    for number, row in iter_json_lines(path):
        for name in _REQUIRED:
            if not isinstance(row.get(name), str) or not row[name]:
                raise InvalidInputError(
                    f"missing or empty {name!r}", path=path, line=number, field=name
                )
        yield row


def _validated(table: pa.Table) -> pa.Table:
    missing = [name for name in _REQUIRED if name not in table.column_names]
    if missing:
        raise InvalidInputError(f"training-set table lacks column(s) {missing}", field=missing[0])
    rows = table.num_rows
    arrays = []
    for column in SCHEMA:
        if column.name in table.column_names:
            array = table.column(column.name)
            try:
                array = array.cast(column.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                raise InvalidInputError(f"bad type: {error}", field=column.name) from None
            default = _DEFAULTS.get(column.name)
            if array.null_count and default is not None:
                array = pc.fill_null(array, pa.scalar(default, column.type))
        else:
            array = pa.array([_DEFAULTS[column.name]] * rows, column.type)
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, schema=SCHEMA).combine_chunks()
    for name in _REQUIRED:
        column = table.column(name)
        empty = pc.fill_null(pc.equal(pc.utf8_length(column), 0), True)
        if pc.any(empty).as_py():
            row = int(np.flatnonzero(empty.to_numpy(zero_copy_only=False))[0])
            raise InvalidInputError(f"example at row {row} has no {name}", field=name)
    ids = table.column("id")
    if len(pc.unique(ids)) != len(ids):
        raise InvalidInputError(
            f"training set has duplicate id {duplicated_values(ids)[0]!r}", field="id"
        )
    return table
