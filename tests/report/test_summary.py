"""``summarize``: every number is polyret.evaluate's, on real runs and on formula-sized data."""

from __future__ import annotations

import json

import pytest

from polyret.errors import InvalidInputError
from polyret.evaluate import EvaluationConfig, RandomizationTest, compare, evaluate
from polyret.report import RECALL_DEPTHS, summarize

METRICS = ["ndcg@10", "mrr@10"]


def _config(metrics: list[str], baseline: str) -> EvaluationConfig:
    return EvaluationConfig(metrics=metrics, baseline=baseline)


@pytest.fixture(scope="module")
def summary(retrieval):
    runs, queries, qrels = retrieval
    return summarize(
        runs, qrels, queries, EvaluationConfig(metrics=METRICS, baseline="bm25", permutations=500)
    )


def test_means_and_counts_are_evaluates(retrieval, summary):
    runs, queries, qrels = retrieval
    for name, run in runs.items():
        report = evaluate(run, qrels, METRICS, queries=queries)
        assert summary["systems"][name] == {
            "mean": report.mean,
            "by_lang": report.by_lang,
            "num_queries": report.num_queries,
        }
    assert summary["languages"] == ["ar", "de", "en", "es", "hi", "ru", "th", "tr", "zh"]
    assert summary["metrics"] == METRICS and summary["baseline"] == "bm25"


def test_recall_curve_is_evaluates_recall_at_each_depth(retrieval, summary):
    runs, queries, qrels = retrieval
    names = [f"recall@{k}" for k in RECALL_DEPTHS]
    for name, run in runs.items():
        groups = evaluate(run, qrels, names, queries=queries).groups()
        curve = summary["recall_curve"][name]
        assert set(curve) == {*summary["languages"], "all"}
        for group, values in curve.items():
            assert list(values) == [str(k) for k in RECALL_DEPTHS]
            assert values == {str(k): groups[group][f"recall@{k}"] for k in RECALL_DEPTHS}
            points = list(values.values())
            assert points == sorted(points)  # recall never drops as k grows


def test_significance_is_compares_holm_corrected_randomization_test(retrieval, summary):
    runs, queries, qrels = retrieval
    test = RandomizationTest(permutations=500, seed=0)
    overall = compare(runs, qrels, METRICS, baseline="bm25", test=test, queries=queries)
    within = compare(runs, qrels, METRICS, baseline="bm25", test=test, queries=queries, by="lang")
    assert set(summary["significance"]) == {"dense-hashing", "hybrid-rrf"}
    for system in ("dense-hashing", "hybrid-rrf"):
        for metric in METRICS:
            row = overall.row(system, metric)
            assert summary["significance"][system][metric] == {
                "p_value": row.p_corrected,
                "p_raw": row.p_value,
                "delta": row.delta,
                "significant": row.significant,
            }
            for lang in summary["languages"]:
                cell = summary["significance_by_lang"][system][lang][metric]
                assert cell["p_value"] == within.row(system, metric, lang).p_corrected
    # the hashing encoder is far below BM25 on every metric: a significant drop
    dense = summary["significance"]["dense-hashing"]["ndcg@10"]
    assert dense["significant"] and dense["delta"] < 0
    assert summary["test"] == {
        "name": "randomization",
        "permutations": 500,
        "seed": 0,
        "correction": "holm",
        "alpha": 0.05,
    }


def test_summary_is_plain_json(summary):
    assert json.loads(json.dumps(summary)) == summary


def test_formula_sized_example():
    # q0..q3: "good" ranks the relevant document first, "bad" second
    qrels = {f"q{i}": {"rel": 1} for i in range(4)}
    runs = {
        "bad": {q: {"other": 2.0, "rel": 1.0} for q in qrels},
        "good": {q: {"rel": 2.0, "other": 1.0} for q in qrels},
    }
    langs = {"q0": "fi", "q1": "fi", "q2": "sw", "q3": "sw"}
    out = summarize(
        runs,
        qrels,
        langs,
        EvaluationConfig(metrics=["mrr@10", "ndcg@10"], baseline="bad", permutations=200),
    )
    assert out["systems"]["bad"]["mean"] == {"mrr@10": 1 / 2, "ndcg@10": 1 / 1.584962500721156}
    assert out["systems"]["good"]["by_lang"]["sw"] == {"mrr@10": 1.0, "ndcg@10": 1.0}
    assert out["systems"]["good"]["num_queries"] == {"fi": 2, "sw": 2, "all": 4}
    assert out["recall_curve"]["bad"]["fi"] == {
        "1": 0.0, "2": 1.0, "5": 1.0, "10": 1.0, "20": 1.0, "50": 1.0, "100": 1.0
    }  # fmt: skip
    assert out["significance"]["good"]["mrr@10"]["delta"] == 1 - 1 / 2
    # every per-query difference is +0.5: of 2^4 sign patterns only the two all-equal ones
    # reach the observed mean, so p is about 2/16 before correction, never below 0.05
    assert not out["significance"]["good"]["mrr@10"]["significant"]


def test_single_run_has_no_tests():
    qrels = {"q1": {"d1": 1}}
    out = summarize({"only": {"q1": {"d1": 1.0}}}, qrels, None, _config(["mrr@10"], "only"))
    assert out["significance"] == {} and out["significance_by_lang"] == {}
    assert out["systems"]["only"]["by_lang"] == {"und": {"mrr@10": 1.0}}


def test_bad_input():
    with pytest.raises(InvalidInputError, match="baseline 'nope'"):
        summarize({"a": {"q": {"d": 1.0}}}, {"q": {"d": 1}}, None, _config(["mrr@10"], "nope"))
    with pytest.raises(InvalidInputError, match="at least one run"):
        summarize({}, {"q": {"d": 1}}, None, _config(["mrr@10"], "a"))
    with pytest.raises(InvalidInputError, match="unknown metric 'nope@3'"):
        summarize({"a": {"q": {"d": 1.0}}}, {"q": {"d": 1}}, None, _config(["nope@3"], "a"))


def test_the_configs_test_correction_and_alpha_are_compares(retrieval):
    runs, queries, qrels = retrieval
    config = EvaluationConfig(
        metrics=METRICS, baseline="bm25", test="t-test", correction="bonferroni", alpha=0.2
    )
    out = summarize(runs, qrels, queries, config)
    expected = compare(
        runs, qrels, METRICS, baseline="bm25", test="t-test", correction="bonferroni",
        alpha=0.2, queries=queries,
    )  # fmt: skip
    assert out["test"] | {"permutations": None} == {
        "name": "t-test", "permutations": None, "seed": 0, "correction": "bonferroni",
        "alpha": 0.2,
    }  # fmt: skip
    for name in runs:
        for metric in (m for m in out["metrics"] if name != "bm25"):
            row = expected.row(name, metric)
            assert out["significance"][name][metric]["p_value"] == row.p_corrected
            assert out["significance"][name][metric]["significant"] == row.significant
