"""Evaluation: trec_eval-compatible metrics, per-language reports, significance tests."""

from polyret.evaluate.comparison import Comparison, ComparisonRow, compare
from polyret.evaluate.config import EvaluationConfig
from polyret.evaluate.evaluate import DEFAULT_METRICS, evaluate, query_langs
from polyret.evaluate.labels import run_labels
from polyret.evaluate.metrics import Metric, QueryScores, compute_metrics, parse_metrics
from polyret.evaluate.report import Report
from polyret.evaluate.significance import (
    RandomizationTest,
    TTest,
    adjust_p_values,
    paired_t_test,
    randomization_test,
)

__all__ = [
    "DEFAULT_METRICS",
    "Comparison",
    "ComparisonRow",
    "EvaluationConfig",
    "Metric",
    "QueryScores",
    "RandomizationTest",
    "Report",
    "TTest",
    "adjust_p_values",
    "compare",
    "compute_metrics",
    "evaluate",
    "paired_t_test",
    "parse_metrics",
    "query_langs",
    "randomization_test",
    "run_labels",
]
