"""Any OpenAI-compatible HTTP endpoint (OpenAI, vLLM, Ollama, llama.cpp server, TGI).

``/v1/chat/completions`` for chat models, ``/v1/completions`` for base models (the
messages are joined into one prompt). Log-likelihoods of text come from
``/v1/completions`` with ``echo=True`` (vLLM, llama.cpp server, TGI, lm-eval-harness's
``local-completions`` style): the prompt's own token log-probabilities. The API key is
read from an environment variable at request time; it is sent only in the
``Authorization`` header and never logged, cached or put in an error message.
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from polyret.errors import InvalidInputError
from polyret.io.sqlite import SQLiteCache
from polyret.llm.base import (
    BaseLLMClient,
    LLMConfig,
    LLMError,
    LLMResponse,
    Message,
    RetryableError,
    UnsupportedError,
)

log = logging.getLogger(__name__)

Endpoint = Literal["chat", "completions"]
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class OpenAIClient(BaseLLMClient):
    """A client of an OpenAI-compatible endpoint.

    Args:
        model: Model name the server expects.
        base_url: Server root, e.g. ``http://127.0.0.1:8000/v1`` (``/v1`` is added when
            the URL has no path).
        api_key_env: Environment variable holding the API key (unset: no key is sent,
            fine for local servers).
        endpoint: ``"chat"`` (``/chat/completions``) or ``"completions"`` (base models).
        config: Transport options (retries, timeout, concurrency, rate limit).
        cache: SQLite cache (or its path) of answers.
        **options: Overrides of ``config`` fields.

    Generation parameters are passed through to the server, except ``top_logprobs``
    (an int): it becomes ``logprobs=True, top_logprobs=n`` for chat and ``logprobs=n``
    for completions, and :attr:`LLMResponse.logprobs` holds the first token's candidates
    (:attr:`LLMResponse.token_logprobs` every generated token's log-probability).

    :meth:`loglikelihood` posts ``context + continuation`` to ``/completions`` (whatever
    ``endpoint`` is) with ``echo=True, max_tokens=1, logprobs=1`` and sums the
    log-probabilities of the tokens whose ``text_offset`` lies inside the continuation.
    A server that ignores ``echo`` (no prompt log-probabilities in the answer) raises
    :class:`~polyret.llm.base.UnsupportedError` once, and the client remembers it.

    Example:
        >>> client = OpenAIClient("qwen2.5-7b", base_url="http://127.0.0.1:8000")
        >>> client.url
        'http://127.0.0.1:8000/v1/chat/completions'
    """

    def __init__(
        self,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        endpoint: Endpoint = "chat",
        config: LLMConfig | None = None,
        cache: SQLiteCache | str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, config, cache=cache, **options)
        if endpoint not in ("chat", "completions"):
            raise InvalidInputError(
                f"endpoint must be 'chat' or 'completions', got {endpoint!r}", field="endpoint"
            )
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInputError(
                f"base_url must be an http(s) URL, got {base_url!r}", field="base_url"
            )
        root = base_url.rstrip("/")
        if parts.path in ("", "/"):
            root += "/v1"
        self.base_url = root
        self.endpoint = endpoint
        self.kind = f"openai-{endpoint}"
        self.url = f"{root}/{'chat/completions' if endpoint == 'chat' else 'completions'}"
        self.api_key_env = api_key_env
        self._http = httpx.Client(timeout=self.config.timeout)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return text.replace(key, "***") if key else text

    def _payload(self, messages: list[Message], params: dict[str, Any]) -> dict[str, Any]:
        params = dict(params)
        top = params.pop("top_logprobs", None)
        if self.endpoint == "chat":
            payload: dict[str, Any] = {"model": self.model, "messages": messages, **params}
            if top:
                payload.update(logprobs=True, top_logprobs=int(top))
        else:
            payload = {"model": self.model, "prompt": messages_to_prompt(messages), **params}
            if top:
                payload["logprobs"] = int(top)
        return payload

    def _request(self, messages: list[Message], params: dict[str, Any]) -> LLMResponse:
        body = self._post(self.url, self._payload(messages, params))
        try:
            return self._parse(body)
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise RetryableError(f"{self.url}: unexpected answer ({error!r})") from None

    def _loglikelihood(self, context: str, continuation: str) -> tuple[float, int]:
        url = f"{self.base_url}/completions"
        payload = {
            "model": self.model,
            "prompt": context + continuation,
            "echo": True,
            "max_tokens": 1,
            "logprobs": 1,
            "temperature": 0.0,
        }
        body = self._post(url, payload)
        try:
            logprobs = body["choices"][0].get("logprobs") or {}
            offsets = logprobs.get("text_offset")
            values = logprobs.get("token_logprobs")
            usage = body.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as error:
            raise RetryableError(f"{url}: unexpected answer ({error!r})") from None
        if not offsets or not values:
            raise UnsupportedError(
                f"{url} returned no prompt log-probabilities (echo=True is not supported)"
            )
        try:
            return continuation_logprob(offsets, values, len(context), len(continuation)), (
                prompt_tokens
            )
        except (TypeError, ValueError) as error:
            raise RetryableError(f"{url}: unexpected answer ({error!r})") from None

    def _post(self, url: str, payload: dict[str, Any]) -> Any:
        try:
            reply = self._http.post(url, json=payload, headers=self._headers())
        except httpx.TimeoutException:
            raise RetryableError(f"{url}: timed out after {self.config.timeout} s") from None
        except httpx.TransportError as error:
            raise RetryableError(f"{url}: {self._redact(type(error).__name__)}") from None
        if reply.status_code != 200:
            body = self._redact(reply.text[:300])
            message = f"{url}: HTTP {reply.status_code}: {body}"
            if reply.status_code in RETRYABLE_STATUS or reply.status_code >= 500:
                raise RetryableError(message, retry_after(reply.headers.get("retry-after")))
            raise LLMError(message)
        try:
            return reply.json()
        except ValueError as error:
            raise RetryableError(f"{url}: unexpected answer ({error!r})") from None

    def _parse(self, body: dict[str, Any]) -> LLMResponse:
        choice = body["choices"][0]
        usage = body.get("usage") or {}
        if self.endpoint == "chat":
            text = (choice.get("message") or {}).get("content") or ""
            content = (choice.get("logprobs") or {}).get("content") or []
            logprobs = None
            if content:
                first = content[0]
                tops = first.get("top_logprobs") or [first]
                logprobs = {t["token"]: float(t["logprob"]) for t in tops}
            tokens = [float(t["logprob"]) for t in content] or None
        else:
            text = choice.get("text") or ""
            details = choice.get("logprobs") or {}
            tops = details.get("top_logprobs") or []
            logprobs = {k: float(v) for k, v in tops[0].items()} if tops else None
            values = details.get("token_logprobs") or []
            tokens = [float(v) for v in values if v is not None] or None
        return LLMResponse(
            text=text,
            logprobs=logprobs,
            token_logprobs=tokens,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            raw=body,
        )


def continuation_logprob(
    offsets: list[int], logprobs: list[float | None], context_chars: int, continuation_chars: int
) -> float:
    """Sum of the log-probabilities of the tokens that start inside the continuation.

    ``offsets`` are the tokens' character offsets in ``context + continuation`` (plus any
    generated token after it, which is left out); ``None`` log-probabilities (the first
    token of a prompt has none) count as 0.

    Example:
        >>> # "Passage: x" + " query" tokenized as "Passage", ":", " x", " query", "."
        >>> continuation_logprob([0, 7, 8, 10, 16], [None, -1.0, -2.0, -0.5, -3.0], 10, 6)
        -0.5
    """
    if len(offsets) != len(logprobs):
        raise ValueError(f"{len(offsets)} text offsets but {len(logprobs)} log-probabilities")
    end = context_chars + continuation_chars
    total = 0.0
    for offset, logprob in zip(offsets, logprobs, strict=True):
        if context_chars <= int(offset) < end and logprob is not None:
            total += float(logprob)
    return total


def messages_to_prompt(messages: list[Message]) -> str:
    """Join messages into one prompt for a base model (contents separated by blank lines).

    Example:
        >>> messages_to_prompt([{"role": "system", "content": "Be brief."},
        ...                     {"role": "user", "content": "Query:"}])
        'Be brief.\\n\\nQuery:'
    """
    return "\n\n".join(m["content"] for m in messages)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    Example:
        >>> retry_after("2"), retry_after(None), retry_after("soon")
        (2.0, None, None)
    """
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
