"""Translation pairs as training examples for cross-lingual alignment.

A parallel collection in BEIR layout (such as the Tatoeba folders: queries are sentences in
one language, the corpus their translations, qrels link each sentence to its translation)
already holds (query, positive) pairs: a sentence and its translation. Training a
multilingual encoder on them pulls translations together, the alignment signal of LaBSE
and of multilingual knowledge distillation.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from polyret.curate.base import BaseGenerator, example_id
from polyret.errors import InvalidInputError
from polyret.types import Corpus, Dataset, Document, Qrels, Queries

__all__ = ["Bitext", "BitextOptions"]


@dataclass(frozen=True)
class BitextOptions:
    """Options of :class:`Bitext` (see there)."""

    source: str = ""
    split: tuple[str, ...] | None = None
    min_relevance: int = 1


@dataclass(frozen=True, slots=True)
class _Pair:
    query_id: str
    text: str
    lang: str
    split: str
    relevance: int


class Bitext(BaseGenerator):
    """(sentence, its translation) pairs read from a parallel collection.

    The pairs come from a collection's queries and qrels; the translations are the
    documents of the corpus given to :meth:`generate`: every document judged relevant to
    some query yields one example per such query, with the query sentence as the query and
    the document as the positive (``positive_id`` and ``source_id`` = the document,
    ``meta`` naming the query id and split). Generating per document keeps the contract of
    every generator: the output does not depend on how the corpus is chunked, and a corpus
    that holds only some of the translations yields only their pairs.

    Args:
        source: A BEIR folder or catalogue name (:func:`polyret.datasets.load`) or a loaded
            :class:`~polyret.types.Dataset`; or ``None`` with ``queries`` and ``qrels``.
        queries: The sentences (when there is no ``source``).
        qrels: Sentence id → translation doc id (when there is no ``source``); a mapping of
            split name → :class:`~polyret.types.Qrels` or one ``Qrels``.
        split: Only the pairs of these qrels splits (one name or several; default all).
        min_relevance: Smallest relevance that counts as a translation.
        seed: Unused (the method has no randomness); kept for a uniform config.

    Raises:
        InvalidInputError: no source and no queries/qrels, an unknown split, or qrels that
            name a query missing from ``queries``.

    Example:
        >>> from polyret.types import Corpus, Qrels, Queries
        >>> bitext = Bitext(
        ...     queries=Queries.from_dict({"deu_1": "Ich habe Hunger."}, lang="deu"),
        ...     qrels=Qrels.from_dict({"deu_1": {"eng_1": 1}}))
        >>> corpus = Corpus.from_records([{"id": "eng_1", "text": "I am hungry.", "lang": "eng"}])
        >>> [(e.query, e.positive, e.lang) for e in bitext.generate(corpus)]
        [('Ich habe Hunger.', 'I am hungry.', 'deu')]

    References:
        Feng, Yang, Cer, Arivazhagan and Wang. Language-agnostic BERT Sentence Embedding
        (LaBSE), ACL 2022, arXiv 2007.01852.
        Reimers and Gurevych. Making Monolingual Sentence Embeddings Multilingual using
        Knowledge Distillation, EMNLP 2020, arXiv 2004.09813.
        Artetxe and Schwenk. Massively Multilingual Sentence Embeddings for Zero-Shot
        Cross-Lingual Transfer and Beyond (the Tatoeba test set), TACL 2019,
        arXiv 1812.10464.
    """

    name: ClassVar[str] = "bitext"

    def __init__(
        self,
        source: str | Path | Dataset | None = None,
        *,
        queries: Queries | None = None,
        qrels: Qrels | Mapping[str, Qrels] | None = None,
        split: str | Iterable[str] | None = None,
        min_relevance: int = 1,
        seed: int = 0,
    ) -> None:
        dataset: Dataset | None = None
        if source is not None:
            if isinstance(source, Dataset):
                dataset = source
            else:
                from polyret.datasets import load

                dataset = load(str(source))
            queries, qrels = dataset.queries, dataset.qrels
        if queries is None or qrels is None:
            raise InvalidInputError(
                "Bitext needs a source (BEIR folder, catalogue name or Dataset) or both "
                "queries and qrels",
                field="source",
            )
        splits = {"all": qrels} if isinstance(qrels, Qrels) else dict(qrels)
        wanted = None if split is None else ((split,) if isinstance(split, str) else tuple(split))
        if wanted is not None:
            unknown = [s for s in wanted if s not in splits]
            if unknown:
                raise InvalidInputError(
                    f"no qrels split {unknown[0]!r} (splits: {', '.join(sorted(splits))})",
                    field="split",
                )
            splits = {s: splits[s] for s in wanted}
        label = (
            dataset.name
            if isinstance(source, Dataset) and dataset is not None
            else (str(source) if source is not None else "")
        )
        super().__init__(BitextOptions(label, wanted, min_relevance), seed=seed)
        self._dataset = dataset
        self._pairs = _pairs_by_document(queries, splits, min_relevance)

    @property
    def corpus(self) -> Corpus | None:
        """The source collection's corpus (the translations), when built from a dataset."""
        return None if self._dataset is None else self._dataset.corpus

    @property
    def num_pairs(self) -> int:
        """Number of (sentence, translation) pairs known."""
        return sum(len(pairs) for pairs in self._pairs.values())

    def extra_config(self) -> dict[str, Any]:
        """The pairs' fingerprint: a changed collection changes the job identity."""
        digest = hashlib.sha256()
        for doc_id in sorted(self._pairs):
            for pair in self._pairs[doc_id]:
                line = [doc_id, pair.query_id, pair.text, pair.lang, pair.split, pair.relevance]
                digest.update(json.dumps(line, ensure_ascii=False).encode("utf-8"))
        return {"pairs": self.num_pairs, "pairs_sha256": digest.hexdigest()}

    def examples_for(self, doc: Document) -> list[dict[str, Any]]:
        return [
            {
                "id": example_id(self.name, doc.id, pair.lang, number),
                "query": pair.text,
                "lang": pair.lang,
                "positive_id": doc.id,
                "positive": doc.text,
                "positive_lang": doc.lang,
                "source_id": doc.id,
                "method": self.name,
                "meta": json.dumps(
                    {"query_id": pair.query_id, "split": pair.split, "relevance": pair.relevance},
                    ensure_ascii=False,
                    sort_keys=True,
                ),
            }
            for number, pair in enumerate(self._pairs.get(doc.id, ()))
        ]


def _pairs_by_document(
    queries: Queries, splits: Mapping[str, Qrels], min_relevance: int
) -> dict[str, list[_Pair]]:
    """Translation doc id → its sentences, ordered by query id then split (deterministic)."""
    by_doc: dict[str, dict[str, _Pair]] = defaultdict(dict)
    for split_name in sorted(splits):
        for query_id, judged in splits[split_name].items():
            if query_id not in queries:
                raise InvalidInputError(
                    f"qrels split {split_name!r} names query {query_id!r}, which is not among "
                    "the queries",
                    field="query-id",
                )
            query = queries[query_id]
            for doc_id, relevance in judged.items():
                if int(relevance) < min_relevance or query_id in by_doc[doc_id]:
                    continue
                by_doc[doc_id][query_id] = _Pair(
                    query_id, query.text, query.lang, split_name, int(relevance)
                )
    return {doc: [pairs[q] for q in sorted(pairs)] for doc, pairs in by_doc.items()}
