"""Broken files: every reader names the file and line, and writers leave nothing behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyret.errors import InvalidInputError
from polyret.io import (
    atomic_write,
    read_corpus,
    read_qrels,
    read_queries,
    read_trec_run,
    write_beir,
)

GOOD = b'{"_id": "d1", "text": "eins"}\n{"_id": "d2", "text": "zwei"}\n'

CORPUS_CASES = {
    "truncated JSON": (GOOD + b'{"_id": "d3", "text": "dr', 3, None, "malformed JSON"),
    "invalid UTF-8": (GOOD + b'{"_id": "d3", "text": "\xff\xfe"}\n', 3, None, "invalid UTF-8"),
    "duplicate id": (GOOD + b'{"_id": "d1", "text": "drei"}\n', 3, "_id", "duplicate id 'd1'"),
    "empty id": (GOOD + b'{"_id": "", "text": "drei"}\n', 3, "_id", "empty value"),
    "missing text": (GOOD + b'{"_id": "d3"}\n', 3, "text", "missing field"),
    "text not a string": (b'{"_id": "d1", "text": 5}\n', 1, "text", "expected a string"),
    "not an object": (GOOD + b'["d3", "drei"]\n', 3, None, "expected a JSON object"),
    "empty file": (b"", None, None, "no records"),
    "blank lines only": (b"\n\n", None, None, "no records"),
}


@pytest.mark.parametrize("case", sorted(CORPUS_CASES))
def test_broken_corpus_names_file_and_line(tmp_path: Path, case: str):
    content, line, field, message = CORPUS_CASES[case]
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as error:
        read_corpus(path)
    assert error.value.path == str(path)
    assert error.value.line == line
    assert error.value.field == field
    assert str(path) in str(error.value)


def test_gzipped_corpus_errors_name_the_line(tmp_path: Path):
    path = tmp_path / "corpus.jsonl.gz"
    path.write_bytes(gzip.compress(GOOD + b'{"_id": "d2", "text": "x"}\n'))
    with pytest.raises(InvalidInputError, match=r"duplicate id 'd2' \(first seen on line 2\)"):
        read_corpus(path)


def test_integer_ids_are_read_as_strings(tmp_path: Path):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(
        b'{"_id": 7, "text": "sieben", "lang": "de"}\n\n{"_id": "8", "text": "acht"}\n'
    )
    corpus = read_corpus(path, lang="de")
    assert corpus.ids == ["7", "8"] and corpus.langs == ["de", "de"]


RUN_CASES = {
    "too few columns": (b"q1 Q0 d1 1 2.0 run\nq1 Q0 d2 2\n", 2, None, "expected 6 columns"),
    "score not a number": (b"q1 Q0 d1 1 high run\n", 1, "score", "cannot parse 'high'"),
    "repeated document": (
        b"q1 Q0 d1 1 2.0 r\nq2 Q0 d1 1 2.0 r\nq1 Q0 d1 2 1.0 r\n",
        3,
        "doc_id",
        "'d1' appears twice for query 'q1'",
    ),
    "invalid UTF-8": (b"q1 Q0 d\xff 1 2.0 r\n", 1, None, "invalid UTF-8"),
    "empty file": (b"", None, None, "no records"),
}


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_broken_run_names_file_and_line(tmp_path: Path, case: str):
    content, line, field, message = RUN_CASES[case]
    path = tmp_path / "run.trec"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as error:
        read_trec_run(path)
    assert (error.value.path, error.value.line, error.value.field) == (str(path), line, field)


QRELS_CASES = {
    "relevance not an int": (
        b"query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\tyes\n",
        3,
        "relevance",
    ),
    "empty doc id": (b"q1\td1\t1\nq1\t\t1\n", 2, "doc_id"),
    "duplicate pair": (b"q1\td1\t1\nq1\td1\t0\n", 2, "doc_id"),
    "trec duplicate pair": (b"q1 0 d1 1\nq1 0 d1 0\n", 2, "doc_id"),
}


@pytest.mark.parametrize("case", sorted(QRELS_CASES))
def test_broken_qrels_names_file_and_line(tmp_path: Path, case: str):
    content, line, field = QRELS_CASES[case]
    path = tmp_path / "qrels.tsv"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError) as error:
        read_qrels(path)
    assert (error.value.line, error.value.field) == (line, field)


def test_topics_tsv_with_tabs_in_text(tmp_path: Path):
    path = tmp_path / "topics.tsv"
    path.write_text("1\tWhat is\ta tab?\n2\tSecond\n", encoding="utf-8")
    queries = read_queries(path, lang="en")
    assert queries["1"].text == "What is\ta tab?" and queries["2"].lang == "en"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_readers(tmp_path: Path, content: bytes):
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(content)
    for reader in (read_corpus, read_queries, read_trec_run, read_qrels):
        try:
            reader(path)
        except InvalidInputError as error:
            assert str(path) in str(error)


def test_failed_write_leaves_target_untouched(tmp_path: Path):
    target = tmp_path / "run.trec"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.trec"]


def test_failed_dataset_write_leaves_no_folder(tmp_path: Path, xquad_r, monkeypatch):
    import polyret.io.beir as beir

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(beir, "write_qrels", broken)
    with pytest.raises(OSError, match="disk full"):
        write_beir(xquad_r, tmp_path / "copy")
    assert list(tmp_path.iterdir()) == []
