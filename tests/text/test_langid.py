from __future__ import annotations

import pytest

from polyret.text import detect_language, detect_languages
from polyret.text.langcodes import normalize_lang_code

from .conftest import read_texts, shared_path

# Accuracy measured on the MIRACL v1.0 dev topics (script rules + py3langid with a prior
# toward widely used languages), floors set a little below.
MIRACL_FLOOR = {
    "ar": 0.99,
    "bn": 0.99,
    "de": 0.97,
    "en": 0.96,
    "es": 0.98,
    "fa": 0.99,
    "fi": 0.96,
    "fr": 0.95,
    "hi": 0.96,
    "id": 0.95,
    "ja": 0.99,
    "ko": 0.99,
    "ru": 0.97,
    "sw": 0.96,
    "te": 0.99,
    "th": 0.99,
    "yo": 0.96,
    "zh": 0.99,
}
TATOEBA_FLOOR = {"uk": 0.92, "mr": 0.95, "es": 0.96, "ru": 0.96}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("東京に行きます", "ja"),
        ("東京大学", "zh"),
        ("서울대학교", "ko"),
        ("ภาษาไทย", "th"),
        ("Это русское предложение.", "ru"),
        ("Das ist ein schönes Haus.", "de"),
        ("هذا كتاب جميل", "ar"),
        ("Ελληνικά", "el"),
        ("עברית", "he"),
        ("తెలుగు భాష", "te"),
        ("12345 !!", "und"),
        ("", "und"),
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_candidates_restrict_the_answer():
    text = "Saya suka makan nasi goreng"
    assert detect_language(text, candidates=["msa"]) == "ms"
    assert detect_language(text, candidates=["ind"]) == "id"


def test_batch_matches_single():
    texts = ["Hello world", "Bonjour le monde", "你好世界", "こんにちは世界", "Привет мир"]
    assert detect_languages(texts) == [detect_language(t) for t in texts]


@pytest.mark.parametrize("lang", sorted(MIRACL_FLOOR))
def test_miracl_topics_accuracy(lang):
    path = shared_path(f"miracl-v1.0-topics/topics/topics.miracl-v1.0-{lang}-dev.tsv")
    texts = read_texts(path)
    predicted = detect_languages(texts)
    accuracy = sum(p == lang for p in predicted) / len(texts)
    assert accuracy >= MIRACL_FLOOR[lang], f"{lang}: {accuracy:.3f}"


@pytest.mark.parametrize("code", ["ukr", "mar", "spa", "rus", "cmn", "jpn", "kor", "pes"])
def test_tatoeba_queries_accuracy(code):
    lang = normalize_lang_code(code)
    texts = read_texts(shared_path(f"tatoeba-{code}-eng") / "queries.jsonl")
    accuracy = sum(p == lang for p in detect_languages(texts)) / len(texts)
    assert accuracy >= TATOEBA_FLOOR.get(lang, 0.98), f"{lang}: {accuracy:.3f}"
