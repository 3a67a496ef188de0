"""LLM backends by name, and :func:`load_llm`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polyret.llm.base import LLMClient
from polyret.registry import Registry

llm_backends: Registry[Callable[..., LLMClient]] = Registry("LLM backend")
"""LLM client factories by name; each takes ``model`` and keyword options."""

llm_backends.add_lazy("openai", "polyret.llm.openai:OpenAIClient")
llm_backends.add_lazy("transformers", "polyret.llm.local:TransformersClient")


def load_llm(backend: str = "openai", model: str = "", **options: Any) -> LLMClient:
    """An LLM client by backend name.

    Args:
        backend: ``"openai"`` (any OpenAI-compatible endpoint) or ``"transformers"``.
        model: Model name (HTTP) or folder (transformers).
        **options: Backend options (``base_url``, ``api_key_env``, ``endpoint``, ``cache``)
            and :class:`~polyret.llm.LLMConfig` fields.

    Example:
        >>> load_llm("openai", "m", base_url="http://127.0.0.1:9").url
        'http://127.0.0.1:9/v1/chat/completions'
    """
    return llm_backends.get(backend)(model, **options)
