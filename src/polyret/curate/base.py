"""The :class:`Generator` contract and what every generation method shares.

A generator turns documents into (query, positive) examples. It works one document at a
time from a random stream seeded by ``(seed, method, doc_id)``, so its output does not depend
on how the corpus is chunked, on the order of the chunks or on an interruption in between:
that is what makes :func:`polyret.curate.generate` resumable with byte-identical results.
"""

from __future__ import annotations

import hashlib
import logging
import platform
import time
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from polyret._version import __version__
from polyret.types import Corpus, Document, TrainingSet

log = logging.getLogger(__name__)


@runtime_checkable
class Generator(Protocol):
    """What every generation method offers."""

    @property
    def name(self) -> str:
        """The registered method name."""
        ...

    @property
    def config(self) -> dict[str, Any]:
        """Everything that changes the output (written into provenance and job keys)."""
        ...

    def generate(self, corpus: Corpus, *, show_progress: bool = False) -> TrainingSet:
        """Examples made from ``corpus``'s documents."""
        ...


def rng_for(seed: int, *parts: str) -> np.random.Generator:
    """A random stream that depends only on ``seed`` and ``parts`` (e.g. method, doc id)."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def example_id(method: str, source_id: str, lang: str, number: int = 0) -> str:
    """Deterministic example id: ``method:source_id:lang:number``."""
    return f"{method}:{source_id}:{lang}:{number}"


class BaseGenerator:
    """Per-document generation loop, provenance and funnel for subclasses.

    Subclasses set :attr:`name` and implement :meth:`examples_for` (one document → rows);
    LLM methods override :meth:`generate_batch` to send a chunk's requests together.

    Args:
        seed: Seed of the per-document random streams.
        options: The subclass's frozen options dataclass (recorded in provenance).
    """

    name: ClassVar[str] = "base"

    def __init__(self, options: Any, *, seed: int = 0) -> None:
        self.options = options
        self.seed = seed

    @property
    def config(self) -> dict[str, Any]:
        options = asdict(self.options)
        return {"method": self.name, "seed": self.seed, **options, **self.extra_config()}

    def extra_config(self) -> dict[str, Any]:
        """Identity of models/clients the output depends on (override when there are any)."""
        return {}

    def rng(self, doc_id: str) -> np.random.Generator:
        """The random stream of one document."""
        return rng_for(self.seed, self.name, doc_id)

    def examples_for(self, doc: Document) -> list[dict[str, Any]]:
        """Example rows made from one document."""
        raise NotImplementedError

    def generate_batch(self, docs: list[Document]) -> list[dict[str, Any]]:
        """Example rows made from a chunk of documents (default: one by one)."""
        return [row for doc in docs for row in self.examples_for(doc)]

    def generate(self, corpus: Corpus, *, show_progress: bool = False) -> TrainingSet:
        """Examples from every document of ``corpus``, with provenance and a funnel step."""
        from tqdm.auto import tqdm

        rows: list[dict[str, Any]] = []
        started = time.time()
        with tqdm(total=len(corpus), disable=not show_progress, desc=self.name) as bar:
            for chunk in corpus.batches(64):
                rows.extend(self.generate_batch(list(chunk)))
                bar.update(len(chunk))
        examples = TrainingSet.from_records(rows)
        log.info("%s: %d examples from %d documents", self.name, len(examples), len(corpus))
        return finish(examples, self, corpus, documents=len(corpus), seconds=time.time() - started)


def provenance(generator: Generator, corpus: Corpus) -> dict[str, Any]:
    """What made a generated set: method config, corpus hash, versions, host."""
    return {
        "generator": generator.config,
        "corpus": {"documents": len(corpus), "sha256": corpus.fingerprint()},
        "polyret": __version__,
        "python": platform.python_version(),
        "host": platform.node(),
    }


def finish(examples: TrainingSet, generator: Generator, corpus: Corpus, **step: Any) -> TrainingSet:
    """Attach provenance and the ``generate`` funnel step to freshly generated examples."""
    out = TrainingSet(examples.table, provenance=provenance(generator, corpus))
    return out.with_step(
        {
            "step": "generate",
            "method": generator.name,
            "kept": len(out),
            "by_lang": dict(sorted(out.languages().items())),
            **step,
        }
    )


def target_langs(langs: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Normalize a ``--langs`` value (``"de,es"``, a list or ``None``)."""
    if langs is None:
        return None
    if isinstance(langs, str):
        langs = langs.split(",")
    cleaned = tuple(lang.strip() for lang in langs if lang.strip())
    return cleaned or None
