"""Ensembles: several rerankers' (or runs') scores normalized per query and combined.

Weights are given, or learned on a dev split: each member first gets a prior weight
``1 / (1 + mean Spearman correlation with the other members)`` so near-duplicates share
their say, then a grid over the weight simplex (each point multiplied by the prior)
maximizes nDCG@10, ties going to the point closest to the prior.

References:
    NetEase Youdao's MIRACL system (seed 003): hybrid first stage, top-200 reranked by
    several cross-encoders whose normalized scores are ensembled, highly correlated
    members down-weighted (hybrid 0.635 → 0.80 nDCG@10).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from polyret.errors import InvalidInputError
from polyret.evaluate import evaluate
from polyret.rerank.base import Candidates, Reranker, assemble, candidates
from polyret.retrieve import fuse, simplex_grid
from polyret.retrieve.fusion import Normalization
from polyret.types import Corpus, Qrels, Queries, Run

log = logging.getLogger(__name__)

Member = Reranker | Run | Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class EnsembleFit:
    """What :meth:`EnsembleReranker.fit` chose.

    Attributes:
        names: Member names.
        weights: Chosen weight per member (sums to 1).
        prior: Decorrelation prior per member (sums to 1).
        correlation: ``[n, n]`` mean per-query Spearman correlation between members.
        metric: The metric maximized, and ``score`` its mean on the dev queries.
        trials: ``(weights, score)`` of every grid point.
    """

    names: tuple[str, ...]
    weights: tuple[float, ...]
    prior: tuple[float, ...]
    correlation: np.ndarray = field(repr=False)
    metric: str = "ndcg@10"
    score: float = 0.0
    trials: tuple[tuple[tuple[float, ...], float], ...] = field(default=(), repr=False)


def spearman_matrix(found: Candidates, runs: Sequence[Run]) -> np.ndarray:
    """Mean over queries of the Spearman correlation of members' scores on the candidates.

    A member's missing candidates rank below its scored ones; queries where a member is
    constant are skipped for its pairs.
    """
    n = len(runs)
    scores = np.full((n, len(found)), -np.inf)
    position = {
        (q, d): i
        for i, (q, d) in enumerate(
            zip(found.query_ids.tolist(), found.doc_ids.tolist(), strict=True)
        )
    }
    for m, run in enumerate(runs):
        q, d, s = Run.from_dict(run).to_arrays()
        for qid, doc, value in zip(q.tolist(), d.tolist(), s.tolist(), strict=True):
            row = position.get((qid, doc))
            if row is not None:
                scores[m, row] = value
    sums = np.zeros((n, n))
    counts = np.zeros((n, n))
    for _, start, end in found.spans():
        if end - start < 3:
            continue
        ranks = np.argsort(np.argsort(scores[:, start:end], axis=1), axis=1).astype(float)
        ranks -= ranks.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(ranks, axis=1)
        ok = norms > 0
        corr = (ranks @ ranks.T) / np.maximum(np.outer(norms, norms), 1e-12)
        mask = np.outer(ok, ok)
        sums[mask] += corr[mask]
        counts[mask] += 1
    return np.divide(sums, counts, out=np.eye(n), where=counts > 0)


def decorrelation_prior(correlation: np.ndarray) -> np.ndarray:
    """``1 / (1 + mean correlation with the others)`` per member, normalized to sum 1.

    Example:
        >>> decorrelation_prior(np.array([[1, .9, 0], [.9, 1, 0], [0, 0, 1]])).round(3).tolist()
        [0.29, 0.29, 0.42]
    """
    n = len(correlation)
    if n == 1:
        return np.ones(1)
    others = (correlation.sum(axis=1) - np.diag(correlation)) / (n - 1)
    raw = 1.0 / (1.0 + np.clip(others, 0.0, None))
    return raw / raw.sum()


class EnsembleReranker:
    """Normalized, weighted sum of several members' scores over the first-stage top-k.

    Args:
        members: Name → a :class:`Reranker` (run on the candidates) or a precomputed
            :class:`~polyret.types.Run` (e.g. the first stage itself).
        weights: One weight per member (default: equal; :meth:`fit` learns them).
        normalization: Per-query normalization before the sum (``"min-max"``,
            ``"z-score"``), the functions of :mod:`polyret.retrieve.fusion`.

    Example:
        >>> bm25 = Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}})
        >>> judge = Run.from_dict({"q": {"a": 0.0, "b": 1.0, "c": 0.9}})
        >>> corpus = Corpus.from_dict({"a": "x", "b": "y", "c": "z"})
        >>> ens = EnsembleReranker({"first": bm25, "judge": judge}, weights=[0.4, 0.6])
        >>> list(ens.rerank(Queries.from_dict({"q": "x"}), bm25, corpus, k=3)["q"])
        ['b', 'c', 'a']
    """

    def __init__(
        self,
        members: Mapping[str, Member],
        weights: Sequence[float] | None = None,
        *,
        normalization: Normalization = "min-max",
    ) -> None:
        if not members:
            raise InvalidInputError("an ensemble needs at least one member", field="members")
        self.members = dict(members)
        self.weights = [1.0 / len(members)] * len(members) if weights is None else list(weights)
        if len(self.weights) != len(self.members):
            raise InvalidInputError(
                f"{len(self.weights)} weights for {len(self.members)} members", field="weights"
            )
        self.normalization = normalization
        self.fitted: EnsembleFit | None = None

    def member_runs(self, queries: Queries, run: Run, corpus: Corpus, k: int) -> dict[str, Run]:
        """Each member's scores on the top-``k`` candidates of ``run``."""
        found = candidates(queries, run, corpus, k)
        out = {}
        for name, member in self.members.items():
            if hasattr(member, "rerank"):
                scored = member.rerank(queries, run, corpus, k)  # type: ignore[union-attr]
            else:
                scored = Run.from_dict(member)  # type: ignore[arg-type]
            out[name] = _restrict(scored, found)
        return out

    def combine(self, member_runs: Mapping[str, Run], weights: Sequence[float]) -> Run:
        """Weighted sum of normalized member scores (a candidate a member lacks adds 0)."""
        return fuse(
            list(member_runs.values()),
            "interpolation",
            weights=list(weights),
            normalization=self.normalization,
        )

    def rerank(self, queries: Queries, run: Run, corpus: Corpus, k: int = 100) -> Run:
        """Rerank each query's top ``k`` by the weighted ensemble; the rest keep their order."""
        run = Run.from_dict(run)
        combined = self.combine(self.member_runs(queries, run, corpus, k), self.weights)
        top = run.truncate(k)
        reranked = {qid: {d: combined[qid].get(d, 0.0) for d in top[qid]} for qid in top}
        return assemble(run, reranked, k)

    def fit(
        self,
        queries: Queries,
        run: Run,
        corpus: Corpus,
        qrels: Qrels | Mapping[str, Mapping[str, int]],
        *,
        k: int = 100,
        step: float = 0.1,
        metric: str = "ndcg@10",
    ) -> EnsembleFit:
        """Learn the weights on a dev split (decorrelation prior × simplex grid).

        Returns:
            The :class:`EnsembleFit`; :attr:`weights` is set to its weights.
        """
        run = Run.from_dict(run)
        found = candidates(queries, run, corpus, k)
        runs = self.member_runs(queries, run, corpus, k)
        correlation = spearman_matrix(found, list(runs.values()))
        prior = decorrelation_prior(correlation)
        trials = []
        best: tuple[float, float, tuple[float, ...]] | None = None
        for point in simplex_grid(len(runs), step):
            weights = np.asarray(point) * prior
            if weights.sum() <= 0:
                continue
            weights = tuple((weights / weights.sum()).round(6).tolist())
            score = evaluate(self.combine(runs, weights), qrels, [metric], by=None).mean[metric]
            trials.append((weights, score))
            distance = float(np.abs(np.asarray(weights) - prior).sum())
            if best is None or (score, -distance) > (best[0], -best[1]):
                best = (score, distance, weights)
        assert best is not None
        self.weights = list(best[2])
        self.fitted = EnsembleFit(
            tuple(runs),
            best[2],
            tuple(prior.round(6).tolist()),
            correlation,
            metric,
            best[0],
            tuple(trials),
        )
        log.info(
            "ensemble weights %s (prior %s), %s %.4f on %d dev queries",
            dict(zip(runs, best[2], strict=True)),
            self.fitted.prior,
            metric,
            best[0],
            len(found.spans()),
        )
        return self.fitted


def _restrict(run: Run, found: Candidates) -> Run:
    """The entries of ``run`` that are candidate pairs."""
    q, d, s = run.to_arrays()
    wanted = {(a, b) for a, b in zip(found.query_ids.tolist(), found.doc_ids.tolist(), strict=True)}
    keep = np.array(
        [(a, b) in wanted for a, b in zip(q.tolist(), d.tolist(), strict=True)], dtype=bool
    )
    return Run.from_arrays(q[keep], d[keep], s[keep])
