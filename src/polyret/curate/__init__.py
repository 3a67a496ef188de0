"""Label-free training data: query generation methods, filters and the curation funnel."""

from polyret.curate.base import BaseGenerator, Generator, example_id, rng_for
from polyret.curate.config import (
    DEFAULT_FILTERS,
    FilterConfig,
    FilterSpec,
    GenerateConfig,
    answers_cache,
    filters_from,
    generator_from,
)
from polyret.curate.filtering import Filter, Verdict, apply_filters
from polyret.curate.registry import filters, generators, load_filter, load_generator
from polyret.curate.runner import generate

__all__ = [
    "DEFAULT_FILTERS",
    "BaseGenerator",
    "Filter",
    "FilterConfig",
    "FilterSpec",
    "GenerateConfig",
    "Generator",
    "Verdict",
    "answers_cache",
    "apply_filters",
    "example_id",
    "filters",
    "filters_from",
    "generate",
    "generator_from",
    "generators",
    "load_filter",
    "load_generator",
    "rng_for",
]
