"""The OpenAI-compatible client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from polyret.errors import InvalidInputError, MissingExtraError, UnknownNameError
from polyret.llm import LLMConfig, LLMError, OpenAIClient, SQLiteCache, load_llm, parse_json
from tests.llm.fake_openai import fake_openai, user_text

FAST = {"backoff": 0.01, "backoff_max": 0.05, "timeout": 2.0}


def hello(messages: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": messages}]


def echo(path, body, number):
    return "echo: " + user_text(body)


def test_chat_many_keeps_order_and_counts_tokens(tmp_path: Path):
    def slow_first(path, body, number):  # earlier prompts answer later
        text = user_text(body)
        return {"text": "echo: " + text, "sleep": 0.05 * (10 - int(text))}

    with fake_openai(slow_first) as server:
        client = OpenAIClient(
            "m", server.url, cache=tmp_path / "c.sqlite", max_concurrency=8, **FAST
        )
        answers = client.chat_many([hello(str(i)) for i in range(10)])
        assert [a.text for a in answers] == [f"echo: {i}" for i in range(10)]
        assert server.calls == 10
        usage = client.usage
        assert (usage.requests, usage.prompt_tokens) == (10, 10 * 10)
        assert usage.completion_tokens == 10 * 2
        assert usage.total_tokens == 10 * 12


def test_second_run_is_served_from_the_cache_with_zero_http_calls(tmp_path: Path):
    with fake_openai(echo) as server:
        first = OpenAIClient("m", server.url, cache=tmp_path / "c.sqlite", **FAST)
        texts = [a.text for a in first.chat_many([hello(f"q{i}") for i in range(5)])]
        calls = server.calls
        again = OpenAIClient("m", server.url, cache=tmp_path / "c.sqlite", **FAST)  # new process
        answers = again.chat_many([hello(f"q{i}") for i in range(5)])
        assert server.calls == calls == 5
        assert [a.text for a in answers] == texts and all(a.cached for a in answers)
        assert again.usage.cached == 5 and again.usage.requests == 0
        # other parameters or another model are other requests
        again.chat(hello("q0"), temperature=0.7)
        OpenAIClient("other", server.url, cache=tmp_path / "c.sqlite", **FAST).chat(hello("q0"))
        assert server.calls == 7


def test_429_with_retry_after_is_honoured_then_succeeds():
    def limited(path, body, number):
        if number < 2:
            return {"status": 429, "headers": {"Retry-After": "0.3"}}
        return "ok"

    with fake_openai(limited) as server:
        client = OpenAIClient("m", server.url, **FAST)
        start = time.monotonic()
        assert client.chat(hello("x")).text == "ok"
        assert time.monotonic() - start >= 0.6  # two waits of Retry-After, not 0.01 s backoff
        assert server.calls == 3 and client.usage.retries == 2


def test_500s_are_retried_and_exhausted_retries_return_a_failed_response():
    with fake_openai(lambda p, b, n: {"status": 500}) as server:
        client = OpenAIClient("m", server.url, max_retries=2, **FAST)
        with pytest.raises(LLMError, match=r"HTTP 500.*3 attempts"):
            client.chat(hello("x"))
        failed = client.chat(hello("x"), raise_on_error=False)
        assert not failed.ok and "HTTP 500" in failed.error and failed.text == ""
        assert server.calls == 6 and client.usage.failures == 2


def test_timeouts_are_retried_and_a_batch_never_loses_items(tmp_path: Path):
    def sometimes_slow(path, body, number):
        text = user_text(body)
        if text == "slow":
            return {"text": "late", "sleep": 1.0}
        return "fine " + text

    with fake_openai(sometimes_slow) as server:
        client = OpenAIClient(
            "m",
            server.url,
            cache=tmp_path / "c.sqlite",
            max_retries=1,
            raise_on_error=False,
            backoff=0.01,
            timeout=0.3,
        )
        answers = client.chat_many([hello("a"), hello("slow"), hello("b")])
        assert [a.ok for a in answers] == [True, False, True]
        assert "timed out" in answers[1].error
        assert [a.text for a in answers] == ["fine a", "", "fine b"]
        assert sum(user_text(b) == "slow" for b in server.bodies()) == 2  # one retry
        assert len(SQLiteCache(tmp_path / "c.sqlite")) == 2  # failures are not cached


def test_client_errors_are_not_retried():
    with fake_openai(lambda p, b, n: {"status": 400}) as server:
        with pytest.raises(LLMError, match="HTTP 400"):
            OpenAIClient("m", server.url, **FAST).chat(hello("x"))
        assert server.calls == 1


def test_malformed_body_is_retried_then_reported():
    with fake_openai(lambda p, b, n: {"raw": "<html>gateway</html>"}) as server:
        answer = OpenAIClient("m", server.url, max_retries=1, **FAST).chat(
            hello("x"), raise_on_error=False
        )
        assert "unexpected answer" in answer.error and server.calls == 2


def test_api_key_is_sent_but_never_cached_logged_or_in_errors(tmp_path, monkeypatch, caplog):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("POLYRET_TEST_KEY", secret)

    def answer(path, body, number):
        return {"status": 500} if user_text(body) == "fail" else "ok"

    caplog.set_level(logging.DEBUG)
    with fake_openai(answer) as server:
        client = OpenAIClient(
            "m",
            server.url,
            api_key_env="POLYRET_TEST_KEY",
            cache=tmp_path / "c.sqlite",
            max_retries=1,
            **FAST,
        )
        client.chat(hello("x"))
        failed = client.chat(hello("fail"), raise_on_error=False)
        assert server.requests[0]["headers"]["Authorization"] == f"Bearer {secret}"
    assert secret not in (failed.error or "") and secret not in repr(client)
    assert secret.encode() not in (tmp_path / "c.sqlite").read_bytes()
    wal = tmp_path / "c.sqlite-wal"
    assert not wal.exists() or secret.encode() not in wal.read_bytes()
    assert secret not in caplog.text


def test_logprobs_of_the_first_token_for_chat_and_completions():
    def answer(path, body, number):
        return {"text": "Yes", "logprobs": {"Yes": -0.1, "No": -2.4}}

    with fake_openai(answer) as server:
        chat = OpenAIClient("m", server.url, **FAST).chat(hello("x"), top_logprobs=2, max_tokens=1)
        assert chat.logprobs == {"Yes": -0.1, "No": -2.4}
        assert server.requests[-1]["body"]["logprobs"] is True
        base = OpenAIClient("m", server.url, endpoint="completions", **FAST)
        completion = base.chat(hello("x"), top_logprobs=2)
        assert server.requests[-1]["path"] == "/v1/completions"
        assert server.requests[-1]["body"]["logprobs"] == 2
        assert completion.text == "Yes" and completion.logprobs["No"] == -2.4


def test_rate_limit_spaces_requests():
    with fake_openai(echo) as server:
        client = OpenAIClient("m", server.url, requests_per_second=20, max_concurrency=4, **FAST)
        start = time.monotonic()
        client.chat_many([hello(str(i)) for i in range(6)])
        assert time.monotonic() - start >= 5 / 20 * 0.9


def test_concurrency_limit_is_respected():
    in_flight, peak, lock = [0], [0], threading.Lock()

    def count(path, body, number):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        return "ok"

    with fake_openai(count) as server:
        OpenAIClient("m", server.url, max_concurrency=3, **FAST).chat_many(
            [hello(str(i)) for i in range(12)]
        )
    assert peak[0] <= 3


def test_bad_inputs_fail_clearly(tmp_path: Path):
    with pytest.raises(InvalidInputError, match="base_url"):
        OpenAIClient("m", "127.0.0.1:8000")
    with pytest.raises(InvalidInputError, match="role"):
        OpenAIClient("m", "http://127.0.0.1:9").chat([{"content": "x"}])
    with pytest.raises(InvalidInputError, match="not a string"):
        OpenAIClient("m", "http://127.0.0.1:9").chat("hello")
    with pytest.raises(InvalidInputError):
        LLMConfig(max_concurrency=0)
    with pytest.raises(UnknownNameError, match="openai"):
        load_llm("opneai", "m")
    with pytest.raises((InvalidInputError, MissingExtraError), match=r"config\.json|transformers"):
        load_llm("transformers", str(tmp_path / "no-model"))


def test_parse_json_records_malformed_answers():
    assert parse_json("```\n[1, 2]\n```") == ([1, 2], None)
    assert parse_json('Answer: {"grade": 3}. Done.') == ({"grade": 3}, None)
    value, error = parse_json('{"grade": 3')
    assert value is None and "malformed JSON" in error
    assert parse_json("") == (None, "empty answer")
