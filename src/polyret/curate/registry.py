"""Generation methods and filters by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polyret.curate.base import Generator
from polyret.curate.filtering import Filter
from polyret.registry import Registry

generators: Registry[Callable[..., Generator]] = Registry(
    "generator",
    {
        # no-LLM methods
        "ict": "polyret.curate.self_supervised:InverseCloze",
        "crop": "polyret.curate.self_supervised:IndependentCrop",
        "title": "polyret.curate.self_supervised:TitleQuery",
        "bitext": "polyret.curate.bitext:Bitext",
        # LLM methods
        "swim-ir": "polyret.curate.swim_ir:SwimIR",
        "gecko": "polyret.curate.gecko:Gecko",
        "promptagator": "polyret.curate.few_shot:Promptagator",
        "inpars": "polyret.curate.few_shot:InPars",
    },
)
"""Generation methods by name; each factory takes keyword options."""

filters: Registry[Callable[..., Filter]] = Registry(
    "filter",
    {
        "malformed": "polyret.curate.prompting:MalformedFilter",
        "length": "polyret.curate.quality:LengthFilter",
        "copy": "polyret.curate.quality:CopyFilter",
        "langid": "polyret.curate.quality:LanguageFilter",
        "dedup": "polyret.curate.dedup:DedupFilter",
        "consistency": "polyret.curate.consistency:ConsistencyFilter",
        "inpars-top": "polyret.curate.few_shot:InParsTopFilter",
    },
)
"""Training-data filters by name; each factory takes keyword options."""


def load_generator(name: str, **options: Any) -> Generator:
    """A generation method by name (see :data:`generators`)."""
    return generators.create(name, **options)


def load_filter(name: str, **options: Any) -> Filter:
    """A filter by name (see :data:`filters`)."""
    return filters.create(name, **options)
