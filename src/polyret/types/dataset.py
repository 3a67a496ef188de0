"""A named retrieval collection: one corpus, its queries and qrels per split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from polyret.errors import InvalidInputError
from polyret.types.collection import Corpus, Queries
from polyret.types.ranking import Qrels


@dataclass(frozen=True)
class Dataset:
    """Corpus + queries + qrels per split (``dev``, ``test``, ...), BEIR style.

    Queries of every split live in one :class:`Queries`; :meth:`split` picks the ones a
    split judges.
    """

    name: str
    corpus: Corpus
    queries: Queries
    qrels: Mapping[str, Qrels]
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def splits(self) -> list[str]:
        """Split names, sorted."""
        return sorted(self.qrels)

    def split(self, name: str) -> tuple[Queries, Qrels]:
        """Queries judged in split ``name`` and that split's qrels.

        Raises:
            InvalidInputError: when the split does not exist.
        """
        if name not in self.qrels:
            raise InvalidInputError(
                f"dataset {self.name!r} has no split {name!r} (splits: {', '.join(self.splits)})",
                field="split",
            )
        qrels = self.qrels[name]
        return self.queries.filter(ids=qrels.query_ids.tolist()), qrels

    def stats(self) -> dict[str, Any]:
        """Sizes overall, per split and per language."""
        return {
            "name": self.name,
            "documents": len(self.corpus),
            "queries": len(self.queries),
            "documents_per_lang": dict(sorted(self.corpus.languages().items())),
            "queries_per_lang": dict(sorted(self.queries.languages().items())),
            "splits": {
                s: {"queries": len(q), "judgments": q.num_entries}
                for s, q in sorted(self.qrels.items())
            },
        }
