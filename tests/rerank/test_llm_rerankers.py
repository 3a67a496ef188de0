"""LLM rerankers against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import pytest

from polyret.llm import OpenAIClient
from polyret.rerank import LLMListwiseReranker, LLMPointwiseReranker, parse_permutation
from polyret.types import Corpus, Queries, Run
from tests.llm.fake_openai import fake_openai, user_text

FAST = {"backoff": 0.01, "backoff_max": 0.05, "timeout": 2.0, "max_concurrency": 4}
WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]
# document i mentions the query word "target" i times: the ideal order is by i descending
CORPUS = Corpus.from_dict(
    {f"d{i:02d}": " ".join(["target"] * i + WORDS[: (i % 10) + 1]) for i in range(30)}
)
QUERIES = Queries.from_dict({"q1": "target", "q2": "target words"})
RUN = Run.from_dict({q: {f"d{i:02d}": float(i) for i in range(30)} for q in QUERIES.ids})


def passage_of(body) -> str:
    return re.search(r"Passage: (.*)\n\n", user_text(body), re.S).group(1)


def relevance(passage: str) -> float:
    return passage.split().count("target") / 30


def test_pointwise_yes_probability_from_logprobs(tmp_path: Path):
    def judge(path, body, number):
        p = min(max(relevance(passage_of(body)), 0.01), 0.99)
        return {"text": "Yes", "logprobs": {"Yes": math.log(p), "No": math.log(1 - p)}}

    with fake_openai(judge) as server:
        client = OpenAIClient("judge", server.url, **FAST)
        reranker = LLMPointwiseReranker(client, cache=tmp_path / "scores.sqlite")
        out = reranker.rerank(QUERIES, RUN, CORPUS, k=20)
        assert server.calls == 40 and server.bodies()[0]["top_logprobs"] == 5
        # the top 20 (d10..d29) come back best first; d00..d09 keep their order below
        assert list(out["q1"])[:20] == [f"d{i:02d}" for i in range(29, 9, -1)]
        assert list(out["q1"])[20:] == [f"d{i:02d}" for i in range(9, -1, -1)]
        assert out["q1"]["d29"] == pytest.approx(29 / 30)  # P(yes) / (P(yes) + P(no))
        again = LLMPointwiseReranker(
            OpenAIClient("judge", server.url, **FAST), cache=tmp_path / "scores.sqlite"
        )
        assert again.rerank(QUERIES, RUN, CORPUS, k=20) == out and server.calls == 40


def test_pointwise_grades_malformed_answers_and_errors_all_keep_a_score(tmp_path, caplog):
    limited: set[str] = set()

    def moody(path, body, number):
        passage = passage_of(body)
        count = passage.split().count("target")
        if count == 3:
            return "I'd rather not say."  # malformed
        if count == 4:
            return {"status": 500}  # fails on every retry
        if count == 5 and user_text(body) not in limited:
            limited.add(user_text(body))  # transient: the first try of each pair only
            return {"status": 429, "headers": {"Retry-After": "0"}}
        if count == 6:
            return {"text": "3", "sleep": 4}  # always times out
        return f"Grade: {min(3, count // 8)}"

    caplog.set_level(logging.WARNING)
    with fake_openai(moody) as server:
        client = OpenAIClient("judge", server.url, max_retries=1, backoff=0.01, timeout=1.5)
        reranker = LLMPointwiseReranker(
            client, prompt="grade", top_logprobs=0, cache=tmp_path / "s.sqlite"
        )
        out = reranker.rerank(QUERIES, RUN, CORPUS, k=30)
        for qid in QUERIES.ids:
            assert sorted(out[qid]) == sorted(RUN[qid])  # nothing dropped
            assert all(math.isfinite(s) for s in out[qid].values())
        assert reranker.fallbacks == 2 * 3  # d03, d04, d06 in both queries
        assert reranker.failure_reasons["malformed"] == 2
        assert reranker.failure_reasons["request failed"] == 4
        assert "6 of 60 pairs" in caplog.text  # counted and logged
        # fallback = first-stage score min-max scaled: d06 → 6/29
        assert out["q1"]["d06"] == pytest.approx(6 / 29)
        assert out["q1"]["d29"] == 1.0 and out["q1"]["d05"] == 0.0  # 429 was retried
        calls = server.calls
        # a rerun asks again only for the pairs that fell back (not cached)
        LLMPointwiseReranker(
            OpenAIClient("judge", server.url, max_retries=0, timeout=1.5),
            prompt="grade",
            top_logprobs=0,
            cache=tmp_path / "s.sqlite",
        ).rerank(QUERIES, RUN, CORPUS, k=30)
        assert server.calls - calls == 6


def listwise_judge(path, body, number):
    """Ranks the window by relevance, with the answer formats real models produce."""
    text = user_text(body)
    listing = re.findall(r"^\[(\d+)\] (.*)$", text, re.M)
    ranked = sorted(listing, key=lambda item: -relevance(item[1]))
    ids = [int(i) for i, _ in ranked]
    if number % 3 == 1:  # duplicate, out of range, missing last id
        return " > ".join(f"[{i}]" for i in [ids[0], ids[0], 99, *ids[1:-1]])
    if number % 7 == 5:
        return "Sorry, I cannot help with that."
    return "Ranking: " + " > ".join(f"[{i}]" for i in ids)


def test_listwise_sliding_window_sorts_and_repairs(tmp_path: Path):
    with fake_openai(listwise_judge) as server:
        client = OpenAIClient("ranker", server.url, cache=tmp_path / "llm.sqlite", **FAST)
        reranker = LLMListwiseReranker(client, window=10, step=5)
        out = reranker.rerank(QUERIES, RUN, CORPUS, k=30)
        windows = 2 * 5  # starts 20, 15, 10, 5, 0 per query
        assert server.calls == windows
        assert reranker.repairs["duplicate"] and reranker.repairs["out_of_range"]
        assert reranker.repairs["missing"] >= 1
        for qid in QUERIES.ids:
            ranked = list(out[qid])
            assert sorted(ranked) == sorted(RUN[qid])
            assert ranked[0] == "d29"  # the best passage bubbles up through every window
        calls = server.calls
        LLMListwiseReranker(
            OpenAIClient("ranker", server.url, cache=tmp_path / "llm.sqlite", **FAST),
            window=10,
            step=5,
        ).rerank(QUERIES, RUN, CORPUS, k=30)
        assert server.calls == calls  # second run: every window from the cache


def test_listwise_failed_windows_keep_their_order():
    with fake_openai(lambda p, b, n: {"status": 503}) as server:
        client = OpenAIClient("ranker", server.url, max_retries=0, **FAST)
        reranker = LLMListwiseReranker(client, window=20, step=10)
        out = reranker.rerank(QUERIES, RUN, CORPUS, k=25)
        assert reranker.fallbacks == 2 * 2
        assert list(out["q1"]) == list(RUN["q1"])


def test_permutation_parser_edge_cases():
    assert parse_permutation("[2] > [1]", 2)[0] == [1, 0]
    assert parse_permutation("2 > 1 > 3", 3)[0] == [1, 0, 2]
    assert parse_permutation("[0] > [2]", 2) == ([1, 0], parse_permutation("[0] > [2]", 2)[1])
    assert parse_permutation("", 0)[0] == []
