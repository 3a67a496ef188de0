"""Generation methods and filters by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polyret.curate.base import Generator
from polyret.curate.filtering import Filter
from polyret.registry import Registry

generators: Registry[Callable[..., Generator]] = Registry("generator")
"""Generation methods by name; each factory takes keyword options."""

filters: Registry[Callable[..., Filter]] = Registry("filter")
"""Training-data filters by name; each factory takes keyword options."""

# no-LLM methods
generators.add_lazy("ict", "polyret.curate.self_supervised:InverseCloze")
generators.add_lazy("crop", "polyret.curate.self_supervised:IndependentCrop")
generators.add_lazy("title", "polyret.curate.self_supervised:TitleQuery")
generators.add_lazy("bitext", "polyret.curate.bitext:Bitext")
# LLM methods
generators.add_lazy("swim-ir", "polyret.curate.swim_ir:SwimIR")
generators.add_lazy("gecko", "polyret.curate.gecko:Gecko")
generators.add_lazy("promptagator", "polyret.curate.few_shot:Promptagator")
generators.add_lazy("inpars", "polyret.curate.few_shot:InPars")

filters.add_lazy("malformed", "polyret.curate.prompting:MalformedFilter")
filters.add_lazy("length", "polyret.curate.quality:LengthFilter")
filters.add_lazy("copy", "polyret.curate.quality:CopyFilter")
filters.add_lazy("langid", "polyret.curate.quality:LanguageFilter")
filters.add_lazy("dedup", "polyret.curate.dedup:DedupFilter")
filters.add_lazy("consistency", "polyret.curate.consistency:ConsistencyFilter")
filters.add_lazy("inpars-top", "polyret.curate.few_shot:InParsTopFilter")


def load_generator(name: str, **options: Any) -> Generator:
    """A generation method by name (see :data:`generators`)."""
    return generators.get(name)(**options)


def load_filter(name: str, **options: Any) -> Filter:
    """A filter by name (see :data:`filters`)."""
    return filters.get(name)(**options)
