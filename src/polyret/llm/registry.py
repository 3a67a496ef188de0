"""LLM backends by name, and :func:`load_llm`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from polyret.errors import InvalidInputError
from polyret.llm.base import LLMClient
from polyret.registry import Registry

llm_backends: Registry[Callable[..., LLMClient]] = Registry(
    "LLM backend",
    {
        "openai": "polyret.llm.openai:OpenAIClient",
        "transformers": "polyret.llm.local:TransformersClient",
    },
)
"""LLM client factories by name; each takes ``model`` and keyword options."""


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
    return llm_backends.create(backend, model, **options)


def client_from(
    spec: str,
    model: str | None = None,
    *,
    api_key_env: str = "OPENAI_API_KEY",
    cache: str | os.PathLike[str] | None = None,
    **options: Any,
) -> LLMClient:
    """The client a ``--llm`` value names: an ``http(s)://`` endpoint or a local model.

    Args:
        spec: ``http://host:port/v1`` (an OpenAI-compatible server, ``model`` is the name
            it serves) or a local model name/folder for the ``transformers`` backend.
        model: Model name sent to an HTTP endpoint (required for one).
        api_key_env: Environment variable holding an endpoint's API key.
        cache: SQLite answer cache path.
        **options: :class:`~polyret.llm.LLMConfig` fields.

    Example:
        >>> client_from("http://127.0.0.1:9", "m").url
        'http://127.0.0.1:9/v1/chat/completions'
    """
    if spec.startswith(("http://", "https://")):
        if not model:
            raise InvalidInputError(f"an HTTP endpoint ({spec}) needs a model name", field="model")
        return load_llm(
            "openai", model, base_url=spec, api_key_env=api_key_env, cache=cache, **options
        )
    return load_llm("transformers", spec, cache=cache, **options)
