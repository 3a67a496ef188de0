"""The :class:`LLMClient` protocol and the machinery every backend shares.

A backend implements one request (:meth:`BaseLLMClient._request`); the base class adds the
disk cache, retries with exponential backoff and jitter (honouring ``Retry-After``), a
requests-per-second limit, a concurrency limit for :meth:`BaseLLMClient.chat_many` and
token accounting. After the retries, a failure either raises :class:`LLMError` or, with
``raise_on_error=False``, comes back as an :class:`LLMResponse` whose ``error`` is set, so
a batch never loses items.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from tqdm.auto import tqdm

from polyret.errors import InvalidInputError, PolyretError
from polyret.llm.cache import SQLiteCache, cache_key

log = logging.getLogger(__name__)

Message = dict[str, str]
Messages = Sequence[Message]


class LLMError(PolyretError):
    """A request failed for good (after retries, or a non-retryable status)."""


class RetryableError(LLMError):
    """A failure worth retrying (timeout, 429, 5xx); ``retry_after`` in seconds if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class LLMResponse:
    """One answer.

    Attributes:
        text: The generated text (``""`` on failure).
        logprobs: Top candidate tokens of the *first* generated token → log-probability,
            when the backend returns them (``None`` otherwise).
        prompt_tokens: Tokens in the prompt, as the backend reported them.
        completion_tokens: Tokens generated.
        cached: Served from the disk cache (no request was made).
        error: Why the request failed (``None`` on success).
        raw: The backend's raw answer (the JSON body for HTTP backends).
    """

    text: str = ""
    logprobs: dict[str, float] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    error: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return self.error is None

    @property
    def usage(self) -> dict[str, int]:
        """``{"prompt_tokens", "completion_tokens", "total_tokens"}``."""
        total = self.prompt_tokens + self.completion_tokens
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": total,
        }


@dataclass
class Usage:
    """Running totals of one client (thread-safe updates through :meth:`add`)."""

    requests: int = 0
    cached: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "total_tokens": self.total_tokens}


@dataclass(frozen=True)
class LLMConfig:
    """Transport options shared by every backend.

    Args:
        max_concurrency: Requests in flight at once in :meth:`BaseLLMClient.chat_many`.
        max_retries: Retries after the first attempt (timeouts, 429, 5xx).
        backoff: First retry delay in seconds; doubles each retry, times a random jitter
            in [1, 1 + jitter].
        backoff_max: Longest computed delay (a server's ``Retry-After`` is honoured up
            to ``retry_after_max``).
        jitter: Relative jitter of the delay.
        retry_after_max: Longest ``Retry-After`` honoured.
        timeout: Seconds per request.
        requests_per_second: Start at most this many requests per second (``None``: no
            limit).
        raise_on_error: Raise :class:`LLMError` after the retries (``False``: return a
            failed :class:`LLMResponse`).
        params: Default generation parameters (``temperature``, ``max_tokens``, ...),
            overridden per call.
    """

    max_concurrency: int = 4
    max_retries: int = 4
    backoff: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.25
    retry_after_max: float = 120.0
    timeout: float = 60.0
    requests_per_second: float | None = None
    raise_on_error: bool = True
    params: dict[str, Any] = field(default_factory=lambda: {"temperature": 0.0})

    def __post_init__(self) -> None:
        if self.max_concurrency < 1 or self.max_retries < 0:
            raise InvalidInputError(
                "max_concurrency ≥ 1 and max_retries ≥ 0 required", field="max_concurrency"
            )
        if self.timeout <= 0 or (
            self.requests_per_second is not None and self.requests_per_second <= 0
        ):
            raise InvalidInputError(
                "timeout and requests_per_second must be positive", field="timeout"
            )


@runtime_checkable
class LLMClient(Protocol):
    """What every LLM backend offers."""

    model: str

    @property
    def usage(self) -> Usage: ...

    def chat(self, messages: Messages, **params: Any) -> LLMResponse:
        """Answer one conversation (list of ``{"role", "content"}``)."""
        ...

    def chat_many(
        self, conversations: Sequence[Messages], *, show_progress: bool = False, **params: Any
    ) -> list[LLMResponse]:
        """Answer many conversations concurrently; results in input order."""
        ...


class RateLimiter:
    """Spaces request starts at least ``1 / rate`` seconds apart (thread-safe)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 0.0 if not rate else 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class BaseLLMClient:
    """Cache, retries, rate limit, concurrency and accounting around one request.

    Subclasses set :attr:`kind` and implement :meth:`_request`, raising
    :class:`RetryableError` for transient failures and :class:`LLMError` otherwise.

    Args:
        model: Model name sent to the backend (part of the cache key).
        config: Transport options.
        cache: An :class:`SQLiteCache`, a path to one, or ``None`` (no cache).
        **options: Overrides of ``config`` fields.
    """

    kind = "base"

    def __init__(
        self,
        model: str,
        config: LLMConfig | None = None,
        *,
        cache: SQLiteCache | str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        config = config or LLMConfig()
        self.config = replace(config, **options) if options else config
        self.model = model
        if cache is not None and not isinstance(cache, SQLiteCache):
            cache = SQLiteCache(cache)
        self.cache = cache
        self._usage = Usage()
        self._usage_lock = threading.Lock()
        self._limiter = RateLimiter(self.config.requests_per_second)

    @property
    def usage(self) -> Usage:
        """Totals so far: requests, cache hits, failures, retries, tokens."""
        with self._usage_lock:
            return replace(self._usage)

    def chat(
        self, messages: Messages, *, raise_on_error: bool | None = None, **params: Any
    ) -> LLMResponse:
        """Answer one conversation, from the cache when it was answered before.

        Args:
            messages: ``[{"role": "system"|"user"|"assistant", "content": ...}, ...]``.
            raise_on_error: Override of ``config.raise_on_error`` for this call.
            **params: Generation parameters (``temperature``, ``max_tokens``,
                ``top_logprobs``, ``stop``, ...), merged over ``config.params``.

        Raises:
            LLMError: the request failed after the retries and ``raise_on_error`` holds.
        """
        messages = _checked(messages)
        merged = {**self.config.params, **params}
        key = cache_key(self.kind, self.model, messages, merged)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self._count(cached=1)
                return replace(LLMResponse(**hit), cached=True)
        try:
            response = self._with_retries(messages, merged)
        except LLMError as error:
            self._count(failures=1)
            if self.config.raise_on_error if raise_on_error is None else raise_on_error:
                raise
            return LLMResponse(error=str(error))
        self._count(
            requests=1,
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
        )
        if self.cache is not None:
            stored = asdict(response)
            stored.pop("cached")
            self.cache.put(key, stored)
        return response

    def chat_many(
        self,
        conversations: Sequence[Messages],
        *,
        show_progress: bool = False,
        raise_on_error: bool | None = None,
        **params: Any,
    ) -> list[LLMResponse]:
        """Answer many conversations with at most ``config.max_concurrency`` in flight.

        Returns:
            One response per conversation, in input order.
        """
        conversations = list(conversations)
        results: list[LLMResponse | None] = [None] * len(conversations)
        bar = tqdm(total=len(conversations), disable=not show_progress, desc="llm", unit="req")

        def one(row: int) -> None:
            results[row] = self.chat(conversations[row], raise_on_error=raise_on_error, **params)
            bar.update(1)

        try:
            if self.config.max_concurrency == 1 or len(conversations) <= 1:
                for row in range(len(conversations)):
                    one(row)
            else:
                with ThreadPoolExecutor(self.config.max_concurrency) as pool:
                    for future in [pool.submit(one, row) for row in range(len(conversations))]:
                        future.result()
        finally:
            bar.close()
        return results  # type: ignore[return-value]

    # -- for subclasses ---------------------------------------------------------------
    def _request(self, messages: list[Message], params: dict[str, Any]) -> LLMResponse:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------
    def _with_retries(self, messages: list[Message], params: dict[str, Any]) -> LLMResponse:
        config = self.config
        for attempt in range(config.max_retries + 1):
            self._limiter.acquire()
            try:
                return self._request(messages, params)
            except RetryableError as error:
                if attempt == config.max_retries:
                    raise LLMError(f"{error} (gave up after {attempt + 1} attempts)") from None
                delay = min(config.backoff_max, config.backoff * 2**attempt)
                delay *= 1.0 + config.jitter * random.random()
                if error.retry_after is not None:
                    delay = max(delay, min(error.retry_after, config.retry_after_max))
                log.debug("%s; retry %d in %.2f s", error, attempt + 1, delay)
                self._count(retries=1)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _count(self, **amounts: int) -> None:
        with self._usage_lock:
            for name, amount in amounts.items():
                setattr(self._usage, name, getattr(self._usage, name) + amount)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def _checked(messages: Messages) -> list[Message]:
    if isinstance(messages, str):
        raise InvalidInputError(
            "messages must be a list of {'role', 'content'} dicts, not a string", field="messages"
        )
    out = []
    for row, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise InvalidInputError(f"message {row} needs 'role' and 'content'", field="messages")
        out.append({"role": str(message["role"]), "content": str(message["content"])})
    if not out:
        raise InvalidInputError("no messages", field="messages")
    return out
