"""Odd input never crashes a BM25 run: it works or fails with a message naming the record."""

from __future__ import annotations

import pytest

from polyret.errors import InvalidInputError
from polyret.retrieve import BM25
from polyret.types import Corpus, Queries

ONE_MB_TEXT = "Der Rhein ist ein langer Fluss in Europa. " * 25_000


@pytest.fixture(scope="module")
def odd_index():
    corpus = Corpus.from_records(
        [
            {"id": "empty", "text": "", "lang": "de"},
            {"id": "huge", "text": ONE_MB_TEXT, "lang": "de"},
            {"id": "unknown-lang", "text": "Москва столица России", "lang": "und"},
            {"id": "rare-lang", "text": "Ng'ombe ni mnyama mkubwa", "lang": "sw"},
            {"id": "private-code", "text": "Rhein Rhein", "lang": "qaa"},
            {"id": "emoji", "text": "🎉🎉 🚀", "lang": "en"},
            {"id": "mixed", "text": "Berlin und 北京 und Москва", "lang": "de"},
        ]
    )
    return BM25().index(corpus)


def test_one_megabyte_document_is_indexed(odd_index):
    assert len(ONE_MB_TEXT.encode()) > 1_000_000
    run = odd_index.search(Queries.from_dict({"q": "Fluss Europa"}, lang="de"), k=3)
    assert next(iter(run["q"])) == "huge"


def test_undetermined_language_is_detected(odd_index):
    run = odd_index.search(Queries.from_dict({"q": "Москве"}, lang="ru"), k=3)
    assert "unknown-lang" in run["q"]  # detected as Russian, stemmed like the query


def test_rare_language_and_private_use_code_work(odd_index):
    run = odd_index.search(
        Queries.from_records(
            [
                {"id": "sw", "text": "mnyama", "lang": "sw"},
                {"id": "qaa", "text": "Rhein", "lang": "qaa"},
            ]
        ),
        k=5,
    )
    assert "rare-lang" in run["sw"] and "private-code" in run["qaa"]


def test_mixed_script_document_matches_each_script(odd_index):
    run = odd_index.search(
        Queries.from_records(
            [
                {"id": "zh", "text": "北京", "lang": "zh"},
                {"id": "de", "text": "Berlin", "lang": "de"},
            ]
        ),
        k=5,
    )
    assert "mixed" in run["zh"] and "mixed" in run["de"]


def test_emoji_only_and_blank_queries_return_nothing_without_error(odd_index):
    run = odd_index.search(
        Queries.from_records(
            [
                {"id": "emoji", "text": "🎉", "lang": "en"},
                {"id": "blank", "text": "   ", "lang": "de"},
                {"id": "ok", "text": "Rhein", "lang": "de"},
            ]
        ),
        k=5,
    )
    assert list(run) == ["ok"]


def test_invalid_language_code_names_the_record():
    corpus = Corpus.from_records(
        [
            {"id": "fine", "text": "x", "lang": "en"},
            {"id": "bad", "text": "y", "lang": "not a code!"},
        ]
    )
    with pytest.raises(InvalidInputError, match=r"document 'bad'.*invalid language code"):
        BM25().index(corpus)
    with pytest.raises(InvalidInputError, match="query 'q'"):
        BM25().index(corpus.filter(ids=["fine"])).search(
            Queries.from_records([{"id": "q", "text": "x", "lang": "??"}]), k=1
        )


def test_corpus_of_only_empty_documents_fails_clearly():
    corpus = Corpus.from_records([{"id": "a", "text": "", "lang": "en"}, {"id": "b", "text": "🎉"}])
    with pytest.raises(InvalidInputError, match="none of the 2 documents has an indexable term"):
        BM25().index(corpus)
