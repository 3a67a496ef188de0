"""LLM pointwise relevance: P("yes") from first-token logprobs, else a parsed 0–3 grade."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections import Counter
from typing import Any, Literal

import numpy as np

from polyret.errors import InvalidInputError
from polyret.llm import LLMClient, LLMResponse
from polyret.rerank.base import PairReranker, ScoreCache

log = logging.getLogger(__name__)

PROMPTS = {
    "yes-no": (
        "You judge whether a passage answers a search query. Reply with Yes or No only.",
        "Query: {query}\nPassage: {passage}\n\nDoes the passage answer the query? "
        "Answer Yes or No.",
    ),
    "grade": (
        "You grade how well a passage answers a search query: 0 = irrelevant, "
        "1 = related, 2 = partly answers, 3 = fully answers. Reply with the number only.",
        "Query: {query}\nPassage: {passage}\n\nGrade (0-3):",
    ),
}
_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}
_GRADE = re.compile(r"(?<![\d.])([0-3])(?![\d.])")


def _token(text: str) -> str:
    return text.strip().strip(".,!:;\"'*").lower()


def score_answer(response: LLMResponse, prompt: str) -> tuple[float, str | None]:
    """Relevance in [0, 1] from one answer, or ``(nan, reason)``.

    Yes/no: ``P(yes) / (P(yes) + P(no))`` over the first token's top logprobs, else 1/0
    from the text. Grade: the expected grade under the digit logprobs, else the first
    digit 0–3 in the text, divided by 3.

    Example:
        >>> score_answer(LLMResponse("Yes", {"Yes": math.log(0.8), "No": math.log(0.2)}),
        ...              "yes-no")[0]
        0.8
        >>> score_answer(LLMResponse("Grade: 2"), "grade")[0] == 2 / 3
        True
        >>> score_answer(LLMResponse("Maybe?"), "yes-no")
        (nan, "malformed answer 'Maybe?'")
    """
    if not response.ok:
        return math.nan, f"request failed: {response.error}"
    if response.logprobs:
        mass: dict[str, float] = {}
        for token, logprob in response.logprobs.items():
            key = _token(token)
            mass[key] = mass.get(key, 0.0) + math.exp(logprob)
        if prompt == "yes-no":
            yes = sum(mass.get(t, 0.0) for t in _YES)
            no = sum(mass.get(t, 0.0) for t in _NO)
            if yes + no > 0:
                return round(yes / (yes + no), 12), None
        else:
            grades = {int(t): p for t, p in mass.items() if t in {"0", "1", "2", "3"}}
            if grades:
                return sum(g * p for g, p in grades.items()) / sum(grades.values()) / 3, None
    text = response.text.strip()
    if prompt == "yes-no":
        first = _token(text.split()[0]) if text.split() else ""
        if first in _YES:
            return 1.0, None
        if first in _NO:
            return 0.0, None
    else:
        match = _GRADE.search(text)
        if match:
            return int(match.group(1)) / 3, None
    return math.nan, f"malformed answer {text[:60]!r}"


class LLMPointwiseReranker(PairReranker):
    """Asks an LLM about each (query, passage) pair on its own.

    Pairs whose answer is malformed or whose request failed after the client's retries
    get the first-stage fallback score (:func:`~polyret.rerank.base.first_stage_fallback`),
    are counted in :attr:`fallbacks` with reasons in :attr:`failure_reasons`, and are not
    cached, so a rerun asks again. Nothing is dropped.

    Args:
        client: Any :class:`~polyret.llm.LLMClient`.
        prompt: ``"yes-no"`` (P(yes) from logprobs where the endpoint returns them) or
            ``"grade"`` (0–3).
        max_chars: Passage characters kept in the prompt.
        top_logprobs: First-token candidates asked for (0: do not ask).
        cache: Score cache (or its path); the client's own answer cache also applies.
        show_progress: Progress bar over requests.
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        prompt: Literal["yes-no", "grade"] = "yes-no",
        max_chars: int = 2000,
        top_logprobs: int = 5,
        cache: ScoreCache | str | os.PathLike[str] | None = None,
        show_progress: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(cache=cache, show_progress=show_progress)
        if prompt not in PROMPTS:
            raise InvalidInputError(
                f"prompt must be one of {sorted(PROMPTS)}, got {prompt!r}", field="prompt"
            )
        self.client = client
        self.prompt = prompt
        self.max_chars = max_chars
        self.params = {"max_tokens": 1 if prompt == "yes-no" else 3, **params}
        if top_logprobs:
            self.params["top_logprobs"] = top_logprobs
        self.failure_reasons: Counter[str] = Counter()
        identity = {
            "reranker": "llm-pointwise",
            "client": type(client).__name__,
            "model": client.model,
            "prompt": PROMPTS[prompt],
            "max_chars": max_chars,
            "params": self.params,
        }
        self.fingerprint = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def messages(self, query: str, passage: str) -> list[dict[str, str]]:
        """The conversation sent for one pair."""
        system, user = PROMPTS[self.prompt]
        return [
            {"role": "system", "content": system},
            {
                "role": "user",
                "content": user.format(query=query, passage=passage[: self.max_chars]),
            },
        ]

    def score_pairs(self, query_texts: list[str], doc_texts: list[str]) -> np.ndarray:
        conversations = [self.messages(q, d) for q, d in zip(query_texts, doc_texts, strict=True)]
        answers = self.client.chat_many(
            conversations, show_progress=self.show_progress, raise_on_error=False, **self.params
        )
        scores = np.empty(len(answers))
        reasons: Counter[str] = Counter()
        for row, answer in enumerate(answers):
            scores[row], reason = score_answer(answer, self.prompt)
            if reason is not None:
                reasons[reason.split(":")[0] if reason.startswith("request") else "malformed"] += 1
        self.failure_reasons = reasons
        if reasons:
            log.warning(
                "llm-pointwise: %d of %d answers unusable (%s)",
                sum(reasons.values()),
                len(answers),
                dict(reasons),
            )
        return scores
