""":class:`RerankConfig`: what the pipeline's ``rerank`` stage and ``polyret rerank`` share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from polyret.config import Config
from polyret.errors import InvalidInputError
from polyret.rerank.base import Reranker
from polyret.rerank.registry import DEFAULT_RERANKER, FAMILIES, load_reranker, rerankers


class RerankConfig(Config):
    """A registered reranker over a run's top ``k``, optionally ensembled with the run.

    Example:
        >>> RerankConfig(reranker="cross-encoder", k=20).k
        20
    """

    reranker: str = Field(
        default=DEFAULT_RERANKER, description="A registered reranker (polyret.rerank.rerankers)."
    )
    model: str | None = Field(
        default=None, description="Model name or folder (default: the reranker's own)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="More options of the reranker's factory."
    )
    k: int = Field(default=100, ge=1, description="Documents per query to rerank.")
    ensemble: bool = Field(
        default=False,
        description="Combine the first stage and the reranker with weights learned on tune_split.",
    )
    tune_split: str = Field(default="dev", description="Split the ensemble weights are fit on.")
    metric: str = Field(default="ndcg@10", description="Metric the ensemble weights maximize.")


def build_reranker(
    config: RerankConfig,
    *,
    base_url: str | None = None,
    llm_model: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    cache: Path | None = None,
    batch_size: int = 32,
    show_progress: bool = False,
) -> Reranker:
    """The reranker ``config`` names, with the runtime options its family takes
    (:data:`~polyret.rerank.registry.FAMILIES`: default model, LLM or not).

    Args:
        config: The reranker, its model and options.
        base_url: The OpenAI-compatible endpoint of an LLM reranker.
        llm_model: The model name at the endpoint (default: ``config.model``).
        api_key_env: Environment variable holding the endpoint's API key.
        cache: SQLite score cache (an LLM's answers go next to it).
        batch_size: Pairs per forward pass (cross-encoder).
        show_progress: Progress bars.

    Raises:
        InvalidInputError: an LLM reranker without ``base_url``.

    Example:
        >>> build_reranker(RerankConfig(model="hashing")).encoder.name
        'hashing'
    """
    family = FAMILIES.get(config.reranker)
    if family is None:  # a third party's reranker: its name and model, its own defaults
        rerankers.get(config.reranker)
        return load_reranker(config.reranker, *filter(None, [config.model]), **config.options)
    runtime = {"cache": cache, "show_progress": show_progress, "batch_size": batch_size}
    options = {name: runtime[name] for name in family.options} | config.options
    model: Any = config.model or family.model
    if family.llm:
        if base_url is None:
            raise InvalidInputError(
                f"{config.reranker} needs an endpoint (--base-url)", field="base_url"
            )
        from polyret.llm import OpenAIClient

        model = OpenAIClient(
            llm_model or model,
            base_url,
            api_key_env=api_key_env,
            cache=None if cache is None else cache.with_suffix(".llm.sqlite"),
        )
    return load_reranker(config.reranker, model, **options)
