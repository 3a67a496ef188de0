"""Self-supervised pairs from raw documents: inverse cloze, independent cropping, titles.

These methods need no model and no label. They make (query, positive) pairs out of the
structure of the text itself and are the usual pre-training signal for retrievers (ORQA,
Contriever, E5's weak pairs). Every choice is drawn from the document's own random stream
(:meth:`~polyret.curate.BaseGenerator.rng`), so the output does not depend on chunking.

Sentence splitting (:func:`polyret.text.sentences.split_sentences`) and cropping are
language-aware: crops of Chinese, Japanese and Thai text count characters, not whitespace
words (:func:`polyret.text.scripts.uses_characters`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import regex

from polyret.curate.base import BaseGenerator, example_id, finish
from polyret.errors import InvalidInputError
from polyret.text.langcodes import canonical_lang
from polyret.text.scripts import uses_characters
from polyret.text.sentences import split_sentences
from polyret.types import Corpus, Document, TrainingSet

__all__ = [
    "CropOptions",
    "ICTOptions",
    "IndependentCrop",
    "InverseCloze",
    "TitleOptions",
    "TitleQuery",
]

#: Languages whose sentences are joined without a space when a context is rebuilt.
_NO_SPACE_JOIN = frozenset({"zh", "ja", "yue", "wuu"})

_SPACE = re.compile(r"\S+")
_GRAPHEME = regex.compile(r"(?=\S)\X")  # a user-perceived character (base + its marks)


def _units(text: str, unit: str, lang: str) -> tuple[str, list[tuple[int, int]]]:
    """The unit (``"word"``/``"char"``) and the spans of the crop units of ``text``."""
    if unit == "auto":
        unit = "char" if uses_characters(text, lang) else "word"
    pattern = _GRAPHEME if unit == "char" else _SPACE
    return unit, [m.span() for m in pattern.finditer(text)]


def _meta(**values: Any) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _join(pieces: Sequence[str], lang: str) -> str:
    return ("" if canonical_lang(lang) in _NO_SPACE_JOIN else " ").join(pieces)


# ---------------------------------------------------------------------------------- ICT
@dataclass(frozen=True)
class ICTOptions:
    """Options of :class:`InverseCloze` (see there)."""

    per_doc: int = 1
    keep_sentence_prob: float = 0.1
    min_sentences: int = 2
    group_by: str | None = None
    positive: Literal["auto", "context", "neighbour"] = "auto"
    window: int = 1

    def __post_init__(self) -> None:
        if self.per_doc < 1:
            raise InvalidInputError(f"per_doc must be >= 1, got {self.per_doc}", field="per_doc")
        if not 0.0 <= self.keep_sentence_prob <= 1.0:
            raise InvalidInputError(
                f"keep_sentence_prob must lie in [0, 1], got {self.keep_sentence_prob}",
                field="keep_sentence_prob",
            )
        if self.min_sentences < 2:
            raise InvalidInputError(
                f"min_sentences must be >= 2, got {self.min_sentences}", field="min_sentences"
            )
        if self.positive not in ("auto", "context", "neighbour"):
            raise InvalidInputError(
                f"positive must be 'auto', 'context' or 'neighbour', got {self.positive!r}",
                field="positive",
            )
        if self.window < 1:
            raise InvalidInputError(f"window must be >= 1, got {self.window}", field="window")
        if self.group_by is not None:
            try:
                pattern = re.compile(self.group_by)
            except re.error as error:
                raise InvalidInputError(f"bad group_by regex: {error}", field="group_by") from None
            if pattern.groups < 1:
                raise InvalidInputError(
                    "group_by needs a capturing group (the passage key), e.g. r'^(.*)_s\\d+$'",
                    field="group_by",
                )

    @property
    def positive_kind(self) -> str:
        """``positive`` with ``"auto"`` resolved: neighbour when grouping, else context."""
        if self.positive != "auto":
            return self.positive
        return "neighbour" if self.group_by else "context"


@dataclass(frozen=True)
class _Sentence:
    text: str
    span: tuple[int, int] | None  # in the document (document mode)
    doc_id: str  # the corpus document holding it (group mode) or ""


class InverseCloze(BaseGenerator):
    """Inverse cloze task (ICT): a sentence as the query, its context as the positive.

    **Document mode** (default) follows ORQA: each document is split into sentences
    (:func:`split_sentences`); ``per_doc`` distinct sentences become queries, and the
    positive is the document with that sentence removed, except with probability
    ``keep_sentence_prob`` (0.1 in the paper) where the sentence stays in, so the encoder
    also learns plain word matching. Documents with fewer than ``min_sentences`` sentences
    yield nothing. The positive is no corpus document (``positive_id`` is ``""``) unless the
    sentence was kept, in which case it is the document's text and ``positive_id`` its id.

    **Group mode** (``group_by`` = a regex whose first group is a passage key) is for
    sentence-level corpora such as the embedded ``xquad-r``, whose ids
    ``de_a00_p02_s01`` name sentence 1 of paragraph 2: documents sharing a key form one
    passage, in corpus order, and every sentence-document of a passage with at least
    ``min_sentences`` sentences is a query. Its positive is then, by default
    (``positive="neighbour"``), a sentence-document within ``window`` positions of it,
    with ``positive_id`` set: the pair stays inside the corpus's own unit (one sentence),
    so it can be checked for round-trip consistency and hard negatives can be mined for
    it, which a paragraph-sized ICT context would not allow. This is the neighbouring-
    sentence signal of Chang et al.'s pre-training tasks (ICT's local counterpart to their
    body-first-selection); ``positive="context"`` instead gives the ORQA positive, the
    passage without the sentence (kept with ``keep_sentence_prob``). In group mode the
    ``source_id`` is the query's own document: it is in the corpus too, and miners should
    not take it as a negative. A passage is only complete when all its sentences are in
    the corpus given to :meth:`generate`: with the resumable runner choose a
    ``chunk_size`` that does not cut passages, or generate in memory.

    Args:
        seed: Seed of the per-document random streams.
        per_doc: Queries per document (document mode) or positives per query sentence
            (neighbour positives; distinct neighbours while there are any).
        keep_sentence_prob: Probability that the query sentence stays in its context.
        min_sentences: Fewest sentences a document (or passage) needs (at least 2).
        group_by: Regex over document ids; its first group names the passage.
        positive: ``"context"`` (the text without the sentence), ``"neighbour"`` (an
            adjacent sentence) or ``"auto"`` (neighbour when ``group_by`` is set).
        window: How far (in sentences) a neighbour positive may be from the query.

    Example:
        >>> from polyret.types import Corpus
        >>> corpus = Corpus.from_records([{"id": "d1", "lang": "en",
        ...     "text": "The Rhine flows north. It ends in the North Sea. Boats use it."}])
        >>> [(e.query, e.positive) for e in InverseCloze(seed=1).generate(corpus)]
        [('Boats use it.', 'The Rhine flows north. It ends in the North Sea.')]

    References:
        Lee, Chang and Toutanova. Latent Retrieval for Weakly Supervised Open Domain
        Question Answering (ORQA), ACL 2019, arXiv 1906.00300.
        Chang, Yu, Chang, Yang and Kumar. Pre-training Tasks for Embedding-based Large-scale
        Retrieval, ICLR 2020, arXiv 2002.03932.
    """

    name: ClassVar[str] = "ict"

    def __init__(
        self,
        *,
        seed: int = 0,
        per_doc: int = 1,
        keep_sentence_prob: float = 0.1,
        min_sentences: int = 2,
        group_by: str | None = None,
        positive: Literal["auto", "context", "neighbour"] = "auto",
        window: int = 1,
    ) -> None:
        options = ICTOptions(per_doc, keep_sentence_prob, min_sentences, group_by, positive, window)
        super().__init__(options, seed=seed)
        self._group = re.compile(group_by) if group_by else None

    def group_key(self, doc_id: str) -> str | None:
        """The passage a document belongs to in group mode (the runner never splits one)."""
        match = self._group.search(doc_id) if self._group is not None else None
        return None if match is None else match.group(1)

    # document mode ---------------------------------------------------------------------------
    def examples_for(self, doc: Document) -> list[dict[str, Any]]:
        sentences = [_Sentence(doc.text[s:e], (s, e), "") for s, e in split_sentences(doc.text)]
        return self._examples(doc, sentences, list(range(len(sentences))))

    # group mode ------------------------------------------------------------------------------
    def generate(self, corpus: Corpus, *, show_progress: bool = False) -> TrainingSet:
        """Examples from every document (passage-wise when ``group_by`` is set)."""
        if self._group is None:
            return super().generate(corpus, show_progress=show_progress)
        import time

        from tqdm.auto import tqdm

        started = time.time()
        passages: dict[str, list[Document]] = defaultdict(list)
        docs = list(corpus)
        for doc in docs:
            match = self._group.search(doc.id)
            if match is not None:
                passages[match.group(1)].append(doc)
        position: dict[str, tuple[str, int]] = {}
        for key, members in passages.items():
            for number, doc in enumerate(members):
                position[doc.id] = (key, number)
        rows: list[dict[str, Any]] = []
        for doc in tqdm(docs, disable=not show_progress, desc=self.name):
            if doc.id not in position:
                continue
            key, number = position[doc.id]
            members = passages[key]
            sentences = [_Sentence(m.text, None, m.id) for m in members]
            rows.extend(self._examples(doc, sentences, [number]))
        examples = TrainingSet.from_records(rows)
        return finish(
            examples,
            self,
            corpus,
            documents=len(corpus),
            passages=len(passages),
            seconds=time.time() - started,
        )

    # shared ----------------------------------------------------------------------------------
    def _examples(
        self, doc: Document, sentences: list[_Sentence], candidates: list[int]
    ) -> list[dict[str, Any]]:
        opts: ICTOptions = self.options
        if len(sentences) < opts.min_sentences:
            return []
        rng = self.rng(doc.id)
        grouped = self._group is not None
        if grouped:
            chosen = candidates
        else:
            count = min(opts.per_doc, len(candidates))
            chosen = sorted(rng.choice(len(candidates), size=count, replace=False).tolist())
        rows: list[dict[str, Any]] = []
        for position in chosen:
            query = sentences[position]
            if opts.positive_kind == "neighbour":
                rows.extend(self._neighbour_rows(doc, sentences, position, rng, len(rows)))
                continue
            keep = bool(rng.random() < opts.keep_sentence_prob)
            if grouped:
                pieces = [s.text for i, s in enumerate(sentences) if keep or i != position]
                context = _join(pieces, doc.lang)
                positive_id = ""
            else:
                context = doc.text if keep else _without(doc.text, query.span)
                positive_id = doc.id if keep else ""
            if not context.strip():
                continue
            rows.append(
                self._row(
                    doc,
                    len(rows),
                    query=query.text,
                    positive=context,
                    positive_id=positive_id,
                    meta=_meta(
                        sentence=position,
                        sentences=len(sentences),
                        kept=keep,
                        positive="context",
                        **({"span": list(query.span)} if query.span else {}),
                    ),
                )
            )
        return rows

    def _neighbour_rows(
        self, doc: Document, sentences: list[_Sentence], position: int, rng: Any, first: int
    ) -> list[dict[str, Any]]:
        opts: ICTOptions = self.options
        window = range(
            max(0, position - opts.window), min(len(sentences), position + opts.window + 1)
        )
        neighbours = [i for i in window if i != position]
        count = min(opts.per_doc, len(neighbours))
        picked = sorted(rng.choice(len(neighbours), size=count, replace=False).tolist())
        rows = []
        for n, index in enumerate(picked):
            target = sentences[neighbours[index]]
            rows.append(
                self._row(
                    doc,
                    first + n,
                    query=sentences[position].text,
                    positive=target.text,
                    positive_id=target.doc_id,
                    meta=_meta(
                        sentence=position,
                        sentences=len(sentences),
                        neighbour=neighbours[index],
                        positive="neighbour",
                    ),
                )
            )
        return rows

    def _row(
        self, doc: Document, number: int, *, query: str, positive: str, positive_id: str, meta: str
    ) -> dict[str, Any]:
        return {
            "id": example_id(self.name, doc.id, doc.lang, number),
            "query": query,
            "lang": doc.lang,
            "positive_id": positive_id,
            "positive": positive,
            "positive_lang": doc.lang,
            "source_id": doc.id,
            "method": self.name,
            "meta": meta,
        }


def _without(text: str, span: tuple[int, int] | None) -> str:
    """``text`` with ``span`` cut out, the whitespace at the cut collapsed to one space."""
    if span is None:
        return text
    start, end = span
    left, right = text[:start], text[end:]
    spaced = left[-1:].isspace() or right[:1].isspace()
    left, right = left.rstrip(), right.lstrip()
    return left + (" " if spaced and left and right else "") + right


# --------------------------------------------------------------------------------- crop
@dataclass(frozen=True)
class CropOptions:
    """Options of :class:`IndependentCrop` (see there)."""

    per_doc: int = 1
    ratio_min: float = 0.1
    ratio_max: float = 0.5
    positive: Literal["crop", "document"] = "crop"
    unit: Literal["auto", "word", "char"] = "auto"
    min_units: int = 4

    def __post_init__(self) -> None:
        if self.per_doc < 1:
            raise InvalidInputError(f"per_doc must be >= 1, got {self.per_doc}", field="per_doc")
        if not 0.0 < self.ratio_min <= self.ratio_max <= 1.0:
            raise InvalidInputError(
                f"need 0 < ratio_min <= ratio_max <= 1, got {self.ratio_min}, {self.ratio_max}",
                field="ratio_min",
            )
        if self.positive not in ("crop", "document"):
            raise InvalidInputError(
                f"positive must be 'crop' or 'document', got {self.positive!r}", field="positive"
            )
        if self.unit not in ("auto", "word", "char"):
            raise InvalidInputError(
                f"unit must be 'auto', 'word' or 'char', got {self.unit!r}", field="unit"
            )
        if self.min_units < 1:
            raise InvalidInputError(
                f"min_units must be >= 1, got {self.min_units}", field="min_units"
            )


class IndependentCrop(BaseGenerator):
    """Independent cropping (Contriever): two random spans of one document form a pair.

    Each span covers a fraction of the document drawn uniformly from
    ``[ratio_min, ratio_max]`` (10 %–50 % in the paper) and starts at a uniformly drawn
    position; the two spans are drawn independently, so they may overlap, which the paper
    found to work better than the inverse cloze task. Spans are contiguous runs of units:
    whitespace words, or non-space characters for Chinese, Japanese, Thai and other
    languages written without spaces (``unit="auto"``; Contriever crops subword tokens,
    which for Chinese are characters). Each span keeps its original text, spaces and
    punctuation included, so query and positive are sub-strings of the document; their
    character offsets are recorded in ``meta`` (``query_span``, ``positive_span``).
    With ``positive="document"`` the positive is the whole document (``positive_id`` set),
    a query-to-document pair instead of a span pair.

    Args:
        seed: Seed of the per-document random streams.
        per_doc: Pairs per document.
        ratio_min: Smallest span, as a fraction of the document's units.
        ratio_max: Largest span, as a fraction of the document's units.
        positive: ``"crop"`` (a second independent span) or ``"document"``.
        unit: ``"auto"``, ``"word"`` (whitespace-separated) or ``"char"``.
        min_units: Documents with fewer units yield nothing.

    Example:
        >>> from polyret.types import Corpus
        >>> corpus = Corpus.from_records([{"id": "d1", "lang": "en",
        ...     "text": "one two three four five six seven eight nine ten"}])
        >>> example = next(iter(IndependentCrop(seed=3).generate(corpus)))
        >>> example.query in corpus["d1"].text and example.positive in corpus["d1"].text
        True

    References:
        Izacard, Caron, Hosseini, Riedel, Bojanowski, Joulin and Grave. Unsupervised Dense
        Information Retrieval with Contrastive Learning (Contriever), TMLR 2022,
        arXiv 2112.09118.
    """

    name: ClassVar[str] = "crop"

    def __init__(
        self,
        *,
        seed: int = 0,
        per_doc: int = 1,
        ratio_min: float = 0.1,
        ratio_max: float = 0.5,
        positive: Literal["crop", "document"] = "crop",
        unit: Literal["auto", "word", "char"] = "auto",
        min_units: int = 4,
    ) -> None:
        options = CropOptions(per_doc, ratio_min, ratio_max, positive, unit, min_units)
        super().__init__(options, seed=seed)

    def examples_for(self, doc: Document) -> list[dict[str, Any]]:
        opts: CropOptions = self.options
        unit, units = _units(doc.text, opts.unit, doc.lang)
        if len(units) < opts.min_units:
            return []
        rng = self.rng(doc.id)
        rows = []
        for number in range(opts.per_doc):
            query_span = self._crop(units, rng)
            if opts.positive == "document":
                positive, positive_id, positive_span = doc.text, doc.id, (0, len(doc.text))
            else:
                positive_span = self._crop(units, rng)
                positive, positive_id = doc.text[slice(*positive_span)], ""
            rows.append(
                {
                    "id": example_id(self.name, doc.id, doc.lang, number),
                    "query": doc.text[slice(*query_span)],
                    "lang": doc.lang,
                    "positive_id": positive_id,
                    "positive": positive,
                    "positive_lang": doc.lang,
                    "source_id": doc.id,
                    "method": self.name,
                    "meta": _meta(
                        query_span=list(query_span),
                        positive_span=list(positive_span),
                        units=len(units),
                        unit=unit,
                    ),
                }
            )
        return rows

    def _crop(self, units: list[tuple[int, int]], rng: Any) -> tuple[int, int]:
        opts: CropOptions = self.options
        ratio = rng.uniform(opts.ratio_min, opts.ratio_max)
        length = max(1, int(len(units) * ratio))
        start = int(rng.integers(0, len(units) - length + 1))
        return units[start][0], units[start + length - 1][1]


# -------------------------------------------------------------------------------- title
@dataclass(frozen=True)
class TitleOptions:
    """Options of :class:`TitleQuery` (see there)."""

    min_chars: int = 1


class TitleQuery(BaseGenerator):
    """A document's title as the query, its text as the positive.

    Titles name what a text is about, as a short query would; (title, body) pairs are the
    most common weakly supervised pairs in retriever pre-training (Wikipedia, news, papers).
    Documents whose title (whitespace stripped) is shorter than ``min_chars`` or whose text
    is empty yield nothing; so does a collection without titles, such as ``xquad-r``.

    Args:
        seed: Unused (the method has no randomness); kept for a uniform config.
        min_chars: Shortest title used.

    Example:
        >>> from polyret.types import Corpus
        >>> corpus = Corpus.from_records([
        ...     {"id": "d1", "title": "Rhein", "text": "Der Rhein fließt.", "lang": "de"},
        ...     {"id": "d2", "text": "Ohne Titel.", "lang": "de"}])
        >>> [(e.query, e.positive_id) for e in TitleQuery().generate(corpus)]
        [('Rhein', 'd1')]

    References:
        Chang, Yu, Chang, Yang and Kumar. Pre-training Tasks for Embedding-based Large-scale
        Retrieval, ICLR 2020, arXiv 2002.03932.
        Wang et al. Text Embeddings by Weakly-Supervised Contrastive Pre-training (E5's
        CCPairs), arXiv 2212.03533.
    """

    name: ClassVar[str] = "title"

    def __init__(self, *, seed: int = 0, min_chars: int = 1) -> None:
        super().__init__(TitleOptions(min_chars), seed=seed)

    def examples_for(self, doc: Document) -> list[dict[str, Any]]:
        title = doc.title.strip()
        if len(title) < max(1, self.options.min_chars) or not doc.text.strip():
            return []
        return [
            {
                "id": example_id(self.name, doc.id, doc.lang, 0),
                "query": title,
                "lang": doc.lang,
                "positive_id": doc.id,
                "positive": doc.text,
                "positive_lang": doc.lang,
                "source_id": doc.id,
                "method": self.name,
                "meta": _meta(field="title"),
            }
        ]
