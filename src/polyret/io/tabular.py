"""Whitespace- or tab-separated files (TREC runs and qrels, BEIR qrels, MIRACL topics).

Same two-path design as :mod:`polyret.io.jsonl`: Arrow's CSV reader for well-formed files,
a line-by-line reader that names the first bad line for everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from polyret.errors import InvalidInputError
from polyret.io.lines import iter_lines

log = logging.getLogger(__name__)


def read_columns(
    path: str | Path,
    names: tuple[str, ...],
    types: dict[str, pa.DataType],
    *,
    delimiter: str | None,
    skip_header: Callable[[list[str]], bool] | None = None,
    max_split: int = -1,
) -> pa.Table:
    """Read a delimited file with exactly ``len(names)`` columns into typed Arrow columns.

    Args:
        path: The file (``.gz`` allowed).
        names: Column names, in file order.
        types: Arrow type per column (string columns may be omitted).
        delimiter: One character (tab), or ``None`` for runs of whitespace (TREC files).
        skip_header: Called on the first line's fields; True skips that line.
        max_split: Split at most this many times (the last column keeps the rest, e.g. a
            query text with spaces); -1 for no limit.

    Raises:
        InvalidInputError: with the file, line and column of the first bad line.
    """
    path = Path(path)
    head = first_line(path)
    first = None if head is None else head.split(delimiter, max_split)
    header = bool(skip_header and first is not None and skip_header(first))
    if head is not None and max_split < 0:
        fast_delimiter = delimiter or ("\t" if "\t" in head else " ")
        try:
            table = _fast_read(path, names, types, fast_delimiter, header)
            if not _has_empty_strings(table):
                return table
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            log.debug("fast path refused %s (%s); reading line by line", path, error)
    return _careful_read(path, names, types, delimiter, header, max_split)


def _has_empty_strings(table: pa.Table) -> bool:
    return any(
        pc.any(pc.equal(pc.utf8_length(column), 0)).as_py()
        for column in table.columns
        if pa.types.is_string(column.type)
    )


def _fast_read(
    path: Path, names: tuple[str, ...], types: dict[str, pa.DataType], delimiter: str, header: bool
) -> pa.Table:
    read_options = pa_csv.ReadOptions(column_names=list(names), skip_rows=int(header))
    parse_options = pa_csv.ParseOptions(
        delimiter=delimiter, quote_char=False, newlines_in_values=False
    )
    convert = pa_csv.ConvertOptions(
        column_types={n: types.get(n, pa.string()) for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    table = pa_csv.read_csv(str(path), read_options, parse_options, convert)
    if table.num_rows == 0:
        raise pa.ArrowInvalid("no rows")
    return table


def first_line(path: Path) -> str | None:
    """The first non-blank line of ``path``, or ``None`` for an empty file."""
    return next((line for _, line in iter_lines(path)), None)


def _careful_read(
    path: Path,
    names: tuple[str, ...],
    types: dict[str, pa.DataType],
    delimiter: str | None,
    header: bool,
    max_split: int,
) -> pa.Table:
    columns: list[list] = [[] for _ in names]
    parsers = [_parser(types.get(n, pa.string())) for n in names]
    seen_header = not header
    for line_no, line in iter_lines(path):
        if not seen_header:
            seen_header = True
            continue
        fields = line.split(delimiter, max_split)
        if len(fields) != len(names):
            raise InvalidInputError(
                f"expected {len(names)} columns ({' '.join(names)}), found {len(fields)}",
                path=path,
                line=line_no,
            )
        for column, name, parse, value in zip(columns, names, parsers, fields, strict=True):
            if not value.strip():
                raise InvalidInputError("empty value", path=path, line=line_no, field=name)
            try:
                column.append(parse(value))
            except ValueError:
                raise InvalidInputError(
                    f"cannot parse {value!r:.40} as {types[name]}",
                    path=path,
                    line=line_no,
                    field=name,
                ) from None
    if not columns[0]:
        raise InvalidInputError("no records (the file is empty)", path=path)
    return pa.table(
        {n: pa.array(c, types.get(n, pa.string())) for n, c in zip(names, columns, strict=True)}
    )


def _parser(data_type: pa.DataType) -> Callable[[str], object]:
    if pa.types.is_integer(data_type):
        return int
    if pa.types.is_floating(data_type):
        return float
    return str
