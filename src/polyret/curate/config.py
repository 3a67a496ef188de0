"""The configs of curation: :class:`GenerateConfig` and :class:`FilterConfig`.

One class each, shared by the pipeline's ``generate``/``filter`` stages and ``polyret
generate``/``polyret filter``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polyret.types import Corpus

DEFAULT_FILTERS = ("malformed", "length", "copy", "langid", "dedup")
"""The filter chain used when none is named."""


class GenerateConfig(BaseModel):
    """A generation method (:data:`polyret.curate.generators`) over a corpus.

    Example:
        >>> GenerateConfig(method="crop", limit=10).chunk_size
        64
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str = Field(description="A registered generation method.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the method's factory."
    )
    llm: str | None = Field(
        default=None,
        description="LLM methods: an OpenAI-compatible URL (with the model) or a local model.",
    )
    llm_model: str | None = Field(default=None, description="Model name served at the LLM URL.")
    langs: list[str] | None = Field(
        default=None, description="Only documents in these languages (e.g. de,es)."
    )
    limit: int | None = Field(
        default=None, ge=1, description="Only the first N documents (after the languages)."
    )
    chunk_size: int = Field(default=64, ge=1, description="Documents per checkpointed shard.")
    seed: int = Field(default=0, description="Seed of the per-document random streams.")

    def documents(self, corpus: Corpus) -> Corpus:
        """The documents generated from: those in ``langs``, the first ``limit`` of them."""
        if self.langs:
            corpus = corpus.filter(lang=self.langs)
        if self.limit is not None:
            corpus = corpus.take(range(min(self.limit, len(corpus))))
        return corpus


class FilterSpec(BaseModel):
    """One filter by registered name (:data:`polyret.curate.filters`), with its options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="A registered filter.")
    options: dict[str, Any] = Field(default_factory=dict, description="The filter's options.")


class FilterConfig(BaseModel):
    """Filters applied in order (each to the survivors of the previous ones)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filters: list[FilterSpec] = Field(
        default_factory=lambda: [FilterSpec(name=name) for name in DEFAULT_FILTERS],
        min_length=1,
        description="The filters, in order.",
    )
