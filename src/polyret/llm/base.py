"""The :class:`LLMClient` protocol and the machinery every backend shares.

A backend implements one request (:meth:`BaseLLMClient._request`); the base class adds the
disk cache, retries with exponential backoff and jitter (honouring ``Retry-After``), a
requests-per-second limit, a concurrency limit for :meth:`BaseLLMClient.chat_many` and
token accounting. After the retries, a failure either raises :class:`LLMError` or, with
``raise_on_error=False``, comes back as an :class:`LLMResponse` whose ``error`` is set, so
a batch never loses items.

Besides chat, a client may score text: :meth:`BaseLLMClient.loglikelihood` gives
``log P(continuation | context)`` (query likelihood, Sachan et al. 2022), cached and retried
like chat; a backend that cannot raises :class:`UnsupportedError`.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, TypeVar, runtime_checkable

from tqdm.auto import tqdm

from polyret.errors import InvalidInputError, PolyretError
from polyret.io.sqlite import SQLiteCache
from polyret.llm.cache import cache_key

log = logging.getLogger(__name__)

Message = dict[str, str]
Messages = Sequence[Message]
T = TypeVar("T")


class LLMError(PolyretError):
    """A request failed for good (after retries, or a non-retryable status)."""


class UnsupportedError(LLMError):
    """The backend cannot do what was asked (e.g. no log-likelihoods); never retried."""


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
        token_logprobs: Log-probability of every generated token, when the backend
            returns them (asked for with ``top_logprobs``; ``None`` otherwise).
        prompt_tokens: Tokens in the prompt, as the backend reported them.
        completion_tokens: Tokens generated.
        cached: Served from the disk cache (no request was made).
        error: Why the request failed (``None`` on success).
        raw: The backend's raw answer (the JSON body for HTTP backends).
    """

    text: str = ""
    logprobs: dict[str, float] | None = None
    token_logprobs: list[float] | None = None
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

    def loglikelihood(self, context: str, continuation: str) -> float:
        """``log P(continuation | context)`` summed over the continuation's tokens.

        Raises:
            UnsupportedError: the backend cannot score text.
        """
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
        self._no_loglikelihood: str | None = None

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
            response = self._with_retries(lambda: self._request(messages, merged))
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
        return self._map(
            lambda c: self.chat(c, raise_on_error=raise_on_error, **params),
            conversations,
            show_progress,
        )

    def loglikelihood(self, context: str, continuation: str) -> float:
        """``log P(continuation | context)``: the continuation's token log-probabilities summed.

        Served from the cache when scored before (its own key kind), retried like
        :meth:`chat`. Tokens are counted from the first one that starts at or after
        ``len(context)``; put the separating space at the start of ``continuation``.
        Backends implement :meth:`_loglikelihood`.

        Args:
            context: The conditioning text (a prompt ending right before the continuation).
            continuation: The text to score.

        Returns:
            The log-likelihood (≤ 0), or ``nan`` when the request failed and
            ``config.raise_on_error`` is false.

        Raises:
            UnsupportedError: the backend cannot score text (raised whatever
                ``raise_on_error`` says, since retrying or recording cannot help).
            LLMError: the request failed after the retries and ``config.raise_on_error``.
        """
        return self._scored(context, continuation, None)

    def loglikelihood_many(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        show_progress: bool = False,
        raise_on_error: bool | None = None,
    ) -> list[float]:
        """:meth:`loglikelihood` of many ``(context, continuation)`` pairs, at most
        ``config.max_concurrency`` in flight; results in input order.

        Args:
            pairs: ``(context, continuation)`` pairs.
            show_progress: Progress bar over requests.
            raise_on_error: Override of ``config.raise_on_error`` (``False``: ``nan`` for
                a failed pair).

        Raises:
            UnsupportedError: the backend cannot score text.
        """
        if type(self).loglikelihood is BaseLLMClient.loglikelihood:
            return self._map(
                lambda pair: self._scored(pair[0], pair[1], raise_on_error),
                list(pairs),
                show_progress,
            )
        # a subclass with its own loglikelihood(context, continuation)
        raising = self.config.raise_on_error if raise_on_error is None else raise_on_error

        def one(pair: tuple[str, str]) -> float:
            try:
                return float(self.loglikelihood(*pair))
            except UnsupportedError:
                raise
            except LLMError:
                if raising:
                    raise
                return float("nan")

        return self._map(one, list(pairs), show_progress)

    def _scored(self, context: str, continuation: str, raise_on_error: bool | None) -> float:
        if self._no_loglikelihood is not None:
            raise UnsupportedError(self._no_loglikelihood)
        text = {"context": str(context), "continuation": str(continuation)}
        key = cache_key(f"{self.kind}/loglikelihood", self.model, text, {})
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self._count(cached=1)
                return float(hit["logprob"])
        try:
            logprob, prompt_tokens = self._with_retries(
                lambda: self._loglikelihood(text["context"], text["continuation"])
            )
        except UnsupportedError as error:
            self._no_loglikelihood = str(error)
            raise
        except LLMError:
            self._count(failures=1)
            if self.config.raise_on_error if raise_on_error is None else raise_on_error:
                raise
            return float("nan")
        self._count(requests=1, prompt_tokens=prompt_tokens)
        if self.cache is not None:
            self.cache.put(key, {"logprob": logprob})
        return logprob

    # -- for subclasses ---------------------------------------------------------------
    def _request(self, messages: list[Message], params: dict[str, Any]) -> LLMResponse:
        raise NotImplementedError

    def _loglikelihood(self, context: str, continuation: str) -> tuple[float, int]:
        """``(log-likelihood, prompt tokens)`` of one pair, from the backend."""
        raise UnsupportedError(f"{type(self).__name__} cannot compute log-likelihoods")

    # -- shared -----------------------------------------------------------------------
    def _map(self, one: Callable[[Any], T], items: list[Any], show_progress: bool) -> list[T]:
        """``one(item)`` for every item with at most ``config.max_concurrency`` in flight."""
        results: list[Any] = [None] * len(items)
        bar = tqdm(total=len(items), disable=not show_progress, desc="llm", unit="req")

        def run(row: int) -> None:
            results[row] = one(items[row])
            bar.update(1)

        try:
            if self.config.max_concurrency == 1 or len(items) <= 1:
                for row in range(len(items)):
                    run(row)
            else:
                with ThreadPoolExecutor(self.config.max_concurrency) as pool:
                    for future in [pool.submit(run, row) for row in range(len(items))]:
                        future.result()
        finally:
            bar.close()
        return results

    def _with_retries(self, request: Callable[[], T]) -> T:
        config = self.config
        for attempt in range(config.max_retries + 1):
            self._limiter.acquire()
            try:
                return request()
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
