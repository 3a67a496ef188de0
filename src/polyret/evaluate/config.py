""":class:`EvaluationConfig`: what ``polyret compare``, :func:`polyret.report.summarize` and
the pipeline's ``evaluate`` stage share (metrics, baseline, significance test)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from polyret.config import Config
from polyret.evaluate.evaluate import DEFAULT_METRICS
from polyret.evaluate.significance import Correction, RandomizationTest, SignificanceTest, TTest


class EvaluationConfig(Config):
    """Systems compared to a baseline on some metrics, with a paired significance test.

    Example:
        >>> EvaluationConfig(metrics=["mrr@10"], permutations=500).significance_test().permutations
        500
    """

    metrics: tuple[str, ...] = Field(
        default=DEFAULT_METRICS,
        min_length=1,
        description="Comma-separated metrics: ndcg@k, recall@k, mrr@k, map@k, p@k.",
    )
    baseline: str | None = Field(
        default=None, description="The system the others are tested against (default: the first)."
    )
    test: Literal["randomization", "t-test"] = Field(
        default="randomization", description="Significance test."
    )
    permutations: int = Field(default=10_000, ge=100, description="Randomization test draws.")
    seed: int = Field(default=0, description="Randomization test seed.")
    correction: Correction = Field(default="holm", description="Across all tests.")
    alpha: float = Field(default=0.05, gt=0, lt=1, description="Significance level.")

    def significance_test(self) -> SignificanceTest:
        """The paired test, with its settings."""
        if self.test == "t-test":
            return TTest()
        return RandomizationTest(permutations=self.permutations, seed=self.seed)
