from __future__ import annotations

import pytest

from polyret.errors import InvalidInputError
from polyret.text import analyze_corpus, analyzer_for

from .conftest import read_texts, shared_path


def test_one_language_for_all():
    texts = ["Die Häuser", "Das Haus"]
    assert analyze_corpus(texts, "deu") == analyzer_for("de").analyze_batch(texts)


def test_per_text_languages_and_auto():
    texts = ["Die Häuser", "東京で寿司を食べた", "running fast"]
    out = analyze_corpus(texts, ["de", "auto", "en"])
    assert out == [["die", "haus"], analyzer_for("ja").analyze(texts[1]), ["run", "fast"]]


def test_wrong_length_raises():
    with pytest.raises(InvalidInputError):
        analyze_corpus(["a", "b"], ["en"])


def test_invalid_option_raises_before_work():
    with pytest.raises(InvalidInputError):
        analyze_corpus(["a"], "en", options={"stemmer": "nope"})


def test_multiprocess_equals_single_process():
    texts: list[str] = []
    langs: list[str] = []
    for lang in ("de", "zh", "ar", "th"):
        chunk = read_texts(shared_path(f"xquad-r-{lang}") / "corpus.jsonl", limit=150)
        texts += chunk
        langs += [lang] * len(chunk)
    single = analyze_corpus(texts, langs)
    multi = analyze_corpus(texts, langs, processes=2, chunk_size=100)
    assert multi == single
    assert all(single)
