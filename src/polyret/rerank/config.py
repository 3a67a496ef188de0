""":class:`RerankConfig`: what the pipeline's ``rerank`` stage and ``polyret rerank`` share."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polyret.rerank.registry import DEFAULT_RERANKER


class RerankConfig(BaseModel):
    """A registered reranker over a run's top ``k``, optionally ensembled with the run.

    Example:
        >>> RerankConfig(reranker="cross-encoder", k=20).k
        20
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

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
