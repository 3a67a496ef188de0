"""Keys of LLM requests; the answers live in an :class:`~polyret.io.sqlite.SQLiteCache`.

Keys are sha256 digests of ``(backend kind, model, messages, params)`` as canonical JSON:
never the API key or the endpoint's address, so moving a server does not invalidate the
cache and no secret reaches the file. Failed answers are never stored, so a resumed job
retries exactly what is missing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def cache_key(kind: str, model: str, messages: Any, params: dict[str, Any]) -> str:
    """sha256 of the request's canonical JSON.

    Example:
        >>> a = cache_key("chat", "m", [{"role": "user", "content": "hi"}], {"temperature": 0})
        >>> a == cache_key("chat", "m", [{"content": "hi", "role": "user"}], {"temperature": 0})
        True
    """
    payload = json.dumps(
        {"kind": kind, "model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
