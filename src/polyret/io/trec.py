"""TREC run files (``qid Q0 docid rank score tag``) and qrels (``qid 0 docid relevance``)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa

from polyret.errors import InvalidInputError
from polyret.io.atomic import atomic_write
from polyret.io.lines import iter_lines
from polyret.io.tabular import read_columns
from polyret.types import Qrels, Run

_RUN_COLUMNS = ("query_id", "q0", "doc_id", "rank", "score", "tag")
_QRELS_COLUMNS = ("query_id", "iteration", "doc_id", "relevance")

RankingT = TypeVar("RankingT", Run, Qrels)


def read_trec_run(path: str | Path) -> Run:
    """Read a TREC run file (whitespace separated, six columns).

    The file's rank column is ignored, as trec_eval does: order comes from the scores.

    Raises:
        InvalidInputError: naming the file and line of a malformed or repeated entry.
    """
    table = read_columns(
        path, _RUN_COLUMNS, {"rank": pa.int64(), "score": pa.float64()}, delimiter=None
    )
    return build_ranking(Run, path, table, "score")


def read_trec_qrels(path: str | Path) -> Qrels:
    """Read TREC qrels (``qid iteration docid relevance``, whitespace separated)."""
    table = read_columns(path, _QRELS_COLUMNS, {"relevance": pa.int64()}, delimiter=None)
    return build_ranking(Qrels, path, table, "relevance")


def write_trec_run(run: Run, path: str | Path, tag: str = "polyret") -> None:
    """Write ``run`` atomically as a TREC run file (ranks from 1, in rank order)."""
    run = Run.from_dict(run)
    query_ids, doc_ids, scores = run.to_arrays()
    counts = run.counts()
    ranks = np.arange(len(doc_ids)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    with atomic_write(path) as handle:
        for chunk in range(0, len(doc_ids), 100_000):
            part = slice(chunk, chunk + 100_000)
            handle.writelines(
                f"{q} Q0 {d} {r} {s!r} {tag}\n"
                for q, d, r, s in zip(
                    query_ids[part],
                    doc_ids[part],
                    ranks[part].tolist(),
                    scores[part].tolist(),
                    strict=True,
                )
            )


def write_trec_qrels(qrels: Qrels, path: str | Path) -> None:
    """Write ``qrels`` atomically in TREC format (``qid 0 docid relevance``)."""
    query_ids, doc_ids, relevance = Qrels.from_dict(qrels).to_arrays()
    with atomic_write(path) as handle:
        handle.writelines(
            f"{q} 0 {d} {r}\n"
            for q, d, r in zip(query_ids, doc_ids, relevance.tolist(), strict=True)
        )


def build_ranking(
    kind: type[RankingT],
    path: str | Path,
    table: pa.Table,
    value: str,
    pair_columns: tuple[int, int] = (0, 2),
) -> RankingT:
    """Turn a read table into ``kind``, locating the line of a repeated pair on error."""
    query_ids = table.column("query_id").to_numpy(zero_copy_only=False)
    doc_ids = table.column("doc_id").to_numpy(zero_copy_only=False)
    try:
        return kind.from_arrays(
            query_ids, doc_ids, table.column(value).to_numpy(), source=str(path)
        )
    except InvalidInputError as error:
        line = _line_of_repeat(path, error, pair_columns)
        if line is None:
            raise
        raise InvalidInputError(error.reason, path=path, line=line, field=error.field) from None


def _line_of_repeat(
    path: str | Path, error: InvalidInputError, pair_columns: tuple[int, int]
) -> int | None:
    """Line of the second occurrence of the pair a 'appears twice' error names, if any."""
    if "appears twice" not in error.reason:
        return None
    seen: set[tuple[str, str]] = set()
    for line_no, line in iter_lines(path):
        fields = line.split()
        if len(fields) <= max(pair_columns):
            continue
        pair = (fields[pair_columns[0]], fields[pair_columns[1]])
        if pair in seen:
            return line_no
        seen.add(pair)
    return None
