"""Text analysis: normalization, language identification, per-language analyzers."""

from polyret.text.analysis import Analyzer
from polyret.text.config import AnalyzerConfig
from polyret.text.corpus import analyze_corpus
from polyret.text.langcodes import normalize_lang_code
from polyret.text.langid import detect_language, detect_languages
from polyret.text.normalize import normalize, strip_accents
from polyret.text.registry import analyzer_for, analyzers

__all__ = [
    "Analyzer",
    "AnalyzerConfig",
    "analyze_corpus",
    "analyzer_for",
    "analyzers",
    "detect_language",
    "detect_languages",
    "normalize",
    "normalize_lang_code",
    "strip_accents",
]
