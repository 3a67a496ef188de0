"""Paired tests, corrections and compare(): hand examples, scipy parity, real data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from polyret.errors import InvalidInputError
from polyret.evaluate import (
    RandomizationTest,
    adjust_p_values,
    compare,
    paired_t_test,
    randomization_test,
)
from tests.parity.test_metrics_parity import _bm25_run, _read_collection

rng = np.random.default_rng(7)
A = rng.random(50)
B = np.clip(A + rng.normal(0.02, 0.2, 50), 0, 1)


def test_identical_systems_have_p_one():
    assert randomization_test(A, A) == 1.0
    assert paired_t_test(A, A) == 1.0


def test_t_test_equals_scipy():
    assert paired_t_test(A, B) == pytest.approx(stats.ttest_rel(A, B).pvalue, rel=1e-12)
    both = paired_t_test(np.stack([A, B], 1), np.stack([B, A], 1))
    assert both.shape == (2,) and both[0] == pytest.approx(both[1])


def test_randomization_is_seeded_and_close_to_exact():
    p1 = randomization_test(A, B, permutations=5000, seed=3)
    assert p1 == randomization_test(A, B, permutations=5000, seed=3)
    assert p1 != randomization_test(A, B, permutations=5000, seed=4)
    # with 10 queries all 2**10 sign flips can be enumerated: the exact p-value
    a, b = A[:10], B[:10]
    diff = a - b
    signs = np.array(np.meshgrid(*[[-1, 1]] * 10)).reshape(10, -1).T
    exact = np.mean(np.abs(signs @ diff) >= abs(diff.sum()) - 1e-12)
    assert randomization_test(a, b, permutations=20_000) == pytest.approx(exact, abs=0.01)


def test_randomization_vectorized_over_metrics():
    a, b = np.stack([A, A], 1), np.stack([B, A], 1)
    p = randomization_test(a, b, permutations=2000, seed=1)
    assert p[0] == randomization_test(A, B, permutations=2000, seed=1) and p[1] == 1.0


def test_holm_hand_example():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005*4, 0.01*3, 0.03*2, 0.04*1 -> running max 0.02, 0.03, 0.06, 0.06
    expected = [0.01 * 3, 0.06, 0.03 * 2, 0.005 * 4]
    np.testing.assert_allclose(adjust_p_values(p, "holm"), expected)
    np.testing.assert_allclose(adjust_p_values(p, "bonferroni"), np.minimum(1, p * 4))
    np.testing.assert_array_equal(adjust_p_values(p, "none"), p)
    with_nan = adjust_p_values(np.array([np.nan, 0.02, 0.5]), "holm")
    assert np.isnan(with_nan[0]) and with_nan[1:].tolist() == [0.04, 0.5]
    with pytest.raises(InvalidInputError):
        adjust_p_values(p, "sidak")  # type: ignore[arg-type]


def test_compare_errors():
    run = {"q1": {"d1": 1.0}}
    with pytest.raises(InvalidInputError, match="two runs"):
        compare({"a": run}, {"q1": {"d1": 1}})
    with pytest.raises(InvalidInputError, match="baseline"):
        compare({"a": run, "b": run}, {"q1": {"d1": 1}}, baseline="c")
    with pytest.raises(InvalidInputError, match="test"):
        compare({"a": run, "b": run}, {"q1": {"d1": 1}}, test="wilcoxon")


@pytest.fixture(scope="module")
def real_runs():
    corpus, queries, qrels, langs = _read_collection("xquad-r-en")
    bm25 = _bm25_run(corpus, queries)
    worse = {}  # the same lists with the top 10 reversed: clearly worse at the top
    for q, docs in bm25.items():
        ranked = sorted(docs, key=lambda d: (docs[d], d), reverse=True)
        order = ranked[:10][::-1] + ranked[10:]
        worse[q] = {d: float(len(order) - i) for i, d in enumerate(order)}
    return bm25, worse, qrels, langs


@pytest.mark.parametrize("test", ["randomization", "t-test"])
def test_clearly_better_run_is_significant(real_runs, test):
    bm25, worse, qrels, langs = real_runs
    result = compare(
        {"worse": worse, "bm25": bm25},
        qrels,
        ["mrr@10", "ndcg@10", "recall@10"],
        test=test,
        queries=langs,
    )
    for metric in ("mrr@10", "ndcg@10"):
        row = result.row("bm25", metric)
        assert row.delta > 0.1 and row.p_corrected < 0.05 and row.significant
    recall = result.row("bm25", "recall@10")  # same top-10 set: no difference
    assert recall.delta == 0 and recall.p_value == 1.0
    baseline = result.row("worse", "mrr@10")
    assert np.isnan(baseline.p_value) and baseline.mean == result.reports["worse"].mean["mrr@10"]


def test_compare_same_run_and_language_groups(real_runs):
    bm25, _, qrels, langs = real_runs
    result = compare(
        {"a": bm25, "b": dict(bm25)},
        qrels,
        ["ndcg@10"],
        queries=langs,
        by="lang",
        test=RandomizationTest(permutations=1000, seed=5),
    )
    assert result.groups == ("en", "all")
    assert all(r.p_value >= 0.99 for r in result.rows if r.system == "b")
    assert "ndcg@10" in result.to_markdown() and result.to_dict()["rows"][0]["p_value"] is None


def test_each_language_is_its_own_correction_family(real_runs):
    """Holm within a group (a language, or all queries) over its systems × metrics: a
    language's corrected p-values do not depend on how many other languages there are."""
    bm25, worse, qrels, _ = real_runs
    ids = sorted(qrels)
    langs = {q: ("de" if i % 2 else "en") for i, q in enumerate(ids)}  # two groups
    metrics = ["mrr@10", "ndcg@10"]
    result = compare({"worse": worse, "bm25": bm25}, qrels, metrics, queries=langs, by="lang")
    for group in result.groups:
        rows = [result.row("bm25", m, group) for m in metrics]
        expected = adjust_p_values(np.array([r.p_value for r in rows]), "holm")
        assert [r.p_corrected for r in rows] == pytest.approx(expected.tolist())
