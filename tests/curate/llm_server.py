"""A deterministic "LLM" for the generation-method tests, served by tests.llm.fake_openai.

It answers every prompt of the packaged templates from the prompt's own text: summaries
copy the passage, queries are the first words of the passage (or summary) tagged with the
target language's name, relevance and query likelihood prefer one designated candidate per
query. Faults (429 with Retry-After, 500, timeouts, broken bodies) and malformed answers
are injected by call number or by document.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from polyret.types import Corpus
from tests.llm.fake_openai import user_text

FAST = {
    "backoff": 0.01,
    "backoff_max": 0.05,
    "jitter": 0.0,
    "timeout": 0.6,
    "retry_after_max": 0.2,
    "max_concurrency": 4,
}


def make_query(text: str) -> str:
    """The first five words (or twelve characters of an unspaced script)."""
    words = text.split()
    return " ".join(words[:5]) if len(words) >= 3 else text[:12]


def last_field(text: str, label: str) -> str:
    """What follows the last ``label`` up to the end of its line."""
    start = text.rindex(label) + len(label)
    return text[start:].split("\n", 1)[0].strip()


def fault_schedule(numbers: Iterable[int] = (1, 2, 4, 6)) -> Callable[[int], dict | None]:
    """Transient faults on some call numbers: 429 + Retry-After, 500, a timeout, bad body."""
    kinds = dict(zip(numbers, ("429", "500", "timeout", "body"), strict=False))

    def fault(number: int) -> dict | None:
        kind = kinds.get(number)
        if kind == "429":
            return {"status": 429, "headers": {"Retry-After": "0.05"}}
        if kind == "500":
            return {"status": 500}
        if kind == "timeout":
            return {"text": "too late", "sleep": 1.0}
        if kind == "body":
            return {"raw": "<html>bad gateway</html>"}
        return None

    return fault


@dataclass
class FakeLLM:
    """Answers the packaged prompts of every method.

    Attributes:
        corpus: The documents (to find a query's source passage and its partner).
        partner: source doc id → the candidate the judge prefers.
        broken: source doc id → what to answer instead ("empty-summary", "empty",
            "no-json", "missing-field", "empty-query", "400").
        faults: call number → a fault answer (or None).
        echo: answer echo requests with prompt logprobs (False: a server without them).
        token_logprobs: give per-token logprobs to InPars generations.
        sleep: seconds every answer waits (to make jobs slow enough to kill).
    """

    corpus: Corpus
    partner: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    faults: Callable[[int], dict | None] = lambda number: None
    echo: bool = True
    token_logprobs: bool = True
    sleep: float = 0.0
    log: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_text = {doc.text: doc.id for doc in self.corpus}
        self.by_query = {make_query(doc.text): doc.id for doc in self.corpus}
        self.lock = threading.Lock()

    def __call__(self, path: str, body: dict[str, Any], number: int) -> str | dict[str, Any]:
        fault = self.faults(number)
        if fault is not None:
            return fault
        answer = self.answer(body)
        if self.sleep:
            answer = {"text": answer} if isinstance(answer, str) else answer
            answer["sleep"] = self.sleep
        return answer

    def _record(self, kind: str, doc_id: str) -> None:
        with self.lock:
            self.log.append((kind, doc_id))

    def prefers(self, query: str, passage: str) -> bool:
        source = self.by_query.get(query.strip())
        return source is not None and self.partner.get(source) == self.by_text.get(passage)

    def answer(self, body: dict[str, Any]) -> str | dict[str, Any]:
        text = user_text(body)
        if body.get("echo"):  # query likelihood: context passage + " " + query
            if not self.echo:
                return {"raw": '{"choices": [{"text": "x", "index": 0}]}'}
            if "Good Question:" in text:  # InPars' fallback score
                self._record("likelihood", "?")
                return {"prompt_logprob": -1.0}
            passage = last_field(text, "Passage:")
            query = text.rsplit("Question:", 1)[1]
            self._record("likelihood", self.by_text.get(passage, "?"))
            return {"prompt_logprob": -0.1 if self.prefers(query, passage) else -1.0}
        if "Extract a summary" in text:
            passage = last_field(text, "Passage:")
            source = self.by_text[passage]
            self._record("summarize", source)
            if self.broken.get(source) == "empty-summary":
                return "  "
            return "Summary: " + passage
        if "Given a passage and its summary" in text:
            source = self.by_text[last_field(text, "Passage:")]
            self._record("ask", source)
            language = text.rstrip().rsplit("\n", 1)[1].split(" query:")[0]
            return self._query(source, f"[{language}] " + make_query(last_field(text, "Summary:")))
        if "imagine a retrieval task" in text:
            source = self.by_text[last_field(text, "Passage:")]
            self._record("generate", source)
            kind = self.broken.get(source)
            if kind == "no-json":
                return "Sure! A good query would be about this passage."
            if kind == "missing-field":
                return json.dumps({"query": make_query(self.corpus[source].text)})
            if kind == "empty-query":
                return '```json\n{"task": "Find facts", "query": "  "}\n```'
            if kind == "400":
                return {"status": 400}
            return json.dumps(
                {"task": "Find facts about a topic", "query": make_query(self.corpus[source].text)},
                ensure_ascii=False,
            )
        if "Does the passage answer the query?" in text:
            query, passage = last_field(text, "Query:"), last_field(text, "Passage:")
            self._record("relevance", self.by_text.get(passage, "?"))
            yes = 0.9 if self.prefers(query, passage) else 0.2
            return {
                "text": "Yes" if yes > 0.5 else "No",
                "logprobs": {"Yes": math.log(yes), "No": math.log(1 - yes)},
            }
        if "Good Question:" in text:
            source = self.by_text[last_field(text, "Document:")]
            self._record("inpars", source)
            query = make_query(self.corpus[source].text)
            answer = self._query(source, query)
            if isinstance(answer, dict) or not answer.strip() or not self.token_logprobs:
                return answer
            value = -0.1 * (1 + len(self.corpus[source].text) % 7)
            return {
                "text": answer,
                "token_logprobs": [value] * len(answer.split()),
                "logprobs": {answer.split()[0]: value},
            }
        if "Article:" in text:
            source = self.by_text[last_field(text, "Article:")]
            self._record("promptagator", source)
            seed = body.get("seed")
            suffix = "" if seed is None else f" #{seed}"
            return self._query(source, "Query: " + make_query(self.corpus[source].text) + suffix)
        raise AssertionError(f"unexpected prompt: {text[:200]!r}")

    def _query(self, source: str, answer: str) -> str | dict[str, Any]:
        kind = self.broken.get(source)
        if kind == "empty":
            return "\n  \n"
        if kind == "400":
            return {"status": 400}
        return answer
