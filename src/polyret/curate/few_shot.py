"""Few-shot query generation: Promptagator and InPars, and InPars' top-k filter.

Both show the LLM a handful of (passage, query) examples and ask for a query for a new
passage. Promptagator makes the prompt task-specific (an instruction and at most 8
examples from the target task); InPars uses a fixed "good question" prompt and then keeps
only the generated queries the model was most confident about (:class:`InParsTopFilter`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from polyret.curate.filtering import Verdict
from polyret.curate.prompting import (
    LLMGenerator,
    LLMOptions,
    Target,
    Template,
    parse_query,
    prompt_id,
    score_continuations,
)
from polyret.errors import InvalidInputError
from polyret.llm.base import LLMResponse
from polyret.types import Document, TrainingSet

__all__ = [
    "FewShotOptions",
    "InPars",
    "InParsOptions",
    "InParsTopFilter",
    "Promptagator",
    "PromptagatorOptions",
    "load_examples",
]

Pair = tuple[str, str]
Examples = Sequence[Pair] | Sequence[Mapping[str, Any]] | str | Path | None


def load_examples(source: Examples, *, limit: int | None = None) -> tuple[Pair, ...] | None:
    """Few-shot examples as ``((query, passage), ...)``.

    Args:
        source: ``(query, passage)`` pairs, dicts with ``query`` and ``passage`` (or
            ``text``), a JSON file of such a list, a JSONL file of such objects, or
            ``None`` (use the packaged exemplars).
        limit: Most examples allowed.

    Raises:
        InvalidInputError: a malformed file or record, or more than ``limit`` examples.

    Example:
        >>> load_examples([("wo liegt Berlin", "Berlin liegt an der Spree.")])
        (('wo liegt Berlin', 'Berlin liegt an der Spree.'),)
    """
    if source is None:
        return None
    where: str | None = None
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if not path.is_file():
            raise InvalidInputError("examples file not found", path=path)
        where = str(path)
        text = path.read_text(encoding="utf-8")
        try:
            records: Any = json.loads(text)
        except json.JSONDecodeError:
            records = []
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise InvalidInputError(
                            f"malformed JSON: {error.msg}", path=path, line=number
                        ) from None
    else:
        records = list(source)
    if not isinstance(records, list):
        raise InvalidInputError("expected a list of examples", path=where, field="examples")
    pairs: list[Pair] = []
    for number, record in enumerate(records, 1):
        if isinstance(record, Mapping):
            query, passage = record.get("query"), record.get("passage", record.get("text"))
        elif isinstance(record, Sequence) and not isinstance(record, str) and len(record) == 2:
            query, passage = record
        else:
            query = passage = None
        if not isinstance(query, str) or not isinstance(passage, str) or not query or not passage:
            raise InvalidInputError(
                f"example {number} needs a non-empty query and passage",
                path=where,
                field="examples",
            )
        pairs.append((query, passage))
    if limit is not None and len(pairs) > limit:
        raise InvalidInputError(
            f"{len(pairs)} examples given, at most {limit} allowed", path=where, field="examples"
        )
    return tuple(pairs)


@dataclass(frozen=True)
class FewShotOptions(LLMOptions):
    """Options shared by :class:`Promptagator` and :class:`InPars`.

    Args:
        examples: ``(query, passage)`` pairs used for every language (``None``: the
            packaged ``exemplars/<lang>.json``, English fallback). The constructor also
            takes a file or a list of dicts (see :func:`load_examples`).
        max_examples: Most examples in a prompt.
    """

    examples: tuple[Pair, ...] | None = None
    max_examples: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_examples < 0:
            raise InvalidInputError("max_examples must be ≥ 0", field="max_examples")


class _FewShot(LLMGenerator):
    """One prompt with examples per target; the answer is the query."""

    options: FewShotOptions
    example_limit: ClassVar[int | None] = None

    def __init__(self, *, examples: Examples = None, **arguments: Any) -> None:
        """``examples`` and :class:`~polyret.curate.prompting.LLMGenerator`'s arguments."""
        super().__init__(**arguments)
        given = examples if examples is not None else self.options.examples
        pairs = load_examples(given, limit=self.example_limit)
        if pairs != self.options.examples:
            self.options = replace(self.options, examples=pairs)

    def examples_for_lang(self, lang: str) -> tuple[list[dict[str, Any]], str]:
        """The examples shown for target ``lang`` and the language they are written in."""
        if self.options.examples is not None:
            rows = [{"query": q, "passage": p} for q, p in self.options.examples]
            return rows[: self.options.max_examples], ""
        rows, code = self.prompts.exemplars(lang)
        return rows[: self.options.max_examples], code

    def prompt(self, target: Target) -> tuple[str, Template, str]:
        """The prompt, its template and its rendered examples for one target."""
        rows, code = self.examples_for_lang(target.lang)
        example = self.prompts.template("generate_example", target.lang)
        block = "\n\n".join(
            example.render(
                number=n,
                query=row.get("query", ""),
                passage=str(row.get("passage", ""))[: self.options.max_chars],
                language=self.language(code) if code else "",
            )
            for n, row in enumerate(rows, 1)
        )
        template = self.prompts.template("generate", target.lang)
        text = template.render(
            passage=self.passage(target.doc),
            language=self.language(target.lang),
            examples=block,
            number=len(rows) + 1,
            **self.prompt_fields(),
        )
        return text, template, block

    def prompt_fields(self) -> dict[str, Any]:
        return {}

    def answers(self, docs: list[Document]) -> tuple[list[Target], list[Any], list[LLMResponse]]:
        targets = self.targets(docs)
        prompts = [self.prompt(t) for t in targets]
        replies = self.ask([p[0] for p in prompts], targets, **self.extra_params())
        self.check_failures(replies, "generate")
        return targets, prompts, replies

    def extra_params(self) -> dict[str, Any]:
        return {}

    def parsed(
        self, target: Target, prompt: tuple[str, Template, str], reply: LLMResponse
    ) -> tuple[str, dict[str, Any] | None]:
        """``(query, None)`` or ``("", failed row)``."""
        pid = prompt_id(prompt[1], prompt[2])
        raw = {"generate": reply.text}
        if not reply.ok:
            return "", self.failed_row(
                target, "request-failed", str(reply.error), prompt_id=pid, raw=raw
            )
        query, error, detail = parse_query(reply.text)
        if error:
            return "", self.failed_row(target, error, detail, prompt_id=pid, raw=raw)
        return query, None


@dataclass(frozen=True)
class PromptagatorOptions(FewShotOptions):
    """Options of :class:`Promptagator` (see there and :class:`FewShotOptions`).

    Args:
        task: The task instruction that opens the prompt (Promptagator writes one per
            task, e.g. ``"Given a scientific claim, retrieve documents that support or
            refute it."``).
    """

    task: str = "Given an article, write a search query that the article answers."


class Promptagator(_FewShot):
    """Task-specific few-shot query generation: an instruction and ≤ 8 task examples.

    The prompt (``generate.txt``) is the task instruction, the examples as
    ``Article: … / Query: …`` pairs and the new passage; the answer's first line is the
    query. ``examples`` are the user's (query, passage) pairs from the target task (a list
    or a JSON/JSONL file; at most 8, as in the paper), else the packaged
    ``exemplars/<lang>.json``. One query per passage and language, or ``num_queries`` sampled
    ones (``temperature > 0``; each sample is a request with its own seed).

    Args:
        llm, langs, seed, prompts_dir: As for :class:`~polyret.curate.prompting.LLMGenerator`.
        options: :class:`PromptagatorOptions`; keyword ``**overrides`` replace its fields.
        examples: The task's (query, passage) examples (overrides ``options.examples``).

    Example:
        >>> gen = Promptagator(llm={"model": "m", "base_url": "http://127.0.0.1:9"},
        ...                    examples=[("who wrote faust", "Faust is a play by Goethe.")],
        ...                    task="Given a question, retrieve passages that answer it.")
        >>> passage = Document("d1", "Ulm liegt an der Donau.", lang="de")
        >>> print(gen.prompt(gen.targets([passage])[0])[0])
        Given a question, retrieve passages that answer it. Write the query in German.
        <BLANKLINE>
        Article: Faust is a play by Goethe.
        Query: who wrote faust
        <BLANKLINE>
        Article: Ulm liegt an der Donau.
        Query:

    References:
        Dai, Zhao, Ma, Luan, Ni, Lu, Bakalov, Guu, Hall and Chang, "Promptagator: Few-shot
        Dense Retrieval From 8 Examples", ICLR 2023, arXiv 2209.11755.
    """

    name: ClassVar[str] = "promptagator"
    options_type: ClassVar[type[LLMOptions]] = PromptagatorOptions
    options: PromptagatorOptions
    example_limit: ClassVar[int | None] = 8

    def prompt_fields(self) -> dict[str, Any]:
        return {"task": self.options.task}

    def generate_batch(self, docs: list[Document]) -> list[dict[str, Any]]:
        targets, prompts, replies = self.answers(docs)
        rows = []
        for target, prompt, reply in zip(targets, prompts, replies, strict=True):
            query, failed = self.parsed(target, prompt, reply)
            if failed is not None:
                rows.append(failed)
                continue
            pid = prompt_id(prompt[1], prompt[2], self.options.task)
            rows.append(
                self.row(
                    target,
                    query,
                    prompt_id=pid,
                    raw={"generate": reply.text},
                    meta={"task": self.options.task},
                )
            )
        return rows


@dataclass(frozen=True)
class InParsOptions(FewShotOptions):
    """Options of :class:`InPars` (see there and :class:`FewShotOptions`).

    Args:
        max_examples: Examples in the prompt (InPars uses 3).
    """

    max_examples: int = 3


class InPars(_FewShot):
    """ "Good question" few-shot generation, scored for InPars' top-k selection.

    The prompt (``generate.txt``) lists ``Example n: Document: … / Good Question: …`` and ends
    with the new document; the answer's first line is the query. Each row's
    ``meta["score"]`` is the mean log-probability of the generated tokens (asked for with
    ``top_logprobs=1``; ``meta["score_kind"] = "mean-token-logprob"``), or, when the backend
    returns no per-token log-probabilities, ``log P(query | prompt)`` from the client's
    :meth:`~polyret.llm.BaseLLMClient.loglikelihood` (``"loglikelihood"``); when neither is
    available the score is ``None`` (``"none"``). :class:`InParsTopFilter` (``"inpars-top"``)
    then keeps the best-scored fraction, as InPars keeps its top 10k of 100k queries.

    Args:
        llm, langs, seed, prompts_dir: As for :class:`~polyret.curate.prompting.LLMGenerator`.
        options: :class:`InParsOptions`; keyword ``**overrides`` replace its fields.
        examples: (query, passage) examples replacing the packaged ones.

    References:
        Bonifacio, Abonizio, Fadaee and Nogueira, "InPars: Data Augmentation for
        Information Retrieval using Large Language Models", arXiv 2202.05144.
        Jeronymo, Bonifacio, Abonizio, Fadaee, Lotufo, Zavrel and Nogueira, "InPars-v2:
        Large Language Models as Efficient Dataset Generators for Information
        Retrieval", arXiv 2301.01820 (filters with a reranker's score instead: see the
        ``consistency`` filter).
    """

    name: ClassVar[str] = "inpars"
    options_type: ClassVar[type[LLMOptions]] = InParsOptions
    options: InParsOptions

    def extra_params(self) -> dict[str, Any]:
        return {"top_logprobs": 1}

    def generate_batch(self, docs: list[Document]) -> list[dict[str, Any]]:
        targets, prompts, replies = self.answers(docs)
        rows: list[dict[str, Any] | None] = []
        pending: list[tuple[int, Target, str, str, str, LLMResponse]] = []
        for target, prompt, reply in zip(targets, prompts, replies, strict=True):
            query, failed = self.parsed(target, prompt, reply)
            if failed is not None:
                rows.append(failed)
                continue
            rows.append(None)
            pending.append(
                (len(rows) - 1, target, query, prompt[0], prompt_id(prompt[1], prompt[2]), reply)
            )
        # the generation's own token log-probabilities, else log P(query | prompt)
        missing = [p for p in pending if not p[5].token_logprobs]
        scores, status = score_continuations(
            self.client, [(text, " " + query) for _, _, query, text, _, _ in missing]
        )
        fallback = {p[0]: s for p, s in zip(missing, scores, strict=True)}
        for row, target, query, _, pid, reply in pending:
            meta: dict[str, Any]
            if reply.token_logprobs:
                values = reply.token_logprobs
                meta = {"score": sum(values) / len(values), "score_kind": "mean-token-logprob"}
            elif not math.isnan(fallback[row]):
                meta = {"score": fallback[row], "score_kind": "loglikelihood"}
            else:
                meta = {"score": None, "score_kind": "none", "score_status": status}
            rows[row] = self.row(
                target, query, prompt_id=pid, raw={"generate": reply.text}, meta=meta
            )
        return [row for row in rows if row is not None]


class InParsTopFilter:
    """Keep the generated queries with the highest InPars score (``meta["score"]``).

    Rows are ranked by score (ties by id) within each language (``by_lang``; scores of
    different languages and scripts are not comparable) and score kind; the top ``k`` or
    the top ``fraction`` (rounded up) of each group are kept. Rows without a score
    (malformed answers, other methods) are dropped with the reason ``"no score"``.

    Args:
        fraction: Share of each group kept (InPars: 10k of 100k, 0.1).
        k: Keep this many per group instead of a fraction.
        by_lang: Rank each query language separately.

    Example:
        >>> from polyret.types import TrainingSet
        >>> ts = TrainingSet.from_records([
        ...     {"id": str(i), "query": "q", "positive": "p", "lang": "de",
        ...      "meta": {"score": -s, "score_kind": "mean-token-logprob"}}
        ...     for i, s in enumerate([0.5, 0.1, 0.9, 0.3])])
        >>> InParsTopFilter(fraction=0.5).judge(ts).reasons
        ['not in the top fraction', '', 'not in the top fraction', '']

    References:
        Bonifacio et al., "InPars: Data Augmentation for Information Retrieval using Large
        Language Models", arXiv 2202.05144.
    """

    name: ClassVar[str] = "inpars-top"

    def __init__(self, *, fraction: float = 0.1, k: int | None = None, by_lang: bool = True):
        if not 0 < fraction <= 1:
            raise InvalidInputError("fraction must lie in (0, 1]", field="fraction")
        if k is not None and k < 1:
            raise InvalidInputError("k must be ≥ 1", field="k")
        self.fraction = fraction
        self.k = k
        self.by_lang = by_lang
        self._below = "not in the top k" if k is not None else "not in the top fraction"

    @property
    def config(self) -> dict[str, Any]:
        return {
            "filter": self.name,
            "fraction": self.fraction,
            "k": self.k,
            "by_lang": self.by_lang,
        }

    def judge(self, examples: TrainingSet) -> Verdict:
        reasons = ["no score"] * len(examples)
        groups: dict[tuple[str, str], list[tuple[float, str, int]]] = defaultdict(list)
        rows = zip(examples.column("meta"), examples.column("lang"), examples.ids, strict=True)
        for row, (text, lang, id) in enumerate(rows):
            try:
                meta = json.loads(text or "{}")
            except json.JSONDecodeError:
                continue
            score = meta.get("score") if isinstance(meta, dict) else None
            if meta.get("error") or not isinstance(score, int | float) or math.isnan(score):
                continue
            key = (lang if self.by_lang else "", str(meta.get("score_kind", "")))
            groups[key].append((-float(score), id, row))
        for members in groups.values():
            members.sort()
            keep = self.k if self.k is not None else math.ceil(self.fraction * len(members))
            for rank, (_, _, row) in enumerate(members):
                reasons[row] = "" if rank < keep else self._below
        return Verdict.from_reasons(reasons)
