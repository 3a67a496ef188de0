"""RankGPT-style listwise reranking with a sliding window over the candidates.

References:
    Sun, Yan, Ma, Wang, Ren, Chen, Yin and Ren, "Is ChatGPT Good at Search? Investigating
    Large Language Models as Re-Ranking Agents", EMNLP 2023 (RankGPT), arXiv 2304.09542.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

import numpy as np

from polyret.errors import InvalidInputError
from polyret.llm import LLMClient
from polyret.rerank.base import assemble, candidates
from polyret.types import Corpus, Queries, Run

log = logging.getLogger(__name__)

SYSTEM = (
    "You are RankGPT, an intelligent assistant that can rank passages based on their "
    "relevancy to the query."
)
_NUMBER = re.compile(r"\d+")


def parse_permutation(text: str, size: int) -> tuple[list[int], Counter[str]]:
    """A full permutation of ``range(size)`` from an answer like ``"[3] > [1] > [2]"``.

    Identifiers are 1-based in the answer. Repairs, counted in the returned Counter:
    duplicates keep their first occurrence, out-of-range ids are dropped, missing ids are
    appended in their original order (``"empty"`` when no id at all was found).

    Example:
        >>> parse_permutation("[3] > [1] > [3] > [9]", 4)
        ([2, 0, 1, 3], Counter({'missing': 2, 'duplicate': 1, 'out_of_range': 1}))
        >>> parse_permutation("I cannot rank these.", 2)[0]
        [0, 1]
    """
    issues: Counter[str] = Counter()
    seen: list[int] = []
    for match in _NUMBER.findall(text or ""):
        ident = int(match) - 1
        if not 0 <= ident < size:
            issues["out_of_range"] += 1
        elif ident in seen:
            issues["duplicate"] += 1
        else:
            seen.append(ident)
    if not seen and size:
        issues["empty"] += 1
    missing = [i for i in range(size) if i not in set(seen)]
    if missing and seen:
        issues["missing"] += len(missing)
    return seen + missing, issues


def window_starts(count: int, window: int, step: int) -> list[int]:
    """Start offsets of the windows, back to front, the last one at 0.

    Example:
        >>> window_starts(100, 20, 10)
        [80, 70, 60, 50, 40, 30, 20, 10, 0]
        >>> window_starts(25, 20, 10), window_starts(5, 20, 10)
        ([5, 0], [0])
    """
    if count <= window:
        return [0]
    starts = list(range(count - window, 0, -step))
    return [*starts, 0] if starts[-1] != 0 else starts


class LLMListwiseReranker:
    """Ranks windows of passages in one prompt each, sliding from the bottom to the top.

    Windows of ``window`` passages move up by ``step`` so the best passages bubble to the
    top; the windows of all queries at the same position go out as one concurrent batch.
    An answer that is missing, failed, or names no id keeps the window's order (counted
    in :attr:`fallbacks`); partial permutations are repaired (:func:`parse_permutation`,
    counts in :attr:`repairs`). Every candidate keeps a score: ``k - position``.

    Args:
        client: Any :class:`~polyret.llm.LLMClient`.
        window: Passages per prompt (20 in RankGPT).
        step: Window shift (10 in RankGPT).
        max_chars: Characters kept per passage.
        show_progress: Progress bars over requests.
        **params: Generation parameters (``max_tokens``, ...).
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        window: int = 20,
        step: int = 10,
        max_chars: int = 600,
        show_progress: bool = False,
        **params: Any,
    ) -> None:
        if window < 2 or not 1 <= step <= window:
            raise InvalidInputError("need window ≥ 2 and 1 ≤ step ≤ window", field="window")
        self.client = client
        self.window = window
        self.step = step
        self.max_chars = max_chars
        self.show_progress = show_progress
        self.params = {"max_tokens": 8 * window, **params}
        self.fallbacks = 0
        self.repairs: Counter[str] = Counter()

    def messages(self, query: str, passages: list[str]) -> list[dict[str, str]]:
        """The RankGPT conversation for one window."""
        n = len(passages)
        listing = "\n".join(f"[{i + 1}] {p[: self.max_chars]}" for i, p in enumerate(passages))
        user = (
            f"I will provide you with {n} passages, each indicated by a numerical identifier "
            f"[]. Rank the passages based on their relevance to the search query: {query}\n\n"
            f"{listing}\n\nSearch Query: {query}\nRank the {n} passages above based on their "
            "relevance to the search query. List them in descending order of relevance using "
            "their identifiers, the most relevant first. The output format should be "
            "[] > [], e.g., [2] > [1]. Only respond with the ranking, no explanation."
        )
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]

    def rerank(self, queries: Queries, run: Run, corpus: Corpus, k: int = 100) -> Run:
        """Rerank each query's top ``k`` with sliding windows; the rest keep their order."""
        found = candidates(queries, run, corpus, k)
        spans = found.spans()
        orders = {qid: list(range(start, end)) for qid, start, end in spans}
        plans = {
            qid: window_starts(end - start, self.window, self.step) for qid, start, end in spans
        }
        self.fallbacks = 0
        self.repairs = Counter()
        for round_ in range(max((len(p) for p in plans.values()), default=0)):
            jobs = [(qid, plans[qid][round_]) for qid, _, _ in spans if round_ < len(plans[qid])]
            conversations = []
            for qid, start in jobs:
                rows = orders[qid][start : start + self.window]
                conversations.append(
                    self.messages(found.query_texts[rows[0]], [found.doc_texts[r] for r in rows])
                )
            answers = self.client.chat_many(
                conversations, show_progress=self.show_progress, raise_on_error=False, **self.params
            )
            for (qid, start), answer in zip(jobs, answers, strict=True):
                rows = orders[qid][start : start + self.window]
                permutation, issues = parse_permutation(answer.text if answer.ok else "", len(rows))
                if not answer.ok or issues["empty"]:
                    self.fallbacks += 1
                self.repairs.update(issues)
                orders[qid][start : start + len(rows)] = [rows[i] for i in permutation]
        if self.fallbacks or self.repairs:
            log.warning(
                "llm-listwise: %d windows kept their order (failed or unparseable "
                "answers); repairs: %s",
                self.fallbacks,
                dict(self.repairs),
            )
        reranked = {}
        for qid, order in orders.items():
            scores = np.arange(len(order), 0, -1, dtype=np.float64)
            reranked[qid] = dict(zip(found.doc_ids[order].tolist(), scores.tolist(), strict=True))
        return assemble(run, reranked, k)
