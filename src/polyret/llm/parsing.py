"""Tolerant parsing of structured (JSON) LLM answers."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:[A-Za-z0-9_-]+)?\s*\n?(.*?)```", re.DOTALL)


def parse_json(text: str) -> tuple[Any | None, str | None]:
    """Parse the JSON value an LLM answered, tolerating fences and surrounding text.

    Tried in order: the whole text; the content of the first ```` ``` ```` fence; the first
    ``{`` or ``[`` onward, ignoring whatever follows the value (``raw_decode``).

    Args:
        text: The model's answer.

    Returns:
        ``(value, None)`` on success, ``(None, reason)`` when no JSON value was found, so a
        caller can record the malformed answer instead of losing it.

    Example:
        >>> parse_json('Sure! ```json\\n{"query": "¿Dónde?"}\\n``` Hope it helps.')
        ({'query': '¿Dónde?'}, None)
        >>> parse_json('{"a": 1} trailing words')
        ({'a': 1}, None)
        >>> parse_json("no json here")
        (None, 'no JSON object or array found')
    """
    if not isinstance(text, str):
        return None, f"expected text, got {type(text).__name__}"
    stripped = text.strip()
    if not stripped:
        return None, "empty answer"
    candidates = [stripped]
    fence = _FENCE.search(stripped)
    if fence:
        candidates.append(fence.group(1).strip())
    for candidate in candidates:
        try:
            return json.loads(candidate), None
        except json.JSONDecodeError:
            pass
    decoder = json.JSONDecoder()
    last_error = "no JSON object or array found"
    for source in candidates[::-1]:
        starts = sorted(i for i in (source.find("{"), source.find("[")) if i >= 0)
        for start in starts:
            try:
                value, _ = decoder.raw_decode(source, start)
                return value, None
            except json.JSONDecodeError as error:
                last_error = f"malformed JSON: {error.msg} at char {error.pos}"
    return None, last_error
