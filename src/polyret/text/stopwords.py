"""Stopword lists per language (stopwordsiso, with curated overrides)."""

from __future__ import annotations

import logging
from functools import cache

from polyret.errors import MissingExtraError
from polyret.text.normalize import normalize

__all__ = ["stopwords"]

logger = logging.getLogger(__name__)

# stopwordsiso's English list (1,298 words) holds content words that queries need
# ("information", "research", "computer", "world", "system"); use Lucene's English list.
_OVERRIDES = {
    "en": [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ],
}


@cache
def stopwords(lang: str, *, lowercase: bool = True, accents: bool = False) -> frozenset[str]:
    """Stopwords of ``lang``, normalized like the tokens they are matched against.

    Args:
        lang: A canonical language code (see :func:`polyret.text.normalize_lang_code`).
        lowercase: Case-fold the words (match the analyzer's setting).
        accents: Strip accents (match the analyzer's setting).

    Returns:
        The stopword set; empty when no list exists for ``lang``.

    Raises:
        MissingExtraError: stopwordsiso is not installed.
    """
    if lang in _OVERRIDES:
        words: list[str] | set[str] = _OVERRIDES[lang]
    else:
        try:
            import stopwordsiso
        except ImportError as exc:
            raise MissingExtraError("stopwordsiso", extra="text", purpose="stopwords") from exc
        words = stopwordsiso.stopwords(lang) if stopwordsiso.has_lang(lang) else set()
    if not words:
        logger.debug("no stopword list for %r", lang)
    return frozenset(normalize(w, lowercase=lowercase, accents=accents) for w in words)
