"""The frozen configuration shared by every analyzer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any, Literal

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


# Languages whose stopword list raised BM25 nDCG@10 on dev splits (see AnalyzerConfig).
_STOPWORDS_HELP = frozenset({"ar", "tr"})


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
            part of speech): True, False, or ``"auto"`` (the default): on only for the
            languages where it helped BM25 on the dev splits of xquad-r and xquad-p
            (nDCG@10 ar 0.753 → 0.777 and 0.927 → 0.941, tr 0.776 → 0.785 and 0.921 →
            0.931). Elsewhere it was equal or lower (de 0.791 → 0.769, es 0.827 → 0.817):
            IDF already discounts frequent words and the stopwordsiso lists hold content
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
    stopwords: bool | Literal["auto"] = "auto"
    lowercase: bool = True
    accents: bool = False
    ngram: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "language", normalize_lang_code(self.language))
        if self.stopwords != "auto" and not isinstance(self.stopwords, bool):
            raise InvalidInputError(
                f"stopwords must be True, False or 'auto', got {self.stopwords!r}",
                field="stopwords",
            )
        for name in ("lowercase", "accents"):
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
    def use_stopwords(self) -> bool:
        """Whether stopwords are dropped, resolving ``"auto"``."""
        if self.stopwords == "auto":
            return self.language in _STOPWORDS_HELP
        return bool(self.stopwords)

    @property
    def stemmer_algorithm(self) -> str | None:
        """The Snowball algorithm actually used, resolving ``"auto"``."""
        if self.stemmer == "auto":
            return default_stemmer(self.language)
        return self.stemmer

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the options (JSON-serializable)."""
        return asdict(self)
