""":class:`CandidatePool`: a run's (example, document) pairs as flat arrays, and the rules.

Every rule of :class:`~polyret.mine.MiningConfig` is a vectorized mask over these arrays:
no Python loop runs over candidates (loops run once per example or per distinct text,
never per pair), so mining a run of millions of entries is a handful of NumPy calls.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from polyret.errors import InvalidInputError
from polyret.mine.texts import NgramSets, normalize_for_dedup
from polyret.types import Corpus, Run, TrainingSet

log = logging.getLogger(__name__)

_NO_ROW = -1


@dataclass
class CandidatePool:
    """Candidates of every example, flat and in (example row, rank) order.

    Attributes:
        row: Training-set row of each candidate.
        doc: Corpus row of each candidate.
        doc_id: Document id of each candidate.
        score: Its score in the run.
        rank: Its 1-based rank in the run.
        keep: Whether it is still a candidate (rules switch entries off).
        positive_doc: Per example, the corpus row of its positive (-1: not a document).
        positive_score: Per example, the positive's score in the run (NaN: not in it).
        in_run: Per example, whether the run has any document for it.
        removed: Candidates each rule switched off, in the order the rules ran.
    """

    row: np.ndarray
    doc: np.ndarray
    doc_id: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    keep: np.ndarray
    positive_doc: np.ndarray
    positive_score: np.ndarray
    in_run: np.ndarray
    removed: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.row)

    @property
    def num_rows(self) -> int:
        """Number of examples."""
        return len(self.positive_doc)

    def remove(self, rule: str, mask: np.ndarray) -> None:
        """Switch off the still-kept candidates where ``mask`` holds, counted under ``rule``."""
        hit = mask & self.keep
        self.removed[rule] = self.removed.get(rule, 0) + int(hit.sum())
        self.keep &= ~mask

    def remove_kept(self, rule: str, kept_mask: np.ndarray) -> None:
        """Like :meth:`remove`, with a mask over :meth:`kept` only."""
        mask = np.zeros(len(self), dtype=bool)
        mask[self.kept()] = kept_mask
        self.remove(rule, mask)

    def kept(self) -> np.ndarray:
        """Positions of the candidates still kept, in (row, rank) order."""
        return np.flatnonzero(self.keep)

    def kept_pairs(self) -> set[tuple[int, str]]:
        """``{(row, doc_id)}`` of the kept candidates (for comparing pools)."""
        kept = self.kept()
        return set(zip(self.row[kept].tolist(), self.doc_id[kept].tolist(), strict=True))


def build_pool(
    training_set: TrainingSet, run: Run, corpus: Corpus, depth: int | None = None
) -> CandidatePool:
    """Flatten ``run`` (query ids = example ids) into a pool; positives are switched off.

    Only the top ``depth`` documents become candidates, but a positive's score is read
    from the whole run.

    Raises:
        InvalidInputError: a document of the run is not in ``corpus``.
    """
    run = Run.from_dict(run)
    n_rows = len(training_set)
    row_of = {example: i for i, example in enumerate(training_set.ids)}
    run_rows = np.fromiter(
        (row_of.get(q, _NO_ROW) for q in run.query_ids.tolist()), dtype=np.int64, count=len(run)
    )
    unknown = int((run_rows == _NO_ROW).sum())
    if unknown:
        log.warning("mine: %d run queries are not examples of the training set: ignored", unknown)
    _, doc_ids, scores = run.to_arrays()
    row = np.repeat(run_rows, run.counts())
    rank = run.ranks()
    valid = row != _NO_ROW
    row, doc_ids, scores, rank = row[valid], doc_ids[valid], scores[valid], rank[valid]
    order = np.lexsort((rank, row))
    row, doc_ids, scores, rank = row[order], doc_ids[order], scores[order], rank[order]
    doc = corpus_rows(corpus, doc_ids, strict=True)
    positive_doc = corpus_rows(corpus, training_set.table.column("positive_id"), strict=False)
    in_run = np.zeros(n_rows, dtype=bool)
    in_run[row] = True
    own = doc == positive_doc[row]
    positive_score = np.full(n_rows, np.nan)
    positive_score[row[own]] = scores[own]  # read before the depth cut: a positive may lie below
    if depth is not None:
        top = rank <= depth
        row, doc_ids, scores, rank, doc = row[top], doc_ids[top], scores[top], rank[top], doc[top]
    pool = CandidatePool(
        row=row,
        doc=doc,
        doc_id=doc_ids,
        score=scores.astype(np.float64),
        rank=rank.astype(np.int64),
        keep=np.ones(len(row), dtype=bool),
        positive_doc=positive_doc,
        positive_score=positive_score,
        in_run=in_run,
    )
    # never a positive: the row's own, or one of another row with the same query text
    query_group = _codes(training_set.table.column("query"))
    has_doc = positive_doc >= 0
    size = max(len(corpus), 1)
    positives = query_group[has_doc] * size + positive_doc[has_doc]
    pool.remove("positive", np.isin(query_group[row] * size + doc, positives))
    return pool


def corpus_rows(corpus: Corpus, ids: np.ndarray | pa.ChunkedArray, *, strict: bool) -> np.ndarray:
    """Corpus row of each id (-1 for ids not in the corpus unless ``strict``).

    Raises:
        InvalidInputError: with ``strict``, an id is not in the corpus.
    """
    values = ids if isinstance(ids, pa.ChunkedArray) else pa.array(ids, pa.string())
    found = pc.index_in(values, value_set=corpus.table.column("id").combine_chunks())
    rows = found.to_numpy(zero_copy_only=False)
    missing = np.isnan(rows) if rows.dtype.kind == "f" else np.zeros(len(rows), dtype=bool)
    if strict and missing.any():
        first = values[int(np.flatnonzero(missing)[0])]
        raise InvalidInputError(
            f"document {first.as_py()!r} of the run is not in the corpus", field="doc_id"
        )
    return np.where(missing, -1, np.nan_to_num(rows, nan=-1)).astype(np.int64)


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    encoded = column.combine_chunks().dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


# rules ------------------------------------------------------------------------------------------
def apply_window(pool: CandidatePool, min_rank: int, max_rank: int | None, *, kept: bool) -> None:
    """Keep ranks ``min_rank``…``max_rank``: run ranks, or positions among the kept."""
    if min_rank <= 1 and max_rank is None:
        return
    if kept:
        idx = pool.kept()
        position = _positions(pool.row[idx]) + 1
        inside = position >= min_rank
        if max_rank is not None:
            inside &= position <= max_rank
        pool.remove_kept("window", ~inside)
        return
    inside = pool.rank >= min_rank
    if max_rank is not None:
        inside &= pool.rank <= max_rank
    pool.remove("window", ~inside)


def apply_thresholds(pool: CandidatePool, max_score: float | None, min_score: float | None) -> None:
    """Absolute score bounds (Arctic-Embed)."""
    if max_score is not None:
        pool.remove("max_score", pool.score > max_score)
    if min_score is not None:
        pool.remove("min_score", pool.score < min_score)


def positive_bound(
    positive_score: np.ndarray, perc_pos: float | None, margin_pos: float | None
) -> np.ndarray:
    """Highest score a negative may have per example (NaN when the positive is unscored).

    Example:
        >>> positive_bound(np.array([0.8, -2.0, np.nan]), 0.95, None).round(3).tolist()
        [0.76, -2.1, nan]
        >>> positive_bound(np.array([0.8]), 0.95, 0.1).round(3).tolist()
        [0.7]
    """
    bound = np.full(len(positive_score), np.inf)
    if perc_pos is not None:
        bound = np.minimum(bound, positive_score - np.abs(positive_score) * (1.0 - perc_pos))
    if margin_pos is not None:
        bound = np.minimum(bound, positive_score - margin_pos)
    return np.where(np.isnan(positive_score), np.nan, bound)


def apply_positive_bound(
    pool: CandidatePool, perc_pos: float | None, margin_pos: float | None
) -> None:
    """TopK-PercPos / TopK-MarginPos (NV-Retriever)."""
    if perc_pos is None and margin_pos is None:
        return
    bound = positive_bound(pool.positive_score, perc_pos, margin_pos)[pool.row]
    unknown = np.isnan(bound)
    pool.remove("no_positive_score", unknown)
    rule = "perc_pos" if margin_pos is None else "margin_pos" if perc_pos is None else "pos_bound"
    pool.remove(rule, ~unknown & (pool.score > np.nan_to_num(bound)))


@dataclass
class TextTable:
    """Distinct texts of the kept candidates and of the positives, with dedup codes.

    Attributes:
        candidate: Text index of each pool entry (-1 where not needed).
        positive: Text index of each example's positive.
        texts: The texts.
        codes: Normalized-text code of each text.
    """

    candidate: np.ndarray
    positive: np.ndarray
    texts: list[str]
    codes: np.ndarray

    @classmethod
    def build(cls, pool: CandidatePool, training_set: TrainingSet, corpus: Corpus) -> TextTable:
        idx = pool.kept()
        docs = np.unique(np.concatenate([pool.doc[idx], pool.positive_doc[pool.positive_doc >= 0]]))
        doc_texts = corpus.take(docs).full_texts()
        candidate = np.full(len(pool), -1, dtype=np.int64)
        candidate[idx] = np.searchsorted(docs, pool.doc[idx])
        positive = np.empty(pool.num_rows, dtype=np.int64)
        is_doc = pool.positive_doc >= 0
        positive[is_doc] = np.searchsorted(docs, pool.positive_doc[is_doc])
        own = np.flatnonzero(~is_doc)  # positives that are not corpus documents
        positive[own] = len(docs) + np.arange(len(own))
        texts = doc_texts + [training_set.table.column("positive")[int(r)].as_py() for r in own]
        normalized = [normalize_for_dedup(t) for t in texts]
        codes = pa.array(normalized, pa.string()).dictionary_encode().indices
        return cls(
            candidate, positive, normalized, codes.to_numpy(zero_copy_only=False).astype(np.int64)
        )


def apply_text_dedup(
    pool: CandidatePool,
    table: TextTable,
    training_set: TrainingSet,
    near_duplicate: float | None,
) -> None:
    """Never a positive's text, nor a near duplicate of the row's positive."""
    idx = pool.kept()
    query_group = _codes(training_set.table.column("query"))
    n_codes = max(int(table.codes.max(initial=0)) + 1, 1)
    positives = query_group * n_codes + table.codes[table.positive]
    keys = query_group[pool.row[idx]] * n_codes + table.codes[table.candidate[idx]]
    pool.remove_kept("positive_text", np.isin(keys, positives))
    if near_duplicate is None:
        return
    idx = pool.kept()
    if not len(idx):
        pool.removed.setdefault("near_duplicate", 0)
        return
    grams = NgramSets(table.texts)
    similarity = grams.jaccard(
        table.candidate[idx], table.positive[pool.row[idx]], at_least=near_duplicate
    )
    pool.remove_kept("near_duplicate", similarity >= near_duplicate)


def apply_repeated_texts(pool: CandidatePool, table: TextTable) -> None:
    """No text twice among a row's candidates: the best-ranked copy stays."""
    idx = pool.kept()
    n_codes = max(int(table.codes.max(initial=0)) + 1, 1)
    keys = pool.row[idx] * n_codes + table.codes[table.candidate[idx]]
    _, first = np.unique(keys, return_index=True)
    repeated = np.ones(len(idx), dtype=bool)
    repeated[first] = False
    pool.remove_kept("repeated_text", repeated)


def apply_guide(
    pool: CandidatePool,
    scorer: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    margin: float,
) -> None:
    """GISTEmbed's guided filter: drop candidates the guide scores above the positive.

    ``scorer(rows, candidates)`` returns the guide's score of each kept candidate and of
    each example's positive (NaN where it could not score: such candidates are dropped).
    """
    idx = pool.kept()
    if not len(idx):
        pool.removed.setdefault("guide", 0)
        return
    candidate_scores, positive_scores = scorer(pool.row[idx], idx)
    bound = positive_scores[pool.row[idx]] - margin
    unsure = np.isnan(candidate_scores) | np.isnan(bound)
    pool.remove_kept("guide", unsure | (candidate_scores > np.nan_to_num(bound)))


# sampling ---------------------------------------------------------------------------------------
def sample(pool: CandidatePool, n: int, how: str, seed: int, example_ids: list[str]) -> np.ndarray:
    """Positions of the chosen negatives, in (row, rank) order.

    ``"top"`` takes each row's ``n`` best-ranked kept candidates; ``"random"`` takes ``n``
    uniformly. The random choice of a row depends only on ``seed``, the example id and the
    candidates' document ids (a hash, not a stream), so it does not change when other rows
    are added, removed or reordered.
    """
    idx = pool.kept()
    if how == "top":
        return idx[_positions(pool.row[idx]) < n]
    keys = _random_keys(pool.row[idx], pool.doc_id[idx], seed, example_ids)
    order = np.lexsort((keys, pool.row[idx]))
    chosen = order[_positions(pool.row[idx][order]) < n]
    return np.sort(idx[chosen])


def _positions(groups: np.ndarray) -> np.ndarray:
    """0-based position of each entry within its run of equal, contiguous group labels."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    starts = np.ones(len(groups), dtype=bool)
    starts[1:] = groups[1:] != groups[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(groups)), 0))
    return np.arange(len(groups)) - first


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a bijective, well-mixed uint64 → uint64."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _random_keys(
    rows: np.ndarray, doc_ids: np.ndarray, seed: int, example_ids: list[str]
) -> np.ndarray:
    unique_rows, row_inverse = np.unique(rows, return_inverse=True)
    row_hash = np.fromiter(
        (_hash64(f"{seed}\x1f{example_ids[r]}") for r in unique_rows.tolist()),
        dtype=np.uint64,
        count=len(unique_rows),
    )
    encoded = pa.array(doc_ids, pa.string()).dictionary_encode()
    doc_hash = np.fromiter(
        (_hash64(d) for d in encoded.dictionary.to_pylist()),
        dtype=np.uint64,
        count=len(encoded.dictionary),
    )
    doc_inverse = encoded.indices.to_numpy(zero_copy_only=False)
    with np.errstate(over="ignore"):
        return _mix(row_hash[row_inverse] ^ _mix(doc_hash[doc_inverse]))
