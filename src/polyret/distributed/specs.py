"""Picklable recipes for the models a Ray actor loads once, in its own process.

Loaded models (an ONNX session, an LLM client with an open cache) do not travel between
processes; a spec does, and each actor calls it once in its constructor. Any zero-argument
callable returning the object works in its place (Ray pickles it with cloudpickle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from polyret.curate.config import GenerateConfig

T = TypeVar("T")
Factory = Callable[[], T]


@dataclass(frozen=True)
class EncoderSpec:
    """:func:`polyret.encode.load_encoder` arguments: a registered name or a model folder."""

    encoder: str
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> Any:
        from polyret.encode import load_encoder

        return load_encoder(self.encoder, **self.options)


@dataclass(frozen=True)
class RerankerSpec:
    """:func:`polyret.rerank.load_reranker` arguments."""

    reranker: str
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> Any:
        from polyret.rerank import load_reranker

        return load_reranker(self.reranker, *([self.model] if self.model else []), **self.options)


@dataclass(frozen=True)
class GeneratorSpec:
    """:func:`polyret.curate.generator_from` arguments: the LLM client is built per actor.

    Args:
        config: The generation method, its options, LLM and seed.
        llm_cache: The answers cache (SQLite; shared by the actors of one machine).
        llm_options: More :func:`polyret.llm.client_from` options (``max_concurrency``:
            requests one actor keeps in flight, ``api_key_env``).
    """

    config: GenerateConfig
    llm_cache: str | None = None
    llm_options: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> Any:
        from polyret.curate import generator_from

        return generator_from(self.config, cache=self.llm_cache, llm_options=self.llm_options)
