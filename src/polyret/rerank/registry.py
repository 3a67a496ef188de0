"""Rerankers by name, and :func:`load_reranker`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polyret.models.catalogue import DEFAULT_MODEL
from polyret.registry import Registry
from polyret.rerank.base import Reranker

rerankers: Registry[Callable[..., Reranker]] = Registry(
    "reranker",
    {
        "bi-encoder": "polyret.rerank.bi_encoder:BiEncoderReranker",
        "cross-encoder": "polyret.rerank.cross_encoder:CrossEncoderReranker",
        "llm-pointwise": "polyret.rerank.llm_pointwise:LLMPointwiseReranker",
        "llm-listwise": "polyret.rerank.llm_listwise:LLMListwiseReranker",
        "late-interaction": "polyret.rerank.late_interaction:LateInteractionReranker",
        "ensemble": "polyret.rerank.ensemble:EnsembleReranker",
    },
)
"""Reranker factories by name; each takes keyword options."""

DEFAULT_RERANKER = "bi-encoder"
"""The offline default: no cross-encoder weights ship in any package (see MODELS.md)."""


@dataclass(frozen=True)
class RerankerFamily:
    """What a command line needs to know to build a built-in reranker.

    Args:
        model: The model used when none is named.
        llm: The reranker's model is an LLM client (built from an endpoint).
        options: The runtime options its factory takes (``cache``, ``show_progress``,
            ``batch_size``).
    """

    model: str | None
    llm: bool
    options: tuple[str, ...]


FAMILIES: dict[str, RerankerFamily] = {
    "bi-encoder": RerankerFamily(DEFAULT_MODEL, False, ("cache", "show_progress")),
    "cross-encoder": RerankerFamily(DEFAULT_MODEL, False, ("cache", "show_progress", "batch_size")),
    "late-interaction": RerankerFamily(DEFAULT_MODEL, False, ("cache", "show_progress")),
    "llm-pointwise": RerankerFamily(None, True, ("cache", "show_progress")),
    "llm-listwise": RerankerFamily(None, True, ("show_progress",)),
}
"""The per-reranker defaults of the built-in families (one table; ``polyret rerank`` reads it)."""


def load_reranker(name: str = DEFAULT_RERANKER, *args: Any, **options: Any) -> Reranker:
    """A reranker by registered name.

    Example:
        >>> load_reranker("bi-encoder", "hashing", dim=16).encoder.dim
        16
    """
    return rerankers.create(name, *args, **options)
