"""The :class:`Miner` contract, :class:`HardNegativeMiner` and :func:`mine`.

A miner reads a training set, any retriever's :class:`~polyret.types.Run` for its
examples (query ids = example ids) and the corpus the run points into, and returns the
training set with ``negative_ids``, ``negatives``, ``negative_scores``,
``negative_ranks`` and ``positive_score`` filled in, the strategy and its config in
``provenance["mine"]``, and one ``mine`` step in the funnel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from polyret.encode import Encoder
from polyret.mine.config import DEFAULT_STRATEGY, MiningConfig
from polyret.mine.pool import (
    CandidatePool,
    TextTable,
    apply_guide,
    apply_positive_bound,
    apply_repeated_texts,
    apply_text_dedup,
    apply_thresholds,
    apply_window,
    build_pool,
    sample,
)
from polyret.rerank.base import Candidates, PairReranker, Reranker
from polyret.types import Corpus, Queries, Run, TrainingSet

log = logging.getLogger(__name__)


@runtime_checkable
class Miner(Protocol):
    """What every mining strategy offers."""

    @property
    def name(self) -> str:
        """The strategy name (recorded in provenance)."""
        ...

    def mine(self, training_set: TrainingSet, run: Run, corpus: Corpus) -> TrainingSet:
        """``training_set`` with hard negatives taken from ``run``."""
        ...


class HardNegativeMiner:
    """Every published mining rule, composed by one :class:`MiningConfig`.

    Args:
        config: The rules (default: :class:`MiningConfig`'s defaults).
        guide: The guide model of the GISTEmbed filter: a loaded
            :class:`~polyret.rerank.Reranker`, an :class:`~polyret.encode.Encoder`
            (wrapped in a :class:`~polyret.rerank.BiEncoderReranker`) or a registered
            reranker name; overrides ``config.guide``.
        name: Strategy name for provenance (presets pass theirs).
        **overrides: :class:`MiningConfig` fields replacing those of ``config``.

    Example:
        >>> from polyret.types import Corpus, Run, TrainingSet
        >>> corpus = Corpus.from_dict({"p": "Rhein", "a": "Rhine", "b": "Main", "c": "Elbe"})
        >>> examples = TrainingSet.from_records(
        ...     [{"id": "e1", "query": "river", "positive_id": "p", "positive": "Rhein"}])
        >>> run = Run.from_dict({"e1": {"a": 0.9, "p": 0.8, "b": 0.7, "c": 0.1}})
        >>> miner = HardNegativeMiner(num_negatives=2, perc_pos=0.95)
        >>> mined = miner.mine(examples, run, corpus)
        >>> mined["e1"].negative_ids, mined["e1"].negative_ranks, mined["e1"].positive_score
        (['b', 'c'], [3, 4], 0.800000011920929)
    """

    def __init__(
        self,
        config: MiningConfig = MiningConfig(),
        *,
        guide: Reranker | Encoder | str | None = None,
        name: str = "custom",
        **overrides: Any,
    ) -> None:
        if isinstance(guide, str):  # a registered reranker name: part of the config
            overrides["guide"], guide = guide, None
        self.config = config.replace(**overrides)
        self.name = name
        self._guide = guide

    def __repr__(self) -> str:
        return f"HardNegativeMiner(name={self.name!r}, config={self.config})"

    # the pipeline ----------------------------------------------------------------------------
    def pool(self, training_set: TrainingSet, run: Run, corpus: Corpus) -> CandidatePool:
        """The candidates that pass every rule (before sampling), with per-rule counts."""
        cfg = self.config
        pool = build_pool(training_set, run, corpus, cfg.depth)
        if cfg.window == "run":
            apply_window(pool, cfg.min_rank, cfg.max_rank, kept=False)
        apply_thresholds(pool, cfg.max_score, cfg.min_score)
        apply_positive_bound(pool, cfg.perc_pos, cfg.margin_pos)
        table = None
        if cfg.dedup:
            table = TextTable.build(pool, training_set, corpus)
            apply_text_dedup(pool, table, training_set, cfg.near_duplicate)
        guide = self.guide
        if guide is not None:
            apply_guide(pool, _guide_scorer(guide, pool, training_set, corpus), cfg.guide_margin)
        if table is not None:
            apply_repeated_texts(pool, table)
        if cfg.window == "kept":
            apply_window(pool, cfg.min_rank, cfg.max_rank, kept=True)
        return pool

    def mine(self, training_set: TrainingSet, run: Run, corpus: Corpus) -> TrainingSet:
        """``training_set`` with ``config.num_negatives`` hard negatives per row.

        Negatives already in ``training_set`` are replaced. Rows with fewer candidates
        than asked are dropped or kept with fewer (``config.short``); the funnel step
        counts both, the rows the run does not cover and every rule's removals.

        Raises:
            InvalidInputError: a document of the run is not in ``corpus``.
        """
        started = time.perf_counter()
        cfg = self.config
        run = Run.from_dict(run)
        pool = self.pool(training_set, run, corpus)
        chosen = sample(pool, cfg.num_negatives, cfg.sampling, cfg.seed, training_set.ids)
        out = _with_negatives(training_set, corpus, pool, chosen)
        counts = np.bincount(pool.row[chosen], minlength=len(training_set))
        short = counts < cfg.num_negatives
        step: dict[str, Any] = {
            "step": "mine",
            "strategy": self.name,
            "config": cfg.to_dict(),
            "before": len(training_set),
            "not_in_run": int((~pool.in_run).sum()),
            "short": int(short.sum()),
            "candidates": len(pool),
            "removed": dict(pool.removed),
        }
        if cfg.short == "drop":
            out = out.filter(~short)
            step["dropped"] = {"too_few_negatives": int(short.sum())} if short.any() else {}
        else:
            step["dropped"] = {}
        step["kept"] = len(out)
        step["negatives"] = int(counts[~short].sum() if cfg.short == "drop" else counts.sum())
        out.provenance["mine"] = {
            "strategy": self.name,
            "config": cfg.to_dict(),
            "guide": _guide_identity(self._guide),
            "run": {"queries": len(run), "entries": run.num_entries},
            "corpus": {"documents": len(corpus), "sha256": corpus.fingerprint()},
        }
        log.info(
            "mine %s: %d of %d rows kept, %d negatives, %d rows short (%.1f s)",
            self.name,
            step["kept"],
            step["before"],
            step["negatives"],
            step["short"],
            time.perf_counter() - started,
        )
        return out.with_step(step)

    # the guide -------------------------------------------------------------------------------
    @property
    def guide(self) -> Reranker | None:
        """The guide reranker (loaded from ``config.guide`` on first use), or ``None``."""
        if self._guide is None and self.config.guide is not None:
            from polyret.rerank import load_reranker

            self._guide = load_reranker(self.config.guide, **self.config.guide_options)
        if isinstance(self._guide, Encoder) and not isinstance(self._guide, Reranker):
            from polyret.rerank import BiEncoderReranker

            self._guide = BiEncoderReranker(self._guide)
        return self._guide  # type: ignore[return-value]


def mine(
    training_set: TrainingSet,
    run: Run,
    corpus: Corpus,
    strategy: str | MiningConfig | Miner = DEFAULT_STRATEGY,
    *,
    guide: Reranker | Encoder | str | None = None,
    **overrides: Any,
) -> TrainingSet:
    """Mine hard negatives from ``run`` with a named strategy, a config or a miner.

    Args:
        training_set: The examples; their ids are the run's query ids.
        run: Any retriever's ranking for the examples (:class:`~polyret.types.Run` or
            a plain ``{example_id: {doc_id: score}}``).
        corpus: The documents the run points into.
        strategy: A registered name (:data:`polyret.mine.miners`: ``"top-k"``,
            ``"nv-retriever"``, ``"sfr"``, ...), a :class:`MiningConfig` or a miner
            (default: :data:`~polyret.mine.config.DEFAULT_STRATEGY`). A run made elsewhere
            may lack the positives' scores that ``"nv-retriever"`` compares with: rows
            without one keep no candidates under it (``"top-k"`` needs no scores).
        guide: The guide of the GISTEmbed filter (a loaded reranker or encoder, or a
            reranker name).
        **overrides: :class:`MiningConfig` fields (``num_negatives``, ``seed``, ...).

    Returns:
        The mined training set (see :meth:`HardNegativeMiner.mine`).

    Example:
        >>> from polyret.types import Corpus, Run, TrainingSet
        >>> corpus = Corpus.from_dict({"p": "Rhein", "a": "Rhine", "b": "Main"})
        >>> examples = TrainingSet.from_records(
        ...     [{"id": "e1", "query": "river", "positive_id": "p", "positive": "Rhein"}])
        >>> run = {"e1": {"a": 3.0, "p": 2.0, "b": 1.0}}
        >>> mine(examples, run, corpus, "top-k", num_negatives=2)["e1"].negative_ids
        ['a', 'b']
    """
    return resolve_miner(strategy, guide=guide, **overrides).mine(training_set, run, corpus)


def resolve_miner(
    strategy: str | MiningConfig | Miner,
    *,
    guide: Reranker | Encoder | str | None = None,
    **overrides: Any,
) -> Miner:
    """A miner from a registered name, a config or a miner (returned as is)."""
    if isinstance(strategy, str):
        from polyret.mine.registry import load_miner

        options: dict[str, Any] = dict(overrides)
        if guide is not None:
            options["guide"] = guide
        return load_miner(strategy, **options)
    if isinstance(strategy, MiningConfig):
        return HardNegativeMiner(strategy, guide=guide, **overrides)
    if overrides or guide is not None:
        from polyret.errors import InvalidInputError

        raise InvalidInputError("options cannot be applied to an already built miner")
    return strategy


# helpers --------------------------------------------------------------------------------------
def _with_negatives(
    training_set: TrainingSet, corpus: Corpus, pool: CandidatePool, chosen: np.ndarray
) -> TrainingSet:
    counts = np.bincount(pool.row[chosen], minlength=len(training_set))
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int32())
    docs = pool.doc[chosen]
    unique_docs, inverse = np.unique(docs, return_inverse=True)
    texts = np.asarray(corpus.take(unique_docs).full_texts(), dtype=object)

    def lists(values: np.ndarray, kind: pa.DataType) -> pa.Array:
        return pa.ListArray.from_arrays(offsets, pa.array(values, kind))

    positive = pool.positive_score
    return training_set.with_columns(
        positive_score=pa.array(positive, pa.float32(), mask=np.isnan(positive)),
        negative_ids=lists(pool.doc_id[chosen], pa.string()),
        negatives=lists(texts[inverse] if len(docs) else np.zeros(0, object), pa.string()),
        negative_scores=lists(pool.score[chosen], pa.float32()),
        negative_ranks=lists(pool.rank[chosen], pa.int32()),
    )


def _guide_identity(guide: Any) -> dict[str, Any] | None:
    if guide is None:
        return None
    identity: dict[str, Any] = {"type": type(guide).__name__}
    for attribute in ("fingerprint", "name"):
        value = getattr(guide, attribute, None)
        if isinstance(value, str):
            identity[attribute] = value
    return identity


Scorer = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _guide_scorer(
    guide: Reranker, pool: CandidatePool, training_set: TrainingSet, corpus: Corpus
) -> Scorer:
    """``scorer(rows, positions)`` for :func:`~polyret.mine.pool.apply_guide`."""

    def score(rows: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        needed = np.unique(rows)
        queries = training_set.table.column("query").to_pylist()
        positives = training_set.table.column("positive").to_pylist()
        docs = np.unique(
            np.concatenate(
                [pool.doc[positions], pool.positive_doc[needed][pool.positive_doc[needed] >= 0]]
            )
        )
        doc_texts = corpus.take(docs).full_texts()

        def text_of_positive(r: int) -> str:
            d = pool.positive_doc[r]
            return doc_texts[int(np.searchsorted(docs, d))] if d >= 0 else positives[r]

        # one pair list: the candidates, then each needed row's positive
        pair_rows = np.concatenate([rows, needed])
        query_texts = [queries[r] for r in pair_rows.tolist()]
        texts = [doc_texts[i] for i in np.searchsorted(docs, pool.doc[positions]).tolist()]
        texts += [text_of_positive(r) for r in needed.tolist()]
        scores = _score_pairs(guide, training_set, pair_rows, query_texts, texts)
        positive_scores = np.full(pool.num_rows, np.nan)
        positive_scores[needed] = scores[len(rows) :]
        return scores[: len(rows)], positive_scores

    return score


def _score_pairs(
    guide: Reranker,
    training_set: TrainingSet,
    rows: np.ndarray,
    query_texts: list[str],
    doc_texts: list[str],
) -> np.ndarray:
    """The guide's score of each (query, document text) pair."""
    if isinstance(guide, PairReranker):  # direct, through its score cache
        found = Candidates(
            query_ids=rows.astype(str).astype(object),
            doc_ids=np.arange(len(rows)).astype(str).astype(object),
            ranks=np.ones(len(rows), dtype=np.int64),
            query_texts=query_texts,
            doc_texts=doc_texts,
            first_stage=np.zeros(len(rows)),
            starts=np.array([0, len(rows)], dtype=np.int64),
        )
        return np.asarray(guide.score_candidates(found), dtype=np.float64)
    # any other reranker: a small corpus of the distinct texts and a run over it
    distinct = list(dict.fromkeys(doc_texts))
    text_row = {t: i for i, t in enumerate(distinct)}
    text_ids = np.array([f"t{text_row[t]}" for t in doc_texts], dtype=object)
    example_ids = np.asarray(training_set.ids, dtype=object)[rows]
    mini = Corpus.from_dict({f"t{i}": t for i, t in enumerate(distinct)})
    wanted = np.unique(rows)
    queries = Queries.from_dict(
        {training_set.ids[r]: training_set.table.column("query")[int(r)].as_py() for r in wanted}
    )
    keys = np.char.add(example_ids.astype(str), np.char.add("\x1f", text_ids.astype(str)))
    unique_keys, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    first_stage = Run.from_arrays(example_ids[first], text_ids[first], np.zeros(len(first)))
    reranked = guide.rerank(queries, first_stage, mini, k=int(first_stage.counts().max()))
    q, d, s = reranked.to_arrays()
    got = np.char.add(q.astype(str), np.char.add("\x1f", d.astype(str)))
    position = np.searchsorted(unique_keys, got)
    values = np.full(len(unique_keys), np.nan)
    values[position] = s
    return values[inverse]
