"""Adapters: ir_datasets collections and Hugging Face BEIR-layout datasets read from disk.

Nothing is downloaded: the ir_datasets collection is registered from local TSV files, the
Hugging Face datasets are written to tmp_path with ``datasets`` (save_to_disk, Parquet files,
and a repository-style folder whose README declares its configs). The records are real
xquad-r text (German and Thai), so ids, titles and scripts round-trip as they would for
MIRACL or Mr. TyDi.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from polyret.datasets import (
    DatasetNotAvailableError,
    HFLayout,
    from_hf,
    from_ir_datasets,
    load,
)
from polyret.errors import InvalidInputError, UnknownNameError
from polyret.types import Corpus, Queries


@pytest.fixture(scope="module")
def small(xquad_r):
    """German and Thai dev queries, their relevant sentences plus some others, with titles."""
    queries, qrels = xquad_r.split("dev")
    queries = queries.filter(lang=["de", "th"])
    judged = {q: qrels[q] for q in queries.ids}
    relevant = {d for docs in judged.values() for d in docs}
    others = [d.id for d in xquad_r.corpus.filter(lang=["de", "th"])][:40]
    docs = xquad_r.corpus.filter(ids=sorted(relevant | set(others)))
    corpus = Corpus.from_records(
        {"id": d.id, "text": d.text, "title": f"Titel {d.id}", "lang": d.lang} for d in docs
    )
    return corpus, queries, judged


# ----------------------------------------------------------------------------- ir_datasets
@pytest.fixture(scope="module")
def irds_collection(small, tmp_path_factory):
    """A German collection registered in ir_datasets from local files: root, /dev, /train."""
    irds = pytest.importorskip("ir_datasets", reason="ir_datasets is not installed")
    from typing import NamedTuple

    from ir_datasets.datasets.base import Dataset as IrdsDataset
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import LocalDownload

    class TitledDoc(NamedTuple):
        doc_id: str
        title: str
        text: str

        def default_text(self) -> str:
            return f"{self.title} {self.text}"

    corpus, queries, qrels = small
    german = corpus.filter(lang="de")
    root = tmp_path_factory.mktemp("irds")
    (root / "docs.tsv").write_text(
        "".join(f"{d.id}\t{d.title}\t{d.text.replace(chr(9), ' ')}\n" for d in german),
        encoding="utf-8",
    )
    de_queries = [q for q in queries if q.lang == "de"]
    halves = {
        "dev": de_queries[: len(de_queries) // 2],
        "train": de_queries[len(de_queries) // 2 :],
    }
    parts = {}
    docs = TsvDocs(LocalDownload(root / "docs.tsv"), doc_cls=TitledDoc, lang="de")
    for split, items in halves.items():
        (root / f"{split}.tsv").write_text(
            "".join(f"{q.id}\t{q.text}\n" for q in items), encoding="utf-8"
        )
        (root / f"{split}.qrels").write_text(
            "".join(f"{q.id} 0 {d} {r}\n" for q in items for d, r in qrels[q.id].items()),
            encoding="utf-8",
        )
        parts[split] = IrdsDataset(
            docs,
            TsvQueries(LocalDownload(root / f"{split}.tsv"), lang="de"),
            TrecQrels(LocalDownload(root / f"{split}.qrels"), {1: "relevant"}),
        )
    name = f"polyret-test-{uuid.uuid4().hex[:8]}"
    irds.registry.register(name, IrdsDataset(docs))
    for split, part in parts.items():
        irds.registry.register(f"{name}/{split}", part)
    yield name, german, halves, qrels
    for key in (name, f"{name}/dev", f"{name}/train"):
        irds.registry._registered.pop(key, None)


def test_irds_split_collection(irds_collection):
    name, german, halves, qrels = irds_collection
    dataset = from_ir_datasets(f"{name}/dev")
    assert dataset.name == f"irds:{name}/dev" and dataset.splits == ["dev"]
    assert dataset.corpus == german  # ids, text, title, lang "de" from docs_lang()
    assert dataset.queries.ids == [q.id for q in halves["dev"]]
    assert set(dataset.queries.langs) == {"de"}
    assert dataset.qrels["dev"] == {q.id: qrels[q.id] for q in halves["dev"]}


def test_irds_several_splits_and_options(irds_collection):
    name, _, halves, qrels = irds_collection
    dataset = from_ir_datasets(name, splits=["dev", "train"], query_lang="en", lang="deu")
    assert dataset.splits == ["dev", "train"]
    assert len(dataset.queries) == len(halves["dev"]) + len(halves["train"])
    # language codes are canonical: ISO 639-3 "deu" becomes "de"
    assert set(dataset.queries.langs) == {"en"} and set(dataset.corpus.langs) == {"de"}
    queries, split_qrels = dataset.split("train")
    assert queries.ids == [q.id for q in halves["train"]]
    assert split_qrels == {q.id: qrels[q.id] for q in halves["train"]}
    # the same through load(): options after ?, lists comma-separated
    via_uri = load(f"irds:{name}?splits=dev,train&query_lang=en&lang=deu")
    assert via_uri.corpus == dataset.corpus and via_uri.queries == dataset.queries
    # a query field other than text
    ids = from_ir_datasets(f"{name}/dev", query_field="query_id").queries
    assert ids.texts == ids.ids


def test_irds_errors(irds_collection):
    name, *_ = irds_collection
    with pytest.raises(InvalidInputError, match=r"has no qrels.*available: dev, train"):
        from_ir_datasets(name)
    with pytest.raises(UnknownNameError, match="Did you mean"):
        from_ir_datasets("miracl/sw/devv")
    with pytest.raises(InvalidInputError, match="queries have no field 'title'"):
        from_ir_datasets(f"{name}/dev", query_field="title")
    with pytest.raises(InvalidInputError, match=r"unknown option 'split' .*did you mean 'splits'"):
        load(f"irds:{name}?split=dev")


def test_irds_collection_not_downloaded_fails_clearly(tmp_path):
    irds = pytest.importorskip("ir_datasets", reason="ir_datasets is not installed")
    from ir_datasets.datasets.base import Dataset as IrdsDataset
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import LocalDownload

    (tmp_path / "q.tsv").write_text("q1\tWo?\n")
    (tmp_path / "q.qrels").write_text("q1 0 d1 1\n")
    name = f"polyret-missing-{uuid.uuid4().hex[:8]}"
    irds.registry.register(
        name,
        IrdsDataset(
            TsvDocs(LocalDownload(tmp_path / "not-downloaded.tsv")),
            TsvQueries(LocalDownload(tmp_path / "q.tsv")),
            TrecQrels(LocalDownload(tmp_path / "q.qrels"), {1: "relevant"}),
        ),
    )
    try:
        with pytest.raises(DatasetNotAvailableError, match=f"cannot read '{name}' here"):
            from_ir_datasets(name)
    finally:
        irds.registry._registered.pop(name, None)


# ---------------------------------------------------------------------------- Hugging Face
def _beir_records(corpus: Corpus, queries: Queries, qrels, *, lang_columns: bool):
    docs = [
        {
            "_id": d.id,
            "title": d.title,
            "text": d.text,
            **({"lang": d.lang} if lang_columns else {}),
        }
        for d in corpus
    ]
    topics = [
        {"_id": q.id, "text": q.text, **({"lang": q.lang} if lang_columns else {})} for q in queries
    ]
    judgments = [
        {"query-id": q, "corpus-id": d, "score": r}
        for q, docs_ in qrels.items()
        for d, r in docs_.items()
    ]
    return docs, topics, judgments


def test_hf_save_to_disk_layout(small, tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    corpus, queries, qrels = small
    docs, topics, judgments = _beir_records(corpus, queries, qrels, lang_columns=True)
    half = len(judgments) // 2
    datasets.DatasetDict({"corpus": datasets.Dataset.from_list(docs)}).save_to_disk(
        tmp_path / "corpus"
    )
    datasets.DatasetDict({"queries": datasets.Dataset.from_list(topics)}).save_to_disk(
        tmp_path / "queries"
    )
    datasets.DatasetDict(
        {
            "dev": datasets.Dataset.from_list(judgments[:half]),
            "test": datasets.Dataset.from_list(judgments[half:]),
        }
    ).save_to_disk(tmp_path / "qrels")

    dataset = from_hf(str(tmp_path))
    assert dataset.corpus == corpus and dataset.queries == queries
    assert dataset.splits == ["dev", "test"]
    expected_dev = {}
    for row in judgments[:half]:
        expected_dev.setdefault(row["query-id"], {})[row["corpus-id"]] = row["score"]
    assert dataset.qrels["dev"] == expected_dev
    assert sorted(dataset.corpus.languages()) == ["de", "th"]
    # one split only, through load()
    only = load(f"hf:{tmp_path}?splits=test")
    assert only.splits == ["test"] and only.corpus == corpus


def test_hf_parquet_files_with_a_subset_prefix(small, tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    corpus, queries, qrels = small
    thai = corpus.filter(lang="th")
    th_queries = queries.filter(lang="th")
    th_qrels = {q: qrels[q] for q in th_queries.ids}
    docs, topics, judgments = _beir_records(thai, th_queries, th_qrels, lang_columns=False)
    for config, split, rows in (
        ("th-corpus", "corpus", docs),
        ("th-queries", "queries", topics),
        ("th-qrels", "dev", judgments),
    ):
        (tmp_path / config).mkdir()
        datasets.Dataset.from_list(rows).to_parquet(
            tmp_path / config / f"{split}-00000-of-00001.parquet"
        )
    dataset = load(f"hf:{tmp_path}?subset=th")
    assert dataset.name == f"hf:{tmp_path}/th"
    assert dataset.corpus == thai  # no lang column: the subset names the language
    assert dataset.queries == th_queries and dataset.qrels["dev"] == th_qrels
    assert set(from_hf(str(tmp_path), subset="th", lang="tha").queries.langs) == {"th"}


def test_hf_repository_folder_with_declared_configs(small, tmp_path):
    pytest.importorskip("datasets", reason="datasets is not installed")
    corpus, queries, qrels = small
    docs, topics, judgments = _beir_records(corpus, queries, qrels, lang_columns=True)
    (tmp_path / "data").mkdir()
    for file, rows in (("docs", docs), ("topics", topics), ("judged-dev", judgments)):
        with open(tmp_path / "data" / f"{file}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n"
        "- config_name: passages\n  data_files:\n  - split: corpus\n    path: data/docs.jsonl\n"
        "- config_name: topics\n  data_files:\n  - split: queries\n    path: data/topics.jsonl\n"
        "- config_name: default\n  data_files:\n  - split: dev\n    path: data/judged-dev.jsonl\n"
        "---\n# a BEIR-layout dataset\n"
    )
    layout = HFLayout(corpus="passages", queries="topics")
    dataset = from_hf(str(tmp_path), layout=layout)
    assert dataset.corpus == corpus and dataset.queries == queries
    assert dataset.qrels["dev"] == qrels
    via_uri = load(f"hf:{tmp_path}?corpus=passages&queries=topics&qrels=default")
    assert via_uri.corpus == corpus


def test_hf_errors(small, tmp_path):
    pytest.importorskip("datasets", reason="datasets is not installed")
    with pytest.raises(InvalidInputError, match="no sub-folder 'corpus'"):
        from_hf(str(tmp_path))
    with pytest.raises(InvalidInputError, match=r"unknown option 'lnag'.*did you mean 'lang'"):
        load(f"hf:{tmp_path}?lnag=sw")
    with pytest.raises(DatasetNotAvailableError, match="not a folder"):
        from_hf(str(tmp_path / "nope" / "deeper"))


def test_hf_hub_dataset_not_in_the_cache_fails_offline(monkeypatch, tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DatasetNotAvailableError, match="neither a local folder nor in the"):
        from_hf(f"polyret-test/not-cached-{uuid.uuid4().hex[:8]}")


def test_columns_are_checked(tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    for config, rows in (
        ("corpus", [{"doc": "d1", "body": "x"}]),
        ("queries", [{"_id": "q1", "text": "y"}]),
        ("qrels", [{"query-id": "q1", "corpus-id": "d1", "score": 1}]),
    ):
        (tmp_path / config).mkdir()
        datasets.Dataset.from_list(rows).to_parquet(tmp_path / config / "data.parquet")
    with pytest.raises(InvalidInputError, match="corpus table lacks an id column"):
        from_hf(str(tmp_path))


def test_integer_ids_become_strings_and_codes_canonical(tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    for config, rows in (
        (
            "corpus",
            [
                {"_id": 7, "text": "Nairobi ni mji mkuu.", "lang": ""},
                {"_id": 8, "text": "Mombasa", "lang": "swh"},
                {"_id": 9, "text": "内罗毕是肯尼亚的首都。", "lang": "zh_cn"},
            ],
        ),
        ("queries", [{"id": 1, "query": "Mji mkuu wa Kenya?"}]),
        ("qrels", [{"query_id": 1, "doc_id": 7, "relevance": 2}]),
    ):
        (tmp_path / config).mkdir()
        datasets.Dataset.from_list(rows).to_parquet(tmp_path / config / "test.parquet")
    dataset = from_hf(str(tmp_path), lang="sw")
    assert dataset.corpus["7"].text == "Nairobi ni mji mkuu."
    # empty lang is filled from `lang`; record codes become canonical (MKQA writes zh_cn)
    assert dataset.corpus.langs == ["sw", "sw", "zh"]
    assert dataset.queries["1"].text == "Mji mkuu wa Kenya?"
    assert dataset.qrels == {"test": {"1": {"7": 2}}}


def test_unknown_scheme_is_a_path_or_name():
    with pytest.raises(UnknownNameError):
        load("ftp:somewhere")


# ------------------------------------------------------------------------------ the docs
DOCS = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"


def test_adapter_output_round_trips_through_a_beir_folder(small, tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    from polyret.io import read_beir, write_beir

    corpus, queries, qrels = small
    docs, topics, judgments = _beir_records(corpus, queries, qrels, lang_columns=True)
    for config, split, rows in (
        ("corpus", "corpus", docs),
        ("queries", "queries", topics),
        ("qrels", "dev", judgments),
    ):
        datasets.DatasetDict({split: datasets.Dataset.from_list(rows)}).save_to_disk(
            tmp_path / "hf" / config
        )
    dataset = from_hf(str(tmp_path / "hf"))
    write_beir(dataset, tmp_path / "beir")
    again = read_beir(tmp_path / "beir")
    assert again.corpus == dataset.corpus and again.queries == dataset.queries
    assert again.qrels == dataset.qrels


def test_pooled_answer_judgments_recipe_runs(small):
    """The docs' answer_qrels: a pooled passage is relevant when it contains an answer."""
    from polyret.evaluate import evaluate
    from polyret.retrieve import BM25

    block = DOCS.read_text(encoding="utf-8").split("### Pooled answer judgments", 1)[1]
    code = block.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # our own docs, run as written
    answer_qrels, no_answer = namespace["answer_qrels"], namespace["NO_ANSWER"]

    corpus, queries, qrels = small
    german = queries.filter(lang="de")
    # the "answer" of each question: four words of its relevant sentence
    answers = {q: [" ".join(corpus[next(iter(qrels[q]))].text.split()[2:6])] for q in german.ids}
    run = BM25().index(corpus).search(german, k=10)
    judged = answer_qrels([run], corpus, answers, depth=10)
    assert set(judged) == set(german.ids)
    for query_id, docs in judged.items():
        if docs == {no_answer: 1}:
            assert not any(
                answers[query_id][0].casefold() in corpus[d].text.casefold() for d in run[query_id]
            )
        else:
            assert all(answers[query_id][0].casefold() in corpus[d].text.casefold() for d in docs)
            assert set(docs) <= set(run[query_id])
    # success@k as the docs compute it: share of questions with mrr@k > 0
    report = evaluate(run, judged, ["mrr@10"], queries=german)
    answered = sum(docs != {no_answer: 1} for docs in judged.values())
    assert len(german) // 2 < answered < len(german) + 1
    assert (report.scores[:, 0] > 0).mean() == answered / len(german)
