"""Metrics on tiny inline cases (expected values written as the formula) and properties."""

from __future__ import annotations

from math import log2

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyret.errors import InvalidInputError
from polyret.evaluate import Metric, compute_metrics, parse_metrics

# q1 ranks d1 > d2 > d3 > d4 (d2 and d3 tie: trec_eval puts d3 first, doc id descending)
RUN = {"q1": {"d1": 4.0, "d2": 2.0, "d3": 2.0, "d4": 1.0}, "q2": {"d5": 1.0, "d6": 0.5}}
QRELS = {"q1": {"d1": 1, "d2": 2, "d9": 1}, "q2": {"d6": 1}}


def scores(metrics, run=RUN, qrels=QRELS, **kwargs):
    return compute_metrics(run, qrels, metrics, **kwargs).to_dict()


def test_ndcg_graded_with_tie_order():
    # order d1(1), d3(0), d2(2), d4(0); ideal 2, 1, 1
    dcg = 1 / log2(2) + 2 / log2(4)
    idcg3 = 2 / log2(2) + 1 / log2(3) + 1 / log2(4)
    assert scores(["ndcg@3"])["q1"]["ndcg@3"] == pytest.approx(dcg / idcg3)
    assert scores(["ndcg@2"])["q1"]["ndcg@2"] == pytest.approx(
        (1 / log2(2)) / (2 / log2(2) + 1 / log2(3))
    )


def test_binary_metrics():
    got = scores(["p@2", "p@10", "recall@3", "mrr@10", "map@100", "map@2"])["q1"]
    assert got["p@2"] == 1 / 2
    assert got["p@10"] == 2 / 10  # divides by k even when fewer were retrieved
    assert got["recall@3"] == 2 / 3
    assert got["mrr@10"] == 1 / 1
    assert got["map@100"] == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert got["map@2"] == pytest.approx((1 / 1) / 3)


def test_relevance_level_affects_binary_metrics_not_ndcg():
    low = scores(["mrr@10", "recall@10", "ndcg@10"])["q1"]
    high = scores(["mrr@10", "recall@10", "ndcg@10"], relevance_level=2)["q1"]
    assert high["mrr@10"] == 1 / 3 and high["recall@10"] == 1 / 1
    assert high["ndcg@10"] == low["ndcg@10"]


def test_mrr_cutoff():
    assert scores(["mrr@1", "mrr@2", "mrr"])["q2"] == {"mrr@1": 0.0, "mrr@2": 1 / 2, "mrr": 1 / 2}


def test_no_relevant_docs_and_negative_grades_score_zero():
    qrels = {"q1": {"d1": 0, "d2": -1}}
    got = scores(["ndcg@10", "map@10", "recall@10", "mrr@10", "p@1"], qrels=qrels)["q1"]
    assert got == dict.fromkeys(got, 0.0)
    # a negative grade earns no gain (trec_eval)
    got = scores(["ndcg@10"], qrels={"q1": {"d1": -1, "d2": 1}})["q1"]["ndcg@10"]
    assert got == pytest.approx((1 / log2(4)) / 1)


def test_missing_and_extra_queries():
    run = {"q1": RUN["q1"], "q_extra": {"d1": 1.0}}
    zero = compute_metrics(run, QRELS, ["ndcg@10"])
    assert zero.query_ids.tolist() == ["q1", "q2"] and zero.values[1, 0] == 0.0
    skip = compute_metrics(run, QRELS, ["ndcg@10"], missing="skip")
    assert skip.query_ids.tolist() == ["q1"]
    with pytest.raises(InvalidInputError, match="missing"):
        compute_metrics(run, QRELS, ["ndcg@10"], missing="ignore")


def test_empty_run():
    got = compute_metrics({}, QRELS, ["ndcg@10", "map"]).values
    assert got.shape == (2, 2) and not got.any()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ndcg@10", Metric("ndcg", 10)),
        ("nDCG@10", Metric("ndcg", 10)),
        ("R@100", Metric("recall", 100)),
        ("recall@100", Metric("recall", 100)),
        ("RR@10", Metric("mrr", 10)),
        ("mrr@10", Metric("mrr", 10)),
        ("AP@100", Metric("map", 100)),
        ("map_cut_100", Metric("map", 100)),
        ("P@5", Metric("p", 5)),
        ("P_5", Metric("p", 5)),
        ("ndcg_cut.20", Metric("ndcg", 20)),
        ("recip_rank", Metric("mrr")),
        ("map", Metric("map")),
    ],
)
def test_parse(spec, expected):
    assert Metric.parse(spec) == expected


@pytest.mark.parametrize("spec", ["bleu@10", "ndcg@0", "p", "ndcg@x", "", "@10"])
def test_parse_errors_list_valid_names(spec):
    with pytest.raises(InvalidInputError, match="ndcg@k"):
        parse_metrics([spec])


def test_parse_metrics_string_deduplicates():
    assert [str(m) for m in parse_metrics("ndcg@10,R@100, nDCG@10")] == ["ndcg@10", "recall@100"]


# properties -----------------------------------------------------------------------------------
doc_ids = st.sampled_from([f"d{i}" for i in range(12)])
runs = st.dictionaries(
    st.sampled_from(["q1", "q2", "q3", "q4"]),
    st.dictionaries(doc_ids, st.sampled_from([0.0, 0.5, 1.0, 2.5, 3.0]), max_size=10),
    min_size=1,
)
qrels_st = st.dictionaries(
    st.sampled_from(["q1", "q2", "q3", "q5"]),
    st.dictionaries(doc_ids, st.integers(-1, 3), min_size=1, max_size=6),
    min_size=1,
)
ALL = ["ndcg@1", "ndcg@5", "ndcg", "recall@3", "recall@10", "mrr@5", "map@5", "map", "p@3"]


@settings(max_examples=60, deadline=None)
@given(runs, qrels_st)
def test_metrics_within_unit_interval(run, qrels):
    values = compute_metrics(run, qrels, ALL).values
    assert np.all((values >= 0) & (values <= 1 + 1e-12))


@settings(max_examples=60, deadline=None)
@given(runs, qrels_st, st.randoms(use_true_random=False))
def test_invariant_to_insertion_order(run, qrels, random):
    def shuffled(mapping):
        items = list(mapping.items())
        random.shuffle(items)
        return {q: dict(random.sample(list(d.items()), len(d))) for q, d in items}

    a = compute_metrics(run, qrels, ALL).to_dict()
    b = compute_metrics(shuffled(run), shuffled(qrels), ALL).to_dict()
    assert a.keys() == b.keys()
    for q in a:
        assert a[q] == pytest.approx(b[q], abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(runs, qrels_st)
def test_recall_monotone_in_k(run, qrels):
    values = compute_metrics(run, qrels, [f"recall@{k}" for k in range(1, 12)]).values
    assert np.all(np.diff(values, axis=1) >= -1e-12)
