"""Evaluation: trec_eval-compatible metrics, per-language reports, significance tests."""

from polyret.evaluate.evaluate import DEFAULT_METRICS, evaluate, query_langs
from polyret.evaluate.metrics import Metric, QueryScores, compute_metrics, parse_metrics
from polyret.evaluate.report import Report

__all__ = [
    "DEFAULT_METRICS",
    "Metric",
    "QueryScores",
    "Report",
    "compute_metrics",
    "evaluate",
    "parse_metrics",
    "query_langs",
]
