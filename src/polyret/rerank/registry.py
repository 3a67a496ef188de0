"""Rerankers by name, and :func:`load_reranker`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polyret.registry import Registry
from polyret.rerank.base import Reranker

rerankers: Registry[Callable[..., Reranker]] = Registry("reranker")
"""Reranker factories by name; each takes keyword options."""

rerankers.add_lazy("bi-encoder", "polyret.rerank.bi_encoder:BiEncoderReranker")
rerankers.add_lazy("cross-encoder", "polyret.rerank.cross_encoder:CrossEncoderReranker")
rerankers.add_lazy("llm-pointwise", "polyret.rerank.llm_pointwise:LLMPointwiseReranker")
rerankers.add_lazy("llm-listwise", "polyret.rerank.llm_listwise:LLMListwiseReranker")
rerankers.add_lazy("ensemble", "polyret.rerank.ensemble:EnsembleReranker")

DEFAULT_RERANKER = "bi-encoder"
"""The offline default: no cross-encoder weights ship in any package (see MODELS.md)."""


def load_reranker(name: str = DEFAULT_RERANKER, *args: Any, **options: Any) -> Reranker:
    """A reranker by registered name.

    Example:
        >>> load_reranker("bi-encoder", "hashing", dim=16).encoder.dim
        16
    """
    return rerankers.get(name)(*args, **options)
