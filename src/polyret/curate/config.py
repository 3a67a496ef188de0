"""The configs of curation, :class:`GenerateConfig` and :class:`FilterConfig`, and what
they build: :func:`generator_from` and :func:`filters_from`.

One class each, shared by the pipeline's ``generate``/``filter`` stages and ``polyret
generate``/``polyret filter`` (both build through the functions here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from polyret.config import Config
from polyret.curate.base import Generator
from polyret.curate.filtering import Filter
from polyret.curate.registry import filters, generators
from polyret.errors import InvalidInputError
from polyret.paths import cache_root
from polyret.types import Corpus

DEFAULT_FILTERS = ("malformed", "length", "copy", "langid", "dedup")
"""The filter chain used when none is named."""


class GenerateConfig(Config):
    """A generation method (:data:`polyret.curate.generators`) over a corpus.

    Example:
        >>> GenerateConfig(method="crop", limit=10).chunk_size
        64
    """

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


class FilterSpec(Config):
    """One filter by registered name (:data:`polyret.curate.filters`), with its options."""

    name: str = Field(description="A registered filter.")
    options: dict[str, Any] = Field(default_factory=dict, description="The filter's options.")


class FilterConfig(Config):
    """Filters applied in order (each to the survivors of the previous ones)."""

    filters: list[FilterSpec] = Field(
        default_factory=lambda: [FilterSpec(name=name) for name in DEFAULT_FILTERS],
        min_length=1,
        description="The filters, in order.",
    )


def answers_cache() -> Path:
    """The default cache of LLM answers (in :func:`polyret.paths.cache_root`)."""
    return cache_root() / "llm" / "answers.sqlite"


def generator_from(
    config: GenerateConfig,
    *,
    cache: str | Path | None = None,
    llm_options: Mapping[str, Any] | None = None,
) -> Generator:
    """The generation method ``config`` names, with ``seed`` and (for LLM methods) a client
    of ``config.llm``.

    Args:
        config: The method, its options, the LLM and the seed.
        cache: SQLite cache of the LLM's answers (its folder is created).
        llm_options: More :func:`polyret.llm.client_from` options (``api_key_env``,
            ``max_concurrency``).

    Raises:
        InvalidInputError: an option the method does not take.

    Example:
        >>> generator_from(GenerateConfig(method="crop", seed=3)).name
        'crop'
    """
    options = {**config.options, "seed": config.seed}
    if config.llm is not None:
        from polyret.llm import client_from

        if cache is not None:
            Path(cache).parent.mkdir(parents=True, exist_ok=True)
        options["llm"] = client_from(
            config.llm, config.llm_model, cache=cache, **dict(llm_options or {})
        )
    return _build(generators.get(config.method), "generator", config.method, options)


def filters_from(
    config: FilterConfig, corpus: Corpus | Callable[[], Corpus] | None = None
) -> list[Filter]:
    """The filters ``config`` names, in order; a consistency filter given no corpus, index
    or retriever of its own retrieves from ``corpus`` (read only then, when a callable).

    Raises:
        InvalidInputError: an option a filter does not take; a consistency filter with
            nothing to retrieve from.

    Example:
        >>> [f.name for f in filters_from(FilterConfig())]
        ['malformed', 'length', 'copy', 'langid', 'dedup']
    """
    chain = []
    for spec in config.filters:
        options = dict(spec.options)
        if spec.name == "consistency" and not {"corpus", "index", "retriever"} & set(options):
            if corpus is None:
                raise InvalidInputError("the consistency filter needs a corpus", field="corpus")
            options["corpus"] = corpus() if callable(corpus) else corpus
        chain.append(_build(filters.get(spec.name), "filter", spec.name, options))
    return chain


def _build(factory: Callable[..., Any], kind: str, name: str, options: dict[str, Any]) -> Any:
    """Call a registry factory, turning an unknown keyword into an error naming the option."""
    try:
        return factory(**options)
    except TypeError as error:
        if "keyword argument" not in str(error):
            raise
        raise InvalidInputError(f"{kind} {name!r}: {error}", field="option") from None
