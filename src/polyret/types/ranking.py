"""Query → document → value tables: :class:`Run` (scores) and :class:`Qrels` (relevance).

Both are stored as one ragged (CSR) table: unique query ids, an ``offsets`` array, and
flat ``doc_ids`` / ``values`` arrays, so a run of 10k queries × 1,000 documents is three
NumPy arrays, not 10k dicts. Outside they are read-only ``Mapping[str, dict[str, value]]``
and every API that takes one also takes plain dict-of-dicts.

A Run keeps each query's documents in rank order: score descending, ties broken by
document id descending, which is exactly trec_eval's order; ranks are derived, never stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from polyret.errors import InvalidInputError


class _Ragged(Mapping[str, dict[str, Any]]):
    """Ragged query → (doc id, value) arrays behind a dict-of-dicts interface."""

    value_dtype: np.dtype = np.dtype(np.float64)

    def __init__(
        self,
        query_ids: np.ndarray,
        offsets: np.ndarray,
        doc_ids: np.ndarray,
        values: np.ndarray,
    ) -> None:
        """Wrap arrays already in canonical order; use the ``from_*`` constructors instead."""
        self._query_ids = query_ids
        self._offsets = offsets
        self._doc_ids = doc_ids
        self._values = values
        self._row_of: dict[str, int] | None = None

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        query_ids: Sequence[str] | np.ndarray,
        doc_ids: Sequence[str] | np.ndarray,
        values: Sequence[float] | np.ndarray,
        *,
        source: str | None = None,
    ) -> Self:
        """Build from three parallel flat arrays (one row per query-document pair).

        Raises:
            InvalidInputError: on a repeated (query, document) pair or an empty id.
        """
        q = np.asarray(query_ids, dtype=object)
        d = np.asarray(doc_ids, dtype=object)
        v = np.asarray(values, dtype=cls.value_dtype)
        if not (len(q) == len(d) == len(v)):
            raise InvalidInputError("query_ids, doc_ids and values differ in length", path=source)
        q_codes, unique_q = _codes_in_first_seen_order(q)
        d_codes, unique_d = _codes_in_first_seen_order(d)
        cls._check_pairs(unique_q, q_codes, unique_d, d_codes, source)
        order = cls._canonical_order(q_codes, d_codes, unique_d, v)
        q_codes, d, v = q_codes[order], unique_d[d_codes[order]], v[order]
        counts = np.bincount(q_codes, minlength=len(unique_q))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(unique_q, offsets, d, v)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Mapping[str, Any]]) -> Self:
        """Build from ``{query_id: {doc_id: value}}`` (returns ``mapping`` itself if typed)."""
        if isinstance(mapping, cls):
            return mapping
        q: list[str] = []
        d: list[str] = []
        v: list[Any] = []
        for query_id, docs in mapping.items():
            q.extend([query_id] * len(docs))
            d.extend(docs.keys())
            v.extend(docs.values())
        return cls.from_arrays(q, d, v)

    @classmethod
    def _canonical_order(
        cls, q_codes: np.ndarray, d_codes: np.ndarray, unique_d: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        """Permutation into canonical order: by query, then document id ascending."""
        return np.lexsort((_dictionary_ranks(unique_d)[d_codes], q_codes))

    @staticmethod
    def _check_pairs(
        unique_q: np.ndarray,
        q_codes: np.ndarray,
        unique_d: np.ndarray,
        d_codes: np.ndarray,
        source: str | None,
    ) -> None:
        if (unique_q == "").any():
            raise InvalidInputError("empty query id", path=source, field="query_id")
        if (unique_d == "").any():
            raise InvalidInputError("empty document id", path=source, field="doc_id")
        keys = q_codes * len(unique_d) + d_codes
        sorted_keys = np.sort(keys)
        repeated = sorted_keys[1:][sorted_keys[1:] == sorted_keys[:-1]]
        if len(repeated):
            row = int(np.flatnonzero(keys == repeated[0])[0])
            raise InvalidInputError(
                f"document {unique_d[d_codes[row]]!r} appears twice for query "
                f"{unique_q[q_codes[row]]!r}",
                path=source,
                field="doc_id",
            )

    # mapping protocol ------------------------------------------------------------------------
    def __getitem__(self, query_id: str) -> dict[str, Any]:
        start, end = self._span(query_id)
        return dict(
            zip(self._doc_ids[start:end].tolist(), self._values[start:end].tolist(), strict=True)
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._query_ids.tolist())

    def __len__(self) -> int:
        return len(self._query_ids)

    def __contains__(self, query_id: object) -> bool:
        return query_id in self._index()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Ragged):
            return type(self) is type(other) and self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            return self.to_dict() == {k: dict(v) for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} queries, {self.num_entries} entries)"

    def _index(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {q: n for n, q in enumerate(self._query_ids.tolist())}
        return self._row_of

    def _span(self, query_id: str) -> tuple[int, int]:
        row = self._index()[query_id]
        return int(self._offsets[row]), int(self._offsets[row + 1])

    # arrays ----------------------------------------------------------------------------------
    @property
    def query_ids(self) -> np.ndarray:
        """Unique query ids (object array) in order of first appearance."""
        return self._query_ids

    @property
    def num_entries(self) -> int:
        """Number of (query, document) pairs."""
        return len(self._doc_ids)

    def counts(self) -> np.ndarray:
        """Number of documents per query, aligned with :attr:`query_ids`."""
        return np.diff(self._offsets)

    def to_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat ``(query_ids, doc_ids, values)``, one row per pair, in canonical order."""
        return np.repeat(self._query_ids, self.counts()), self._doc_ids, self._values

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain ``{query_id: {doc_id: value}}``."""
        return {q: self[q] for q in self}

    def to_arrow(self) -> pa.Table:
        """Arrow table with columns ``query_id``, ``doc_id`` and the value column."""
        q, d, v = self.to_arrays()
        return pa.table(
            {
                "query_id": pa.array(q, pa.string()),
                "doc_id": pa.array(d, pa.string()),
                self.value_name: pa.array(v),
            }
        )

    value_name = "value"

    def select(self, query_ids: Iterable[str]) -> Self:
        """Only the given queries (those absent are skipped), in the given order."""
        index = self._index()
        rows = [index[q] for q in query_ids if q in index]
        spans = [np.arange(self._offsets[r], self._offsets[r + 1]) for r in rows]
        take = np.concatenate(spans) if spans else np.zeros(0, dtype=np.int64)
        counts = np.diff(self._offsets)[rows] if rows else np.zeros(0, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return type(self)(
            self._query_ids[rows] if rows else np.zeros(0, dtype=object),
            offsets,
            self._doc_ids[take],
            self._values[take],
        )


class Run(_Ragged):
    """Ranked lists: query id → document id → score.

    Example:
        >>> run = Run.from_dict({"q1": {"d1": 0.5, "d2": 2.0, "d3": 2.0}})
        >>> list(run["q1"])  # score descending, ties by doc id descending (trec_eval)
        ['d3', 'd2', 'd1']
        >>> ids, scores = run.topk(2)
        >>> ids.tolist(), scores.tolist()
        ([['d3', 'd2']], [[2.0, 2.0]])
    """

    value_name = "score"

    @classmethod
    def _canonical_order(
        cls, q_codes: np.ndarray, d_codes: np.ndarray, unique_d: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        """Permutation into rank order: by query, score descending, doc id descending.

        Runs usually arrive grouped by query and sorted by score (TREC files, retrievers):
        that is checked in O(n) and not sorted again, and document ids, the costly key,
        are compared only among tied scores.
        """
        if np.isnan(values).any():
            raise InvalidInputError("a score is NaN", field="score")
        same_query = q_codes[1:] == q_codes[:-1]
        grouped = (q_codes[1:] >= q_codes[:-1]).all() and (
            values[1:][same_query] <= values[:-1][same_query]
        ).all()
        order = np.arange(len(values)) if grouped else np.lexsort((-values, q_codes))
        q, v = q_codes[order], values[order]
        tied = (q[1:] == q[:-1]) & (v[1:] == v[:-1])
        if not tied.any():
            return order
        in_tie = np.zeros(len(order), dtype=bool)
        in_tie[1:] |= tied
        in_tie[:-1] |= tied
        positions = np.flatnonzero(in_tie)
        group = np.cumsum(np.concatenate([[True], ~tied]))[positions]
        ranks = _dictionary_ranks(unique_d)[d_codes[order[positions]]]
        order[positions] = order[positions][np.lexsort((-ranks, group))]
        return order

    @classmethod
    def from_topk(
        cls,
        query_ids: Sequence[str] | np.ndarray,
        indices: np.ndarray,
        scores: np.ndarray,
        doc_ids: Sequence[str] | np.ndarray,
    ) -> Self:
        """Build from top-k arrays as BM25 or FAISS return them, with no per-document loop.

        Args:
            query_ids: One id per row of ``indices``.
            indices: ``[num_queries, k]`` row numbers into ``doc_ids``; negative entries
                (FAISS's "no result") are dropped.
            scores: ``[num_queries, k]`` scores aligned with ``indices``.
            doc_ids: The document ids that ``indices`` point into.
        """
        indices = np.asarray(indices)
        scores = np.asarray(scores, dtype=np.float64)
        if indices.shape != scores.shape or indices.ndim != 2 or indices.shape[0] != len(query_ids):
            raise InvalidInputError(
                f"indices {indices.shape} and scores {scores.shape} must both be "
                f"[{len(query_ids)}, k]"
            )
        query_ids = np.asarray(query_ids, dtype=object)
        doc_ids = np.asarray(doc_ids, dtype=object)
        valid = indices >= 0
        if np.isnan(scores[valid]).any():
            raise InvalidInputError("a score is NaN", field="score")
        if len(set(query_ids.tolist())) != len(query_ids) or _has_repeats(indices, valid):
            rows = np.repeat(np.arange(indices.shape[0]), valid.sum(axis=1))
            return cls.from_arrays(query_ids[rows], doc_ids[indices[valid]], scores[valid])
        # Fast path: rows are queries, so only the order inside each row needs work, and
        # document ids (strings) are compared only in the rare rows with tied scores.
        tie_break = np.zeros(indices.shape, dtype=np.int64)
        ranked = np.sort(np.where(valid, scores, np.nan), axis=1)
        tied_rows = (ranked[:, 1:] == ranked[:, :-1]).any(axis=1)
        if tied_rows.any():
            tied = doc_ids[np.where(valid[tied_rows], indices[tied_rows], 0)]
            tie_break[tied_rows] = -_string_ranks(tied.ravel()).reshape(tied.shape)
        order = np.lexsort((tie_break, -scores, ~valid), axis=1)
        indices = np.take_along_axis(indices, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        valid = np.take_along_axis(valid, order, axis=1)  # valid entries now lead every row
        counts = valid.sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(counts[counts > 0])]).astype(np.int64)
        return cls(query_ids[counts > 0], offsets, doc_ids[indices[valid]], scores[valid])

    def ranks(self) -> np.ndarray:
        """1-based rank of every entry, aligned with :meth:`to_arrays`."""
        counts = self.counts()
        return np.arange(self.num_entries) - np.repeat(self._offsets[:-1], counts) + 1

    def scores(self, query_id: str) -> tuple[np.ndarray, np.ndarray]:
        """``(doc_ids, scores)`` of one query in rank order."""
        start, end = self._span(query_id)
        return self._doc_ids[start:end], self._values[start:end]

    def topk(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``[num_queries, k]`` doc ids (``None`` padded) and scores (``-inf`` padded)."""
        counts = np.minimum(self.counts(), k)
        ids = np.full((len(self), k), None, dtype=object)
        scores = np.full((len(self), k), -np.inf)
        rows = np.repeat(np.arange(len(self)), counts)
        cols = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        flat = np.repeat(self._offsets[:-1], counts) + cols
        ids[rows, cols] = self._doc_ids[flat]
        scores[rows, cols] = self._values[flat]
        return ids, scores

    def truncate(self, k: int) -> Run:
        """The top ``k`` documents of every query."""
        counts = np.minimum(self.counts(), k)
        keep = np.repeat(self._offsets[:-1], counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return Run(self._query_ids, offsets, self._doc_ids[keep], self._values[keep])


class Qrels(_Ragged):
    """Relevance judgments: query id → document id → graded relevance (int).

    Example:
        >>> qrels = Qrels.from_dict({"q1": {"d1": 2, "d2": 0}})
        >>> qrels["q1"], qrels.num_relevant("q1")
        ({'d1': 2, 'd2': 0}, 1)
    """

    value_dtype = np.dtype(np.int64)
    value_name = "relevance"

    def num_relevant(self, query_id: str, level: int = 1) -> int:
        """Number of documents judged at least ``level`` for ``query_id``."""
        start, end = self._span(query_id)
        return int((self._values[start:end] >= level).sum())


def _codes_in_first_seen_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``values`` numbered by first appearance, and the unique values."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    encoded = pa.array(values, pa.string()).dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    unique = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    return codes, unique


def _has_repeats(indices: np.ndarray, valid: np.ndarray) -> bool:
    """Whether a row of ``indices`` names one document twice."""
    ordered = np.sort(np.where(valid, indices, -1), axis=1)
    return bool(((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any())


def _dictionary_ranks(unique: np.ndarray) -> np.ndarray:
    """Lexicographic rank (byte-wise UTF-8, like C's strcmp) of each distinct string."""
    if len(unique) == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = pc.rank(pa.array(unique, pa.string()), sort_keys="ascending", tiebreaker="dense")
    return ranks.to_numpy(zero_copy_only=False).astype(np.int64)


def _string_ranks(values: np.ndarray) -> np.ndarray:
    """Lexicographic rank of each string (equal strings share a rank)."""
    codes, unique = _codes_in_first_seen_order(values)
    return _dictionary_ranks(unique)[codes]
