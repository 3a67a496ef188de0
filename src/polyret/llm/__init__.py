"""LLM clients: OpenAI-compatible HTTP endpoints and local transformers models.

Every client shares a disk cache, retries with backoff, a rate limit, a concurrency limit
for batches and token accounting (:class:`BaseLLMClient`).
"""

from polyret.io.sqlite import SQLiteCache
from polyret.llm.base import (
    BaseLLMClient,
    LLMClient,
    LLMConfig,
    LLMError,
    LLMResponse,
    RetryableError,
    UnsupportedError,
    Usage,
)
from polyret.llm.cache import cache_key
from polyret.llm.openai import OpenAIClient
from polyret.llm.parsing import parse_json
from polyret.llm.registry import client_from, llm_backends, load_llm

__all__ = [
    "BaseLLMClient",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "LLMResponse",
    "OpenAIClient",
    "RetryableError",
    "SQLiteCache",
    "UnsupportedError",
    "Usage",
    "cache_key",
    "client_from",
    "llm_backends",
    "load_llm",
    "parse_json",
]
