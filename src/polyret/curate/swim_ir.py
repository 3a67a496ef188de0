"""SWIM-IR: summarize-then-ask prompting for (cross-lingual) synthetic queries.

The LLM first extracts a summary of the passage (its key sentences, in the passage's
language), then writes a query in the target language given the passage and the summary.
The summary step makes the model pick the passage's main information before it switches
language, which the paper found gives better cross-lingual queries than asking directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from polyret.curate.prompting import (
    LLMGenerator,
    LLMOptions,
    Target,
    Template,
    parse_query,
    prompt_id,
)
from polyret.errors import InvalidInputError
from polyret.types import Document

__all__ = ["SwimIR", "SwimIROptions", "parse_summary"]

_SUMMARY_LABEL = re.compile(r"^\s*(?:extractive\s+)?summary\s*[:：]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class SwimIROptions(LLMOptions):
    """Options of :class:`SwimIR` (the shared ones: :class:`~polyret.curate.prompting.LLMOptions`).

    Args:
        cross_lingual: With ``langs``, leave each passage's own language out of its
            targets (SWIM-IR's cross-lingual setting); ``False`` keeps it.
        num_exemplars: Few-shot exemplars per prompt (the paper uses 5; 3 are packaged).
        summary_max_tokens: Most tokens of the summary (generated greedily).
    """

    cross_lingual: bool = True
    num_exemplars: int = 3
    summary_max_tokens: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_exemplars < 0:
            raise InvalidInputError("num_exemplars must be ≥ 0", field="num_exemplars")


def parse_summary(text: str) -> str:
    """The summary in an answer, without a leading ``Summary:`` label.

    Example:
        >>> parse_summary("Extractive summary: Der Rhein fließt nach Norden.\\n")
        'Der Rhein fließt nach Norden.'
    """
    return _SUMMARY_LABEL.sub("", (text or "").strip(), count=1).strip()


class SwimIR(LLMGenerator):
    """Summarize-then-ask query generation, two LLM calls per query.

    Call 1 (``summarize.txt``) asks for an extractive summary of the passage in the
    passage's language; call 2 (``ask.txt``) asks for a query in the target language given
    passage and summary. Both use few-shot exemplars (``exemplars/<lang>.json``: English
    passages and summaries with queries in ``<lang>``, English fallback). Within a chunk all
    first calls are sent together, then all second calls. With ``langs=None`` each passage
    gets a query in its own language (SWIM-IR's monolingual setting); with ``langs`` every
    other listed language (or ``langs_per_doc`` of them, drawn per document).

    Rows: ``positive`` is the passage, ``lang`` the query's language, ``positive_lang`` the
    passage's; ``meta["summary"]`` the summary; ``raw`` both answers. A failed request or
    an empty summary or query becomes a :data:`~polyret.curate.prompting.MALFORMED_QUERY`
    row (see :class:`~polyret.curate.prompting.MalformedFilter`).

    Args:
        llm, langs, seed, prompts_dir: As for :class:`~polyret.curate.prompting.LLMGenerator`.
        options: :class:`SwimIROptions`; keyword ``**overrides`` replace its fields.

    Example:
        >>> from polyret.curate import load_generator
        >>> gen = load_generator("swim-ir", llm={"model": "m", "base_url": "http://127.0.0.1:9"},
        ...                      langs="de,sw")
        >>> passage = Document("d1", "Der Rhein fließt nach Norden.", lang="de")
        >>> gen.config["langs"], gen.config["llm"]["model"], gen.candidate_langs(passage)
        (['de', 'sw'], 'm', ['sw'])

    References:
        Thakur, Ni, Hernández Ábrego, Wieting, Lin and Cer, "Leveraging LLMs for
        Synthesizing Training Data Across Many Languages in Multilingual Dense Retrieval"
        (SWIM-IR), NAACL 2024, arXiv 2311.05800.
    """

    name: ClassVar[str] = "swim-ir"
    options_type: ClassVar[type[LLMOptions]] = SwimIROptions
    options: SwimIROptions

    def candidate_langs(self, doc: Document) -> list[str]:
        if not self.langs:
            return [doc.lang]
        if self.options.cross_lingual:
            return [lang for lang in self.langs if lang != doc.lang]
        return list(self.langs)

    def _examples(self, step: str, lang: str, fields: tuple[str, ...]) -> str:
        rows, code = self.prompts.exemplars(lang)
        example = self.prompts.template(f"{step}_example", lang)
        language = self.language(code) if code else ""
        parts = [
            example.render(language=language, **{f: row.get(f, "") for f in fields})
            for row in rows[: self.options.num_exemplars]
        ]
        return "\n\n".join(parts)

    def summarize_prompt(self, doc: Document) -> tuple[str, Template, str]:
        """Call 1's prompt, template and exemplar block for one passage."""
        template = self.prompts.template("summarize", doc.lang)
        examples = self._examples("summarize", doc.lang, ("passage", "summary"))
        text = template.render(
            passage=self.passage(doc),
            passage_language=self.language(doc.lang),
            examples=examples,
        )
        return text, template, examples

    def ask_prompt(self, target: Target, summary: str) -> tuple[str, Template, str]:
        """Call 2's prompt, template and exemplar block for one target."""
        template = self.prompts.template("ask", target.lang)
        examples = self._examples("ask", target.lang, ("passage", "summary", "query"))
        text = template.render(
            passage=self.passage(target.doc),
            summary=summary,
            language=self.language(target.lang),
            passage_language=self.language(target.doc.lang),
            examples=examples,
        )
        return text, template, examples

    def generate_batch(self, docs: list[Document]) -> list[dict[str, Any]]:
        targets = self.targets(docs)
        if not targets:
            return []
        # call 1: one summary per passage that has a target
        sources = list({t.doc.id: t.doc for t in targets}.values())
        first = [self.summarize_prompt(doc) for doc in sources]
        answers = self.client.chat_many(
            [[{"role": "user", "content": text}] for text, _, _ in first],
            raise_on_error=False,
            temperature=0.0,
            max_tokens=self.options.summary_max_tokens,
        )
        self.check_failures(answers, "summarize")
        summaries = {}
        for doc, (_, template, examples), answer in zip(sources, first, answers, strict=True):
            summaries[doc.id] = (answer, parse_summary(answer.text), template, examples)
        # call 2: one query per target whose passage has a summary
        rows: dict[int, dict[str, Any]] = {}
        asking: list[int] = []
        second: list[tuple[str, Template, str]] = []
        for i, target in enumerate(targets):
            answer, summary, template, examples = summaries[target.doc.id]
            pid = prompt_id(template, examples)
            raw = {"summarize": answer.text}
            if not answer.ok:
                rows[i] = self.failed_row(
                    target, "request-failed", f"summarize: {answer.error}", prompt_id=pid, raw=raw
                )
            elif not summary:
                rows[i] = self.failed_row(
                    target, "empty-summary", "no summary in the answer", prompt_id=pid, raw=raw
                )
            else:
                asking.append(i)
                second.append(self.ask_prompt(target, summary))
        replies = self.ask([text for text, _, _ in second], [targets[i] for i in asking])
        self.check_failures(replies, "ask")
        for i, (_, template, examples), reply in zip(asking, second, replies, strict=True):
            target = targets[i]
            answer, summary, summarize, summarize_examples = summaries[target.doc.id]
            pid = prompt_id(template, examples, summarize.text, summarize_examples)
            raw = {"summarize": answer.text, "ask": reply.text}
            meta = {"summary": summary}
            if not reply.ok:
                rows[i] = self.failed_row(
                    target,
                    "request-failed",
                    f"ask: {reply.error}",
                    prompt_id=pid,
                    raw=raw,
                    meta=meta,
                )
                continue
            query, error, detail = parse_query(reply.text)
            if error:
                rows[i] = self.failed_row(target, error, detail, prompt_id=pid, raw=raw, meta=meta)
            else:
                rows[i] = self.row(target, query, prompt_id=pid, raw=raw, meta=meta)
        return [rows[i] for i in range(len(targets))]
