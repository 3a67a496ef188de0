from __future__ import annotations

import pytest

from polyret.errors import InvalidInputError
from polyret.types import Corpus, Document, Queries

RECORDS = [
    {"id": "en1", "text": "The Rhine flows north.", "lang": "en"},
    {"id": "zh1", "text": "长江是中国最长的河流。", "title": "长江", "lang": "zh"},
    {"id": "ar1", "text": "نهر النيل أطول نهر في أفريقيا.", "lang": "ar"},
    {"id": "th1", "text": "แม่น้ำเจ้าพระยาไหลผ่านกรุงเทพ", "lang": "th"},
]


def test_lookup_iteration_and_filter():
    corpus = Corpus.from_records(RECORDS)
    assert corpus["zh1"] == Document("zh1", "长江是中国最长的河流。", "长江", "zh")
    assert [d.id for d in corpus] == ["en1", "zh1", "ar1", "th1"]
    assert "th1" in corpus and "xx" not in corpus
    assert corpus.filter(lang=["ar", "th"]).ids == ["ar1", "th1"]
    assert corpus.filter(ids=["th1", "en1"]).ids == ["en1", "th1"]
    assert corpus.languages() == {"en": 1, "zh": 1, "ar": 1, "th": 1}
    assert corpus.full_texts()[1] == "长江 长江是中国最长的河流。"


def test_missing_lang_becomes_und():
    queries = Queries.from_records([{"id": "q", "text": "x"}])
    assert queries["q"].lang == "und"


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "duplicate id 'a'"),
        ([{"id": " ", "text": "x"}], "empty id"),
        ([{"id": "a", "text": None}], "has no text"),
    ],
)
def test_bad_records_are_refused(records, message):
    with pytest.raises(InvalidInputError, match=message):
        Corpus.from_records(records)


def test_with_langs_replaces_column():
    corpus = Corpus.from_records(RECORDS).with_langs(["xx"] * 4)
    assert set(corpus.langs) == {"xx"}


def test_batches_are_consecutive_slices():
    corpus = Corpus.from_records(RECORDS)
    parts = list(corpus.batches(3))
    assert [p.ids for p in parts] == [["en1", "zh1", "ar1"], ["th1"]]
    assert parts[1]["th1"].lang == "th"
