"""Analyzers: text -> list of index terms (normalize, split, drop stopwords, stem).

Every analyzer runs the same four stages; language-specific analyzers replace only the
splitting stage with a word segmenter. Work is done per batch so the per-token Python cost
stays small: one stemmer call per batch, stopwords as a frozenset.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar, Protocol, runtime_checkable

from polyret.text.config import AnalyzerConfig
from polyret.text.normalize import normalize
from polyret.text.orthography import strip_turkish_suffixes
from polyret.text.segmenters import segment_ja, segment_ko, segment_th, segment_zh
from polyret.text.stopwords import stopwords as stopword_set
from polyret.text.tokenize import split_words, tokenize_words

__all__ = [
    "Analyzer",
    "BaseAnalyzer",
    "ChineseAnalyzer",
    "JapaneseAnalyzer",
    "KoreanAnalyzer",
    "StandardAnalyzer",
    "ThaiAnalyzer",
    "TurkishAnalyzer",
]


@runtime_checkable
class Analyzer(Protocol):
    """Turns text into index terms; what every registered analyzer provides."""

    @property
    def config(self) -> AnalyzerConfig: ...

    def analyze(self, text: str) -> list[str]:
        """Terms of one text."""
        ...

    def analyze_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """Terms of each text, in input order (faster than calling :meth:`analyze`)."""
        ...


_MAX_MEMO = 2_000_000  # distinct words remembered per analyzer before the memo restarts


@cache
def _stemmer(algorithm: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(algorithm)


class AnalyzerShell:
    """What every analyzer class shares: the frozen config, its repr, one-text :meth:`analyze`.

    Subclasses set ``self._config`` and implement :meth:`analyze_batch`.
    """

    _config: AnalyzerConfig

    @property
    def config(self) -> AnalyzerConfig:
        """The frozen options of this analyzer."""
        return self._config

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config!r})"

    def analyze(self, text: str) -> list[str]:
        """Terms of one text."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """Terms of each text, in input order."""
        raise NotImplementedError


class BaseAnalyzer(AnalyzerShell):
    """Normalize, split (override :meth:`_split_batch`), drop stopwords, stem.

    Args:
        config: The options; ``config.language`` selects stopwords and stemmer.
    """

    #: Whether stopword filtering uses the language's stopword list.
    use_stopword_list: ClassVar[bool] = True

    def __init__(self, config: AnalyzerConfig | None = None) -> None:
        self._config = config or AnalyzerConfig()
        cfg = self._config
        self._stop: frozenset[str] = (
            stopword_set(cfg.language, lowercase=cfg.lowercase, accents=cfg.accents)
            if cfg.use_stopwords and self.use_stopword_list
            else frozenset()
        )
        algorithm = cfg.stemmer_algorithm
        self._stem = _stemmer(algorithm).stemWords if algorithm else None
        self._stems: dict[str, str] = {}

    def analyze_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """Terms of each text, in input order."""
        cfg = self._config
        lowercase, accents = cfg.lowercase, cfg.accents
        normalized = [normalize(t, lowercase=lowercase, accents=accents) for t in texts]
        docs = self._split_batch(normalized)
        stop = self._stop
        if stop:
            docs = [[w for w in doc if w not in stop] for doc in docs]
        if self._stem is not None:
            # Stem each distinct word once (a corpus repeats words ~10x), then map.
            memo = self._stems
            if len(memo) > _MAX_MEMO:
                memo.clear()
            new = {w for doc in docs for w in doc if w not in memo}
            if new:
                words = list(new)
                memo.update(zip(words, self._stem(words), strict=True))
            docs = [[memo[w] for w in doc] for doc in docs]
        return docs

    def _split_batch(self, texts: list[str]) -> list[list[str]]:
        raise NotImplementedError


class StandardAnalyzer(BaseAnalyzer):
    """Unicode word tokenizer for space-delimited scripts, the fallback for any language.

    Words are runs of word characters and combining marks, so Devanagari, Bengali, Telugu
    and Arabic words keep their vowel signs. Runs of scripts written without spaces (Han,
    kana, Thai, Khmer, Lao, Myanmar) become overlapping character n-grams
    (``config.ngram``), the standard segmenter-free baseline for those scripts.

    Example:
        >>> StandardAnalyzer(AnalyzerConfig("en")).analyze("The runners were running!")
        ['the', 'runner', 'were', 'run']
    """

    def _split_batch(self, texts: list[str]) -> list[list[str]]:
        ngram = self._config.ngram
        return [tokenize_words(t, ngram=ngram) for t in texts]


class TurkishAnalyzer(StandardAnalyzer):
    """Turkish: suffixes after an apostrophe dropped ("İstanbul'da" → "istanbul"), then words.

    Case folding turns "İ" into "i" plus a combining dot; the dot is removed so that
    "İstanbul" and "istanbul" meet.

    Example:
        >>> TurkishAnalyzer(AnalyzerConfig("tr", stemmer=None)).analyze("Ankara'dan İstanbul'a")
        ['ankara', 'istanbul']
    """

    def _split_batch(self, texts: list[str]) -> list[list[str]]:
        return super()._split_batch(
            [strip_turkish_suffixes(t).replace("i\u0307", "i") for t in texts]
        )


class _SegmentedAnalyzer(BaseAnalyzer):
    """Word segmenter per text, then punctuation removed with the word regex."""

    def _segment(self, text: str) -> list[str]:
        raise NotImplementedError

    def _split_batch(self, texts: list[str]) -> list[list[str]]:
        segment = self._segment
        # Joining the segments with spaces and re-splitting drops punctuation and
        # whitespace tokens in one regex call per text.
        return [split_words(" ".join(segment(t))) for t in texts]


class ChineseAnalyzer(_SegmentedAnalyzer):
    """Chinese: jieba search-mode segmentation, stopwordsiso ``zh`` list.

    Example:
        >>> ChineseAnalyzer(AnalyzerConfig("zh")).analyze("中华人民共和国成立了")
        ['中华', '华人', '人民', '共和', '共和国', '中华人民共和国', '成立', '了']
    """

    def _segment(self, text: str) -> list[str]:
        return segment_zh(text)


class JapaneseAnalyzer(_SegmentedAnalyzer):
    """Japanese: MeCab/UniDic-lite via fugashi; verbs and adjectives as lemmas.

    With ``stopwords=True`` particles, auxiliaries and symbols are dropped by part of
    speech and the stopwordsiso ``ja`` list is applied.

    Example:
        >>> JapaneseAnalyzer(AnalyzerConfig("ja", stopwords=True)).analyze("東京で寿司を食べた")
        ['東京', '寿司', '食べる']
    """

    def _segment(self, text: str) -> list[str]:
        return segment_ja(text, drop_function_words=self._config.use_stopwords)


class ThaiAnalyzer(_SegmentedAnalyzer):
    """Thai: pythainlp ``newmm`` dictionary segmentation, stopwordsiso ``th`` list.

    Example:
        >>> ThaiAnalyzer(AnalyzerConfig("th")).analyze("ภาษาไทยสวยงาม")
        ['ภาษาไทย', 'สวยงาม']
    """

    def _segment(self, text: str) -> list[str]:
        return segment_th(text)


class KoreanAnalyzer(BaseAnalyzer):
    """Korean: Kiwi morphological analysis keeping content morphemes.

    Nouns, numerals, verb/adjective stems, roots, adverbs and foreign words are kept;
    particles, endings and affixes are dropped by POS tag whatever the options: they are
    Korean's inflection, what a stemmer removes in other languages. Kiwi analyses a whole
    batch in one native call.

    Example:
        >>> KoreanAnalyzer(AnalyzerConfig("ko")).analyze("서울에서 밥을 먹었다")
        ['서울', '밥', '먹']
    """

    use_stopword_list = False

    def _split_batch(self, texts: list[str]) -> list[list[str]]:
        docs = segment_ko(texts, drop_function_words=True)
        return [split_words(" ".join(doc)) for doc in docs]
