from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyret.errors import InvalidInputError
from polyret.evaluate import evaluate
from polyret.retrieve import (
    BM25,
    FuseConfig,
    combiners,
    fuse,
    normalizers,
    simplex_grid,
    tune_fusion,
)
from polyret.types import Run

A = Run.from_dict({"q1": {"a": 9.0, "b": 7.0, "c": 1.0}, "q2": {"x": 2.0, "y": 2.0}})
B = Run.from_dict({"q1": {"c": 0.9, "a": 0.8, "d": 0.1}, "q3": {"z": 5.0}})


def test_rrf_is_the_sum_of_reciprocal_ranks():
    fused = fuse([A, B], "rrf", rrf_k=60)
    assert fused["q1"]["a"] == pytest.approx(1 / (60 + 1) + 1 / (60 + 2))
    assert fused["q1"]["c"] == pytest.approx(1 / (60 + 3) + 1 / (60 + 1))
    assert fused["q1"]["d"] == pytest.approx(1 / (60 + 3))
    # ties in A's q2 are ranked by doc id descending (y before x)
    assert fused["q2"] == pytest.approx({"y": 1 / 61, "x": 1 / 62})
    assert set(fused) == {"q1", "q2", "q3"}


def test_weighted_min_max_interpolation():
    fused = fuse([A, B], "interpolation", weights=[0.3, 0.7], normalization="min-max")
    # A: a=(9-1)/8=1, c=0; B: c=1, a=(0.8-0.1)/0.8
    assert fused["q1"]["a"] == pytest.approx(0.3 * 1 + 0.7 * (0.7 / 0.8))
    assert fused["q1"]["c"] == pytest.approx(0.3 * 0 + 0.7 * 1)
    assert fused["q3"]["z"] == pytest.approx(0.7 * 1)  # one document: normalized to 1


def test_z_score_interpolation():
    fused = fuse([A], "interpolation", normalization="z-score")
    scores = np.array([9.0, 7.0, 1.0])
    z = (scores - scores.mean()) / scores.std()
    assert [fused["q1"][d] for d in "abc"] == pytest.approx(z.tolist())
    assert fused["q2"] == {"x": 0.0, "y": 0.0}


score_maps = st.dictionaries(
    st.sampled_from(["q1", "q2", "q3"]),
    st.dictionaries(st.sampled_from(list("abcdef")), st.integers(0, 5).map(float), min_size=1),
    min_size=1,
)


@given(st.lists(score_maps, min_size=2, max_size=4))
def test_equal_weight_fusion_does_not_depend_on_run_order(maps):
    runs = [Run.from_dict(m) for m in maps]
    for method in ("rrf", "interpolation"):
        forward, backward = fuse(runs, method), fuse(runs[::-1], method)
        assert forward.keys() == backward.keys()
        for query in forward:
            assert forward[query] == pytest.approx(backward[query])


def test_depth_and_k_cut_inputs_and_output():
    fused = fuse([A, B], "rrf", depth=1, k=1)
    # depth 1 keeps A's "a" and B's "c", both 1/61; the tie goes to the larger doc id
    assert fused["q1"] == pytest.approx({"c": 1 / 61})
    assert all(len(docs) == 1 for docs in fused.values())


def test_bad_arguments():
    with pytest.raises(InvalidInputError, match="2 weights for 1 runs"):
        fuse([A], weights=[1, 2])
    with pytest.raises(InvalidInputError, match="unknown fusion method"):
        fuse([A, B], "borda")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="at least two runs"):
        tune_fusion({"a": A}, {"q1": {"a": 1}})


def test_simplex_grid_sums_to_one():
    grid = simplex_grid(3, 0.1)
    assert len(grid) == math.comb(10 + 2, 2)
    assert all(abs(sum(w) - 1) < 1e-9 for w in grid)


def test_tuning_on_dev_transfers_to_test(xquad_r):
    stemmed = BM25().index(xquad_r.corpus)
    unstemmed = BM25(analyzer={"stemmer": None}).index(xquad_r.corpus)
    dev_queries, dev_qrels = xquad_r.split("dev")
    test_queries, test_qrels = xquad_r.split("test")
    dev = {"stem": stemmed.search(dev_queries, k=100), "raw": unstemmed.search(dev_queries, k=100)}
    tuning = tune_fusion(dev, dev_qrels, method="rrf", step=0.25, rrf_ks=(20, 60))
    assert len(tuning.trials) == 5 * 2
    best_single = max(
        evaluate(r, dev_qrels, ["ndcg@10"], by=None).mean["ndcg@10"] for r in dev.values()
    )
    assert tuning.score >= best_single - 1e-12  # pure single-run weights are in the grid
    test = [stemmed.search(test_queries, k=100), unstemmed.search(test_queries, k=100)]
    fused = tuning.apply(test, k=100)
    assert evaluate(fused, test_qrels, ["ndcg@10"], by=None).mean["ndcg@10"] > 0.7


@pytest.fixture
def squares(monkeypatch):
    """A combiner summing squared normalized scores, registered as a plugin would be (and
    removed after the test)."""

    def squared_scores(run, scores, config):
        return scores**2

    monkeypatch.setitem(combiners._entries, "squares", squared_scores)
    return "squares"


def test_a_registered_combiner_is_reached_by_fuse_and_the_pipeline(squares, tmp_path):
    from polyret.pipeline.loading import load_config

    fused = fuse([A, B], squares, normalization="none")
    assert fused["q1"]["a"] == pytest.approx(9.0**2 + 0.8**2)
    assert fused["q3"]["z"] == pytest.approx(25.0)
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        "name: t\nstages:\n"
        "  - {name: data, type: dataset, params: {source: xquad-r}}\n"
        "  - {name: i, type: index-bm25}\n"
        "  - {name: a, type: retrieve, inputs: {index: i}}\n"
        "  - {name: b, type: retrieve, inputs: {index: i}}\n"
        "  - {name: f, type: fuse, inputs: {runs: [a, b]}, params: {method: squares}}\n"
    )
    assert load_config(config).stage("f").params.method == squares


def test_normalizers_and_combiners_are_separate_registries():
    assert {"min-max", "z-score", "none"} <= set(normalizers.names())
    assert {"rrf", "interpolation"} <= set(combiners.names())
    with pytest.raises(InvalidInputError, match="unknown normalization 'rrf'"):
        fuse([A, B], "interpolation", normalization="rrf")
    with pytest.raises(InvalidInputError, match="unknown fusion method 'min-max'"):
        FuseConfig(method="min-max")
    # rrf uses ranks only: the normalizer does not change it
    assert fuse([A, B], "rrf", normalization="z-score") == fuse([A, B], "rrf")
