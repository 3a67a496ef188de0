from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyret.errors import InvalidInputError, MissingExtraError, UnknownNameError
from polyret.text import Analyzer, AnalyzerConfig, analyzer_for, analyzers
from polyret.text.analysis import StandardAnalyzer

from .conftest import read_texts, shared_path

LANGS = [
    "ar",
    "bn",
    "de",
    "en",
    "es",
    "fa",
    "fi",
    "fr",
    "hi",
    "id",
    "ja",
    "ko",
    "ru",
    "sw",
    "te",
    "th",
    "yo",
    "zh",
    "el",
    "he",
    "it",
    "mr",
    "nl",
    "pl",
    "pt",
    "tr",
    "uk",
    "ur",
    "vi",
]


@pytest.mark.parametrize("lang", LANGS)
def test_every_covered_language_has_an_analyzer(lang):
    analyzer = analyzer_for(lang)
    assert isinstance(analyzer, Analyzer)
    assert analyzer.config.language == lang


def test_analyzer_is_cached_per_options():
    assert analyzer_for("de") is analyzer_for("deu")
    assert analyzer_for("de") is not analyzer_for("de", stopwords=True)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("zh", "中华人民共和国成立于1949年，首都是北京。"),
        ("ja", "東京大学で日本語の自然言語処理を研究しています。"),
        ("th", "ภาษาไทยเป็นภาษาที่สวยงามและมีประวัติยาวนาน"),
        ("ko", "서울대학교에서 자연어 처리를 연구하고 있습니다."),
    ],
)
def test_unsegmented_languages_get_words(lang, text):
    terms = analyzer_for(lang).analyze(text)
    assert len(terms) >= 4
    assert max(map(len, terms)) < len(text) / 2  # not one giant token
    assert any(len(t) >= 2 for t in terms)  # not single characters only


def test_segmenters_on_real_corpora():
    for lang in ("zh", "th"):
        texts = read_texts(shared_path(f"xquad-r-{lang}") / "corpus.jsonl", limit=50)
        docs = analyzer_for(lang).analyze_batch(texts)
        mean_len = sum(len(t) for d in docs for t in d) / sum(len(d) for d in docs)
        assert 1.3 < mean_len < 6, f"{lang}: mean term length {mean_len:.2f}"


@pytest.mark.parametrize(
    ("lang", "forms"),
    [
        ("de", ["Häuser", "Hauses", "Haus"]),
        ("ru", ["книга", "книги", "книгой"]),
        ("ar", ["الكتاب", "كتاب"]),
        ("en", ["running", "runs", "run"]),
        ("es", ["libros", "libro"]),
        ("fi", ["talossa", "talon", "talo"]),
    ],
)
def test_stemming_conflates_inflected_forms(lang, forms):
    stems = {tuple(analyzer_for(lang).analyze(f)) for f in forms}
    assert len(stems) == 1, stems


def test_japanese_verbs_become_lemmas():
    terms = analyzer_for("ja").analyze("寿司を食べた")
    assert "食べる" in terms and "寿司" in terms


def test_korean_drops_particles_and_endings():
    assert analyzer_for("ko").analyze("서울에서 밥을 먹었다") == ["서울", "밥", "먹"]


def test_stopwords_removed_when_asked():
    text = "The cat and the dog"
    assert analyzer_for("en").analyze(text) == ["the", "cat", "and", "the", "dog"]
    assert analyzer_for("en", stopwords=True).analyze(text) == ["cat", "dog"]
    assert "und" not in analyzer_for("de", stopwords=True).analyze("Katze und Hund")
    ja = analyzer_for("ja", stopwords=True).analyze("東京で寿司を食べた")
    assert "で" not in ja and "を" not in ja


def test_stemmer_can_be_switched_off_or_chosen():
    assert analyzer_for("en", stemmer=None).analyze("running") == ["running"]
    assert analyzer_for("xx", stemmer="english").analyze("running") == ["run"]


def test_indic_words_keep_vowel_signs():
    assert analyzer_for("hi", stemmer=None).analyze("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert analyzer_for("bn").analyze("বাংলা ভাষা") == ["বাংলা", "ভাষা"]
    assert analyzer_for("te").analyze("తెలుగు భాష") == ["తెలుగు", "భాష"]


def test_unknown_language_falls_back_to_standard():
    analyzer = analyzer_for("qaa")
    assert isinstance(analyzer, StandardAnalyzer)
    assert analyzer.analyze("Foo, bar! 東京大学") == ["foo", "bar", "東京", "京大", "大学"]
    assert analyzer_for("km").analyze("ភាសាខ្មែរ")  # Khmer: n-grams, no error


def test_ngram_option():
    assert analyzer_for("und", ngram=0).analyze("東京大学") == ["東京大学"]
    assert analyzer_for("und", ngram=3).analyze("東京大学") == ["東京大", "京大学"]


@pytest.mark.parametrize(
    "options",
    [{"stemmer": "klingon"}, {"stopwords": "yes"}, {"ngram": -1}, {"lowercase": 1}],
)
def test_invalid_option_raises(options):
    with pytest.raises(InvalidInputError):
        analyzer_for("en", **options)


def test_invalid_language_code_raises():
    with pytest.raises(InvalidInputError):
        analyzer_for("not a language")
    with pytest.raises(UnknownNameError):
        analyzer_for("en", name="no-such-analyzer")


def test_named_analyzer_overrides_language():
    assert analyzer_for("zh", name="standard").analyze("北京大学") == ["北京", "京大", "大学"]


def test_user_registered_analyzer():
    class Upper:
        def __init__(self, config: AnalyzerConfig) -> None:
            self.config = config

        def analyze(self, text: str) -> list[str]:
            return text.upper().split()

        def analyze_batch(self, texts):
            return [self.analyze(t) for t in texts]

    analyzers.register("zz")(Upper)
    assert analyzer_for("zz").analyze("a b") == ["A", "B"]


def test_missing_extra_names_the_extra(monkeypatch):
    from polyret.text import segmenters

    monkeypatch.setitem(sys.modules, "pythainlp.tokenize", None)
    segmenters._thai_tokenize.cache_clear()
    try:
        with pytest.raises(MissingExtraError, match=r"polyret\[cjk\]"):
            segmenters.segment_th("ภาษาไทย")
    finally:
        segmenters._thai_tokenize.cache_clear()


def test_auto_dispatch_preserves_order():
    texts = [
        "Die Häuser sind groß",
        "東京で寿司を食べた",
        "Мы читали эти книги вчера вечером",
        "Die Häuser",
        "ภาษาไทย",
        "서울에서 밥을 먹었다",
        "",
    ]
    auto = analyzer_for("auto")
    expected = [
        analyzer_for(lang).analyze(t)
        for lang, t in zip(["de", "ja", "ru", "de", "th", "ko", "und"], texts, strict=True)
    ]
    assert auto.analyze_batch(texts) == expected
    assert [auto.analyze(t) for t in texts] == expected


def test_batch_equals_single():
    texts = ["Die Häuser sind groß.", "", "Ein Haus"]
    analyzer = analyzer_for("de")
    assert analyzer.analyze_batch(texts) == [analyzer.analyze(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(st.text(), st.sampled_from(["en", "de", "ar", "hi", "ru", "und", "zh", "th"]))
def test_no_empty_or_whitespace_terms(text, lang):
    for term in analyzer_for(lang).analyze(text):
        assert term and not any(ch.isspace() for ch in term)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=8))
def test_batch_equals_single_property(texts):
    analyzer = analyzer_for("en")
    assert analyzer.analyze_batch(texts) == [analyzer.analyze(t) for t in texts]


def test_turkish_apostrophe_suffixes_and_dotted_capital_i():
    analyzer = analyzer_for("tr", stemmer=None, stopwords=False)
    assert analyzer.analyze("İstanbul'da ve Ankara’dan") == ["istanbul", "ve", "ankara"]
    assert analyzer.analyze("İzmir") == analyzer.analyze("izmir")


def test_stopwords_auto_is_on_only_where_it_helped():
    assert AnalyzerConfig("ar").use_stopwords and AnalyzerConfig("tr").use_stopwords
    assert not AnalyzerConfig("de").use_stopwords and not AnalyzerConfig("und").use_stopwords
    assert "ve" not in analyzer_for("tr", stemmer=None).analyze("İstanbul ve Ankara")
    with pytest.raises(InvalidInputError, match="stopwords must be True, False or 'auto'"):
        AnalyzerConfig("de", stopwords="yes")  # type: ignore[arg-type]
