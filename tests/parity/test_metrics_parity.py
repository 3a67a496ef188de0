"""polyret's metrics equal pytrec_eval's (trec_eval) per query, on BM25 runs over real data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import bm25s
import ir_measures
import numpy as np
import pytest
import pytrec_eval

from polyret.evaluate import compute_metrics, evaluate
from polyret.types import Qrels, Run

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
COLLECTIONS = ["xquad-r-de", "xquad-r-en", "xquad-p-es"]

# polyret name -> trec_eval measure, for the metrics that map one to one
TREC_EVAL = {
    "ndcg@1": "ndcg_cut_1",
    "ndcg@5": "ndcg_cut_5",
    "ndcg@10": "ndcg_cut_10",
    "ndcg@100": "ndcg_cut_100",
    "recall@5": "recall_5",
    "recall@10": "recall_10",
    "recall@100": "recall_100",
    "map@100": "map_cut_100",
    "p@1": "P_1",
    "p@5": "P_5",
    "p@10": "P_10",
    "ndcg": "ndcg",
    "map": "map",
    "mrr": "recip_rank",
    "recall": "recall_1000",
}
MEASURES = {
    "ndcg_cut.1,5,10,100",
    "recall.5,10,100,1000",
    "map_cut.100",
    "P.1,5,10",
    "ndcg",
    "map",
    "recip_rank",
}


def _read_collection(name: str) -> tuple[dict[str, str], dict[str, str], dict, dict[str, str]]:
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the shared collections are not on this machine")
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        queries = [json.loads(line) for line in f]
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / "test.tsv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    corpus = {d["_id"]: f"{d['title']} {d['text']}".strip() for d in docs}
    texts = {q["_id"]: q["text"] for q in queries if q["_id"] in qrels}
    langs = {q["_id"]: q["lang"] for q in queries}
    return corpus, texts, qrels, langs


def _bm25_run(corpus: dict[str, str], queries: dict[str, str], k: int = 100) -> dict:
    doc_ids = list(corpus)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(list(corpus.values()), show_progress=False), show_progress=False)
    tokens = bm25s.tokenize(list(queries.values()), show_progress=False)
    rows, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
    return {
        q: {doc_ids[i]: float(s) for i, s in zip(row, score, strict=True)}
        for q, row, score in zip(queries, rows, scores, strict=True)
    }


@pytest.fixture(scope="module", params=COLLECTIONS)
def bm25(request):
    corpus, queries, qrels, langs = _read_collection(request.param)
    return _bm25_run(corpus, queries), qrels, langs


def _graded(run: dict, qrels: dict) -> dict:
    """Deterministic graded qrels: the true answer keeps 3 (or gets 1..3 by its position),
    ranks 2, 4 and 7 of each BM25 list get grades 1..3, ranks 3 and 9 are judged 0."""
    graded = {}
    for n, (query_id, judged) in enumerate(sorted(qrels.items())):
        grades = {doc: 1 + (n + len(doc)) % 3 for doc in judged}
        docs = run.get(query_id, {})
        ranked = sorted(docs, key=lambda d: (docs[d], d), reverse=True)  # trec_eval order
        for rank, grade in ((1, 1), (3, 2), (6, 3), (2, 0), (8, 0)):
            if rank < len(ranked) and ranked[rank] not in grades:
                grades[ranked[rank]] = (grade + n) % 4 if grade else 0
        graded[query_id] = grades
    return graded


def _tied(run: dict) -> dict:
    return {q: {d: round(s, 1) for d, s in docs.items()} for q, docs in run.items()}


def _assert_parity(run: dict, qrels: dict, relevance_level: int = 1) -> int:
    expected = pytrec_eval.RelevanceEvaluator(qrels, MEASURES, relevance_level).evaluate(run)
    ours = compute_metrics(
        run, qrels, list(TREC_EVAL), relevance_level=relevance_level, missing="skip"
    ).to_dict()
    assert set(ours) == set(expected)
    query_ids = sorted(expected)
    for name, measure in TREC_EVAL.items():
        want = np.array([expected[q][measure] for q in query_ids])
        got = np.array([ours[q][name] for q in query_ids])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=name)
    # mrr@10 is recip_rank on the run truncated to its top 10 in trec_eval order
    top10 = Run.from_dict(run).truncate(10).to_dict()
    rr10 = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level).evaluate(top10)
    ours10 = compute_metrics(
        run, qrels, ["mrr@10"], relevance_level=relevance_level, missing="skip"
    ).to_dict()
    np.testing.assert_allclose(
        [ours10[q]["mrr@10"] for q in rr10],
        [v["recip_rank"] for v in rr10.values()],
        rtol=0,
        atol=1e-6,
    )
    return len(expected)


def test_binary_qrels(bm25):
    run, qrels, _ = bm25
    assert _assert_parity(run, qrels) > 900


def test_score_ties(bm25):
    run, qrels, _ = bm25
    tied = _tied(run)
    assert sum(len(set(d.values())) < len(d) for d in tied.values()) > 100  # ties do occur
    _assert_parity(tied, qrels)


@pytest.mark.parametrize("relevance_level", [1, 2])
def test_graded_qrels_with_ties(bm25, relevance_level):
    run, qrels, _ = bm25
    tied = _tied(run)
    graded = _graded(tied, qrels)
    levels = {g for judged in graded.values() for g in judged.values()}
    assert levels == {0, 1, 2, 3}
    _assert_parity(tied, graded, relevance_level)


def test_missing_queries_score_zero_like_trec_eval_c(bm25):
    run, qrels, _ = bm25
    dropped = sorted(run)[::5]
    partial = {q: docs for q, docs in run.items() if q not in set(dropped)}
    report = evaluate(partial, qrels, ["ndcg@10"], by=None)
    expected = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10"}).evaluate(partial)
    # trec_eval -c: average over every query with qrels, missing ones counting 0
    mean = sum(v["ndcg_cut_10"] for v in expected.values()) / len(qrels)
    assert report.mean["ndcg@10"] == pytest.approx(mean, abs=1e-9)
    assert report.num_queries["all"] == len(qrels)


def test_means_equal_ir_measures(bm25):
    run, qrels, langs = bm25
    graded = _graded(run, qrels)
    # not RR@10: ir_measures computes it with its MS MARCO provider, which breaks score ties
    # by doc id ascending instead of trec_eval's descending (pytrec_eval parity covers it)
    measures = [
        ir_measures.nDCG @ 10,
        ir_measures.P @ 5,
        ir_measures.R @ 100,
        ir_measures.AP @ 100,
        ir_measures.nDCG,
    ]
    expected = ir_measures.calc_aggregate(measures, graded, run)
    report = evaluate(run, graded, [str(m) for m in measures], queries=langs, missing="skip")
    for measure, name in zip(measures, report.metrics, strict=True):
        assert report.mean[name] == pytest.approx(expected[measure], abs=1e-9), name
    per_query = {
        (m.query_id, str(m.measure)): m.value
        for m in ir_measures.iter_calc([ir_measures.nDCG @ 10], graded, run)
    }
    for query_id, values in report.per_query.items():
        assert values["ndcg@10"] == pytest.approx(per_query[query_id, "nDCG@10"], abs=1e-9)
    assert len(report.by_lang) == 1
    assert np.isclose(next(iter(report.by_lang.values()))["ndcg@10"], report.mean["ndcg@10"])


def test_qrels_object_and_dict_agree(bm25):
    run, qrels, _ = bm25
    a = compute_metrics(Run.from_dict(run), Qrels.from_dict(qrels), ["ndcg@10", "map@100"])
    b = compute_metrics(run, qrels, ["ndcg@10", "map@100"])
    np.testing.assert_array_equal(a.values, b.values)
