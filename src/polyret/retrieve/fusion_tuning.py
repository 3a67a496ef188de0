"""Choose fusion weights (and the RRF constant) on a dev split by grid search."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from polyret.errors import InvalidInputError
from polyret.evaluate.evaluate import evaluate
from polyret.retrieve.fusion import FusionMethod, Normalization, fuse
from polyret.types import Qrels, Run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionTuning:
    """The best fusion found and every setting tried.

    Attributes:
        method: ``"rrf"`` or ``"interpolation"``.
        weights: Best weight per run, in the order of the run names.
        run_names: Names of the fused runs.
        rrf_k: Best RRF constant (RRF only).
        normalization: Normalization used (interpolation only).
        metric: The metric optimized.
        score: Its mean on the tuning queries.
        trials: ``(weights, rrf_k, score)`` of every setting tried.
    """

    method: FusionMethod
    weights: tuple[float, ...]
    run_names: tuple[str, ...]
    rrf_k: float
    normalization: Normalization
    metric: str
    score: float
    trials: tuple[tuple[tuple[float, ...], float, float], ...] = field(repr=False)

    def apply(self, runs: Sequence[Run] | Mapping[str, Run], k: int | None = None) -> Run:
        """Fuse ``runs`` (in the same order as tuned) with the chosen setting."""
        return fuse(
            runs,
            self.method,
            weights=self.weights,
            rrf_k=self.rrf_k,
            normalization=self.normalization,
            k=k,
        )


def simplex_grid(num_runs: int, step: float) -> list[tuple[float, ...]]:
    """Weight vectors on a grid of ``step`` that sum to 1 (every run weight ≥ 0).

    Example:
        >>> simplex_grid(2, 0.5)
        [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    """
    if not 0 < step <= 1:
        raise InvalidInputError(f"step must be in (0, 1], got {step}", field="step")
    n = round(1 / step)
    points = (c for c in itertools.product(range(n + 1), repeat=num_runs) if sum(c) == n)
    return [tuple(round(x / n, 10) for x in c) for c in points]


def tune_fusion(
    runs: Mapping[str, Run],
    qrels: Qrels | Mapping[str, Mapping[str, int]],
    *,
    method: FusionMethod = "interpolation",
    metric: str = "ndcg@10",
    step: float = 0.1,
    rrf_ks: Sequence[float] = (10, 20, 40, 60, 100),
    normalization: Normalization = "min-max",
) -> FusionTuning:
    """Grid-search fusion weights (and the RRF constant) that maximize ``metric``.

    Tune on a dev split, then fuse the test runs with :meth:`FusionTuning.apply`.

    Args:
        runs: Named runs over the same (dev) queries.
        qrels: Judgments of those queries.
        method: ``"interpolation"`` or ``"rrf"``.
        metric: Metric to maximize (mean over the judged queries).
        step: Weight grid step on the simplex.
        rrf_ks: RRF constants tried (RRF only).
        normalization: Score normalization (interpolation only).
    """
    if len(runs) < 2:
        raise InvalidInputError("tuning a fusion needs at least two runs", field="runs")
    ks = list(rrf_ks) if method == "rrf" else [60.0]
    trials = []
    for weights in simplex_grid(len(runs), step):
        for rrf_k in ks:
            fused = fuse(
                runs,
                method,
                weights=weights,
                rrf_k=rrf_k,
                normalization=normalization,
            )
            means = evaluate(fused, qrels, [metric], by=None).mean
            trials.append((weights, float(rrf_k), float(next(iter(means.values())))))
    weights, rrf_k, score = max(trials, key=lambda t: t[2])
    log.info("fusion tuned on %s: weights %s, rrf_k %s -> %.4f", metric, weights, rrf_k, score)
    return FusionTuning(
        method, weights, tuple(runs), rrf_k, normalization, metric, score, tuple(trials)
    )
