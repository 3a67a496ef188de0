"""Round-trip consistency: a generated query must retrieve its own positive.

A query that a retriever cannot lead back to the passage it was written for is often too
vague, off-topic or about something else in the passage. Keeping only the queries whose
positive ranks in the top ``k`` is the round-trip filter of Alberti et al. (2019), used by
Promptagator, SWIM-IR and, as a relabelling step, Gecko.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

from polyret.curate.filtering import Verdict
from polyret.errors import InvalidInputError
from polyret.types import Corpus, Queries, Run, TrainingSet

__all__ = ["ConsistencyFilter", "Searcher", "keep_rate_by_lang"]

log = logging.getLogger(__name__)


@runtime_checkable
class Searcher(Protocol):
    """Anything that ranks documents for queries (BM25, Dense, a fused pipeline)."""

    def search(self, queries: Queries, k: int = ...) -> Run: ...


@dataclass(frozen=True)
class ConsistencyOptions:
    """Options of :class:`ConsistencyFilter` (see there)."""

    k: int = 10
    missing: Literal["keep", "drop"] = "keep"
    exclude_source: bool = True
    retriever: str = ""


class ConsistencyFilter:
    """Keep a row only if its query retrieves its ``positive_id`` within the top ``k``.

    The queries (with their rows' languages) are searched in one batch. The retriever is
    any object with ``search(queries, k) -> Run``: pass it as ``retriever``; or give
    ``index``, the folder of a saved BM25 or dense index
    (:func:`polyret.retrieve.load_index`); or give ``corpus`` (a
    :class:`~polyret.types.Corpus`, a catalogue name, a BEIR folder or a corpus file) and a
    :class:`~polyret.retrieve.BM25` index is built over it with ``bm25`` options.

    When a row's ``source_id`` differs from its ``positive_id`` (an ICT neighbour pair, a
    Gecko relabelled positive), the source document is not counted as a competitor with
    ``exclude_source`` (default): the ICT query sentence is itself a corpus document and
    would always take rank 1. Rows without a ``positive_id`` (a crop or ICT context that is
    no corpus document) cannot be checked: ``missing="keep"`` keeps them, ``"drop"`` drops
    them (``"no positive document"``). Dropped rows get ``"positive not in top-k"``.
    :func:`keep_rate_by_lang` turns a verdict into the keep-rate per language.

    Args:
        retriever: An object with ``search(queries, k) -> Run``.
        index: Folder of a saved index (instead of ``retriever``).
        corpus: Documents to build a BM25 index over (instead of ``retriever``).
        k: Depth at which the positive must appear.
        missing: What to do with rows that have no ``positive_id``.
        exclude_source: Skip a row's own source document in its ranking.
        bm25: Options of the BM25 built over ``corpus`` (:class:`~polyret.retrieve.BM25Config`).

    Raises:
        InvalidInputError: none or several of ``retriever``, ``index``, ``corpus``, or a
            bad option.

    Example:
        >>> from polyret.types import Corpus, TrainingSet
        >>> corpus = Corpus.from_records([
        ...     {"id": "d1", "text": "Der Rhein fließt in die Nordsee.", "lang": "de"},
        ...     {"id": "d2", "text": "Die Donau fließt ins Schwarze Meer.", "lang": "de"}])
        >>> ts = TrainingSet.from_records([
        ...     {"id": "e1", "query": "Rhein Nordsee", "lang": "de", "positive_id": "d1",
        ...      "positive": "Der Rhein fließt in die Nordsee."},
        ...     {"id": "e2", "query": "Schwarzes Meer", "lang": "de", "positive_id": "d1",
        ...      "positive": "Der Rhein fließt in die Nordsee."}])
        >>> ConsistencyFilter(corpus=corpus, k=1).judge(ts).reasons
        ['', 'positive not in top-1']

    References:
        Alberti, Andor, Pitler, Devlin and Collins. Synthetic QA Corpora Generation with
        Roundtrip Consistency, ACL 2019, arXiv 1906.05416.
        Dai et al. Promptagator: Few-shot Dense Retrieval From 8 Examples, ICLR 2023,
        arXiv 2209.11755.
        Thakur et al. SWIM-IR, NAACL 2024, arXiv 2311.05800.
    """

    name: ClassVar[str] = "consistency"

    def __init__(
        self,
        retriever: Searcher | None = None,
        *,
        index: str | Path | None = None,
        corpus: Corpus | str | Path | None = None,
        k: int = 10,
        missing: Literal["keep", "drop"] = "keep",
        exclude_source: bool = True,
        bm25: Mapping[str, Any] | None = None,
    ) -> None:
        given = [
            name
            for name, v in (("retriever", retriever), ("index", index), ("corpus", corpus))
            if v is not None
        ]
        if len(given) != 1:
            raise InvalidInputError(
                "ConsistencyFilter needs exactly one of retriever, index or corpus"
                + (f" (got {', '.join(given)})" if given else ""),
                field="retriever",
            )
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}", field="k")
        if missing not in ("keep", "drop"):
            raise InvalidInputError(
                f"missing must be 'keep' or 'drop', got {missing!r}", field="missing"
            )
        if retriever is not None:
            if not hasattr(retriever, "search"):
                raise InvalidInputError(
                    f"retriever {type(retriever).__name__} has no search(queries, k) method",
                    field="retriever",
                )
            self.retriever: Searcher = retriever
            label = _describe(retriever)
        elif index is not None:
            from polyret.retrieve import load_index

            self.retriever = load_index(index)
            label = f"index:{index}"
        else:
            self.retriever, label = _bm25_over(corpus, dict(bm25 or {}))
        self.options = ConsistencyOptions(k, missing, exclude_source, label)

    @property
    def config(self) -> dict[str, Any]:
        return {
            "filter": self.name,
            "k": self.options.k,
            "missing": self.options.missing,
            "exclude_source": self.options.exclude_source,
            "retriever": self.options.retriever,
        }

    def ranks(self, examples: TrainingSet) -> list[int | None]:
        """Per row: the 1-based rank of its positive (``None``: not in the top ``k``,
        0: the row has no ``positive_id``)."""
        ids = examples.ids
        positives = examples.column("positive_id")
        sources = examples.column("source_id")
        rows = [i for i, pid in enumerate(positives) if pid]
        out: list[int | None] = [0] * len(ids)
        if not rows:
            return out
        queries = Queries.from_records(
            {"id": ids[i], "text": query, "lang": lang} for i, query, lang in _rows(examples, rows)
        )
        extra = 1 if self.options.exclude_source else 0
        run = self.retriever.search(queries, k=self.options.k + extra)
        if not isinstance(run, Run):  # a plain dict of dicts: put it in rank order
            run = Run.from_dict(run)
        for i in rows:
            ranking = list(run[ids[i]]) if ids[i] in run else []
            skip = (
                sources[i] if self.options.exclude_source and sources[i] != positives[i] else None
            )
            ranking = [d for d in ranking if d != skip][: self.options.k]
            out[i] = ranking.index(positives[i]) + 1 if positives[i] in ranking else None
        return out

    def judge(self, examples: TrainingSet) -> Verdict:
        reasons = []
        for rank in self.ranks(examples):
            if rank == 0:
                reasons.append("no positive document" if self.options.missing == "drop" else "")
            elif rank is None:
                reasons.append(f"positive not in top-{self.options.k}")
            else:
                reasons.append("")
        verdict = Verdict.from_reasons(reasons)
        rates = keep_rate_by_lang(examples, verdict)
        log.info(
            "consistency@%d keep-rate by language: %s",
            self.options.k,
            ", ".join(f"{lang} {rate:.3f}" for lang, rate in rates.items()),
        )
        return verdict


def keep_rate_by_lang(examples: TrainingSet, verdict: Verdict) -> dict[str, float]:
    """Share of rows kept per query language (sorted by language).

    Example:
        >>> import numpy as np
        >>> ts = TrainingSet.from_records([{"id": str(i), "query": "q", "positive": "p",
        ...     "lang": lang} for i, lang in enumerate(["de", "de", "zh"])])
        >>> keep_rate_by_lang(ts, Verdict(np.array([True, False, True]), ["", "x", ""]))
        {'de': 0.5, 'zh': 1.0}
    """
    langs = examples.column("lang")
    total = Counter(langs)
    kept = Counter(lang for lang, keep in zip(langs, np.asarray(verdict.keep), strict=True) if keep)
    return {lang: kept[lang] / total[lang] for lang in sorted(total)}


def _rows(examples: TrainingSet, rows: list[int]) -> list[tuple[int, str, str]]:
    queries = examples.column("query")
    langs = examples.column("lang")
    return [(i, queries[i], langs[i]) for i in rows]


def _describe(retriever: object) -> str:
    config = getattr(retriever, "config", None)
    return (
        f"{type(retriever).__name__}({config!r})"
        if config is not None
        else type(retriever).__name__
    )


def _bm25_over(corpus: Corpus | str | Path | None, options: dict[str, Any]) -> tuple[Searcher, str]:
    from polyret.retrieve import BM25

    if isinstance(corpus, Corpus):
        documents, label = corpus, f"bm25:corpus sha256 {corpus.fingerprint()[:16]}"
    else:
        from polyret.datasets import corpus_from

        documents, label = corpus_from(str(corpus)), f"bm25:{corpus}"
    if options:
        label += f" {sorted(options.items())}"
    return BM25(**options).index(documents), label
