"""Paired significance tests on per-query scores and multiple-comparison corrections.

Both tests take two ``[num_queries]`` (or ``[num_queries, num_metrics]``) arrays of per-query
scores of two systems on the same queries, and return two-sided p-values (one per metric).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from scipy import stats

from polyret.errors import InvalidInputError

Correction = Literal["holm", "bonferroni", "none"]
CORRECTIONS = ("holm", "bonferroni", "none")


class SignificanceTest(Protocol):
    """A paired test: per-query scores ``a`` and ``b`` in, two-sided p-value(s) out."""

    @property
    def name(self) -> str: ...

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...


def randomization_test(
    a: np.ndarray, b: np.ndarray, *, permutations: int = 10_000, seed: int = 0
) -> np.ndarray:
    """Paired randomization (sign-flip permutation) test of the mean difference, two-sided.

    Under the null hypothesis the two systems are exchangeable on each query, so the sign of
    every per-query difference is flipped at random; the p-value is the share of the
    ``permutations`` random sign assignments (plus the observed one) whose absolute mean
    difference is at least the observed one. All permutations are drawn as one seeded sign
    matrix and applied with a matrix product (in chunks), so there is no loop per permutation.

    Args:
        a: Per-query scores of system A, ``[num_queries]`` or ``[num_queries, num_metrics]``.
        b: Scores of system B on the same queries, same shape.
        permutations: Number of random sign assignments.
        seed: Seed of the random generator; the same seed gives the same p-values.

    Returns:
        The p-value (a 0-d array for 1-d input, else one per metric), in ``(0, 1]``.

    Example:
        >>> a = np.array([0.5, 0.7, 0.2, 0.9]); float(randomization_test(a, a))
        1.0

    References:
        Smucker, Allan & Carterette, "A Comparison of Statistical Significance Tests for
        Information Retrieval Evaluation", CIKM 2007. The ``+1`` in numerator and
        denominator follows Phipson & Smyth, "Permutation P-values Should Never Be Zero",
        SAGMB 2010.
    """
    diff, squeeze = _differences(a, b)
    if permutations < 1:
        raise InvalidInputError(f"permutations must be >= 1, got {permutations}")
    num_queries = diff.shape[0]
    observed = np.abs(diff.mean(axis=0))
    tolerance = 1e-12 * np.maximum(1.0, observed)
    rng = np.random.default_rng(seed)
    at_least = np.zeros(diff.shape[1], dtype=np.int64)
    chunk = max(1, min(permutations, 4_000_000 // max(num_queries, 1)))
    for start in range(0, permutations, chunk):
        size = min(chunk, permutations - start)
        signs = rng.integers(0, 2, size=(size, num_queries), dtype=np.int8) * 2 - 1
        means = np.abs(signs.astype(np.float64) @ diff) / num_queries
        at_least += (means >= observed - tolerance).sum(axis=0)
    p = (at_least + 1) / (permutations + 1)
    return p[0] if squeeze else p


def paired_t_test(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-sided paired Student's t-test (``scipy.stats.ttest_rel``).

    When every per-query difference is the same the statistic is undefined; the p-value is
    then 1 for identical systems and 0 for a constant non-zero difference.

    Args:
        a: Per-query scores of system A, ``[num_queries]`` or ``[num_queries, num_metrics]``.
        b: Scores of system B on the same queries, same shape.

    Returns:
        The p-value (a 0-d array for 1-d input, else one per metric).

    Example:
        >>> a, b = np.array([0.5, 0.7, 0.2, 0.9]), np.array([0.4, 0.5, 0.3, 0.6])
        >>> bool(np.isclose(paired_t_test(a, b), stats.ttest_rel(a, b).pvalue))
        True

    References:
        Student, "The Probable Error of a Mean", Biometrika 1908; for IR, Smucker, Allan &
        Carterette, CIKM 2007.
    """
    diff, squeeze = _differences(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = np.atleast_1d(stats.ttest_rel(diff, np.zeros_like(diff), axis=0).pvalue).astype(float)
    constant = np.ptp(diff, axis=0) == 0
    p[constant] = np.where(diff[0, constant] == 0, 1.0, 0.0)
    return p[0] if squeeze else p


def adjust_p_values(p_values: np.ndarray, method: Correction = "holm") -> np.ndarray:
    """Correct p-values for multiple comparisons (family-wise error rate).

    Holm's step-down method sorts the ``m`` p-values ascending and multiplies the ``i``-th
    smallest (1-based) by ``m - i + 1``, then makes the sequence monotone (running maximum)
    and caps it at 1; Bonferroni multiplies every p-value by ``m``. NaN entries (no test) are
    ignored and stay NaN.

    Args:
        p_values: Raw p-values, any shape.
        method: ``"holm"``, ``"bonferroni"`` or ``"none"``.

    Returns:
        Adjusted p-values, same shape.

    Example:
        >>> adjust_p_values(np.array([0.01, 0.04, 0.03]), "holm").round(6).tolist()
        [0.03, 0.06, 0.06]

    References:
        Holm, "A Simple Sequentially Rejective Multiple Test Procedure", Scandinavian Journal
        of Statistics 6(2), 1979.
    """
    if method not in CORRECTIONS:
        raise InvalidInputError(f"unknown correction {method!r}; valid: {', '.join(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel().copy()
    tested = np.flatnonzero(~np.isnan(flat))
    m = len(tested)
    if method == "bonferroni":
        flat[tested] = np.minimum(1.0, flat[tested] * m)
    elif method == "holm" and m:
        order = tested[np.argsort(flat[tested], kind="stable")]
        scaled = flat[order] * (m - np.arange(m))
        flat[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return flat.reshape(p.shape)


@dataclass(frozen=True)
class RandomizationTest:
    """:func:`randomization_test` with its settings, for :func:`~polyret.evaluate.compare`."""

    permutations: int = 10_000
    seed: int = 0
    name: str = "randomization"

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.atleast_1d(
            randomization_test(a, b, permutations=self.permutations, seed=self.seed)
        )


@dataclass(frozen=True)
class TTest:
    """:func:`paired_t_test`, for :func:`~polyret.evaluate.compare`."""

    name: str = "t-test"

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.atleast_1d(paired_t_test(a, b))


TESTS: dict[str, Callable[[], SignificanceTest]] = {
    "randomization": RandomizationTest,
    "t-test": TTest,
}


def get_test(test: str | SignificanceTest) -> SignificanceTest:
    """A test object from its name (``"randomization"``, ``"t-test"``) or the object itself."""
    if not isinstance(test, str):
        return test
    if test not in TESTS:
        raise InvalidInputError(f"unknown test {test!r}; valid: {', '.join(TESTS)}")
    return TESTS[test]()


def _differences(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, bool]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[0] < 2:
        raise InvalidInputError(
            f"paired tests need two score arrays of the same shape [num_queries(>=2)] or "
            f"[num_queries, num_metrics]; got {a.shape} and {b.shape}"
        )
    diff = a - b
    return (diff[:, None], True) if diff.ndim == 1 else (diff, False)
