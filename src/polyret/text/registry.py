"""The analyzer registry and :func:`analyzer_for`, the one way to get an analyzer."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from polyret.registry import Registry
from polyret.text.config import AnalyzerConfig
from polyret.text.langcodes import normalize_lang_code

if TYPE_CHECKING:
    from polyret.text.analysis import Analyzer

__all__ = ["analyzer_for", "analyzers"]

AnalyzerFactory = Callable[[AnalyzerConfig], "Analyzer"]

#: Analyzer factories by language code (or a descriptive name). A language without an entry
#: uses ``"standard"``. Third parties register with ``@analyzers.register("xx")`` or the
#: entry-point group ``polyret.analyzers``.
analyzers: Registry[AnalyzerFactory] = Registry(
    "analyzer",
    {
        "standard": "polyret.text.analysis:StandardAnalyzer",
        "auto": "polyret.text.auto:AutoAnalyzer",
        "tr": "polyret.text.analysis:TurkishAnalyzer",
        "zh": "polyret.text.analysis:ChineseAnalyzer",
        "ja": "polyret.text.analysis:JapaneseAnalyzer",
        "ko": "polyret.text.analysis:KoreanAnalyzer",
        "th": "polyret.text.analysis:ThaiAnalyzer",
    },
)


def analyzer_for(lang: str = "auto", *, name: str | None = None, **options: Any) -> Analyzer:
    """Return the (cached) analyzer for a language.

    Args:
        lang: Any language code form (``"de"``, ``"deu"``, ``"zh-CN"``); ``"auto"`` detects
            the language of each text and dispatches. An unknown but well-formed code gets
            the standard tokenizer without stemming or stopwords.
        name: Use this registry entry instead of the one chosen by ``lang``
            (e.g. ``name="standard"`` for character bigrams on Chinese).
        **options: :class:`~polyret.text.AnalyzerConfig` fields (``stemmer``, ``stopwords``,
            ``lowercase``, ``accents``, ``ngram``).

    Raises:
        InvalidInputError: Invalid language code or option value.
        UnknownNameError: ``name`` is not registered.
        MissingExtraError: The language needs an extra that is not installed.

    Example:
        >>> analyzer_for("deu", stopwords=True).analyze("Die Häuser und das Haus")
        ['haus', 'haus']
    """
    config = AnalyzerConfig(language=normalize_lang_code(lang), **options)
    return _cached(config, name)


@lru_cache(maxsize=256)
def _cached(config: AnalyzerConfig, name: str | None) -> Analyzer:
    key = name or (config.language if config.language in analyzers else "standard")
    return analyzers.get(key)(config)
