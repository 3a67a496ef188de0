"""Write → read is the identity, for every format, on real data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from polyret.io import (
    read_beir,
    read_parquet,
    read_qrels,
    read_trec_qrels,
    read_trec_run,
    write_beir,
    write_parquet,
    write_trec_qrels,
    write_trec_run,
)
from polyret.types import Run
from tests.conftest import SHARED_DATA, shared_collection


def _synthetic_run(dataset) -> Run:
    doc_ids = dataset.corpus.ids
    return Run.from_dict(
        {
            q: {
                doc_ids[(i * 7 + j) % len(doc_ids)]: 1.0 / (j + 1) + (i % 3) * 0.1
                for j in range(20)
            }
            for i, q in enumerate(dataset.queries.ids[:50])
        }
    )


def test_beir_round_trip(tmp_path: Path, xquad_r):
    write_beir(xquad_r, tmp_path / "copy")
    again = read_beir(tmp_path / "copy", name="xquad-r")
    assert again.corpus == xquad_r.corpus
    assert again.queries == xquad_r.queries
    assert {s: q.to_dict() for s, q in again.qrels.items()} == {
        s: q.to_dict() for s, q in xquad_r.qrels.items()
    }


def test_trec_round_trip(tmp_path: Path, xquad_r):
    run = _synthetic_run(xquad_r)
    write_trec_run(run, tmp_path / "run.trec")
    assert read_trec_run(tmp_path / "run.trec") == run
    write_trec_qrels(xquad_r.qrels["dev"], tmp_path / "qrels.txt")
    assert read_trec_qrels(tmp_path / "qrels.txt") == xquad_r.qrels["dev"]
    assert read_qrels(tmp_path / "qrels.txt") == xquad_r.qrels["dev"]


def test_parquet_round_trip(tmp_path: Path, xquad_r):
    run = _synthetic_run(xquad_r)
    for item in (xquad_r.corpus, xquad_r.queries, xquad_r.qrels["test"], run):
        write_parquet(item, tmp_path / "x.parquet")
        assert read_parquet(tmp_path / "x.parquet") == item


def test_whitespace_variants_of_trec_runs(tmp_path: Path):
    path = tmp_path / "run.trec"
    path.write_text("q1\tQ0\td1\t1\t2.5\tbm25\nq1  Q0 d2 2 1.5 bm25 \n", encoding="utf-8")
    assert read_trec_run(path) == {"q1": {"d1": 2.5, "d2": 1.5}}


@pytest.mark.shared
def test_every_shared_collection_reads(capsys):
    shared_collection("xquad-r-de")
    total_docs = total_queries = 0
    start = time.perf_counter()
    for folder in sorted(p for p in SHARED_DATA.iterdir() if (p / "corpus.jsonl").is_file()):
        dataset = read_beir(folder)
        stats = dataset.stats()
        assert stats["documents"] > 0 and stats["queries"] > 0
        assert set(dataset.splits) == {"dev", "test"}
        total_docs += stats["documents"]
        total_queries += stats["queries"]
    with capsys.disabled():
        print(
            f"\nread {total_docs} docs, {total_queries} queries "
            f"in {time.perf_counter() - start:.2f}s"
        )


@pytest.mark.shared
def test_miracl_topics_and_qrels_read():
    folder = shared_collection("miracl-v1.0-topics")
    from polyret.io import read_queries

    for topics in sorted((folder / "topics").glob("*.tsv")):
        lang = topics.name.split("-")[2]
        queries = read_queries(topics, lang=lang)
        qrels = read_qrels(folder / "qrels" / topics.name.replace("topics.", "qrels."))
        assert len(queries) > 0 and set(qrels) <= set(queries.ids)
