"""The frozen configuration shared by every analyzer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from polyret.errors import InvalidInputError
from polyret.text.langcodes import normalize_lang_code

__all__ = ["AnalyzerConfig", "default_stemmer", "stemmer_algorithms"]

# Canonical language code -> Snowball algorithm in PyStemmer.
_STEMMERS = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ms": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


@cache
def stemmer_algorithms() -> frozenset[str]:
    """Snowball algorithms the installed PyStemmer provides."""
    import Stemmer

    return frozenset(Stemmer.algorithms())


def default_stemmer(lang: str) -> str | None:
    """The Snowball algorithm for ``lang``, or ``None`` when PyStemmer has none."""
    algorithm = _STEMMERS.get(lang)
    return algorithm if algorithm in stemmer_algorithms() else None


@dataclass(frozen=True)
class AnalyzerConfig:
    """How an analyzer turns text into terms.

    Args:
        language: Canonical language code, ``"auto"`` (detect per text) or ``"und"``.
        stemmer: ``"auto"`` (the language's Snowball stemmer, if any), ``None`` (no
            stemming) or a name from ``Stemmer.algorithms()``.
        stopwords: Drop the language's stopwords (for ja also particles and auxiliaries by
            part of speech). Off by default: on the xquad-r collections BM25 MRR@10 was
            equal or lower with stopwordsiso lists in all 9 languages (e.g. es 0.774 ->
            0.757), since IDF already discounts frequent words and the lists hold content
            words (ru "книга").
        lowercase: Case-fold (``str.casefold``).
        accents: Strip Latin/Greek/Cyrillic diacritics (see :func:`polyret.text.normalize`).
        ngram: Character n-gram length for unsegmented scripts without a segmenter
            (Han in a language other than zh/ja, Khmer, Lao, Myanmar); 0 keeps whole runs.

    Raises:
        InvalidInputError: An option has an invalid value.
    """

    language: str = "und"
    stemmer: str | None = "auto"
    stopwords: bool = False
    lowercase: bool = True
    accents: bool = False
    ngram: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "language", normalize_lang_code(self.language))
        for name in ("stopwords", "lowercase", "accents"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInputError(
                    f"{name} must be True or False, got {getattr(self, name)!r}", field=name
                )
        if self.stemmer not in (None, "auto") and (
            not isinstance(self.stemmer, str) or self.stemmer not in stemmer_algorithms()
        ):
            raise InvalidInputError(
                f"unknown stemmer {self.stemmer!r}; use 'auto', None or one of "
                + ", ".join(sorted(stemmer_algorithms())),
                field="stemmer",
            )
        if (
            isinstance(self.ngram, bool)
            or not isinstance(self.ngram, int)
            or not (0 <= self.ngram <= 8)
        ):
            raise InvalidInputError(
                f"ngram must be an int in [0, 8], got {self.ngram!r}", field="ngram"
            )

    @property
    def stemmer_algorithm(self) -> str | None:
        """The Snowball algorithm actually used, resolving ``"auto"``."""
        if self.stemmer == "auto":
            return default_stemmer(self.language)
        return self.stemmer

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the options (JSON-serializable)."""
        return asdict(self)
