from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyret.errors import InvalidInputError
from polyret.types import Qrels, Run

ids = st.text(alphabet="abcdé中", min_size=1, max_size=3)
score_maps = st.dictionaries(
    ids,
    st.dictionaries(ids, st.floats(-5, 5, allow_nan=False).map(lambda x: round(x, 1)), max_size=6),
    max_size=5,
)


@given(score_maps)
def test_run_round_trips_through_dict(mapping):
    # a query without documents has no ranked list, so it is not kept
    assert Run.from_dict(mapping).to_dict() == {q: docs for q, docs in mapping.items() if docs}


@given(score_maps)
def test_run_order_is_trec_eval_order(mapping):
    run = Run.from_dict(mapping)
    for query_id, docs in mapping.items():
        if not docs:
            continue
        # trec_eval: score descending, then strcmp(docno) descending (stable sorts, inner key first)
        expected = sorted(docs, key=lambda d: d.encode(), reverse=True)
        expected = sorted(expected, key=lambda d: -docs[d])
        assert list(run[query_id]) == expected


@given(score_maps, st.randoms())
def test_run_is_independent_of_input_order(mapping, rnd):
    triples = [(q, d, s) for q, docs in mapping.items() for d, s in docs.items()]
    rnd.shuffle(triples)
    shuffled = Run.from_arrays(*zip(*triples, strict=True)) if triples else Run.from_dict({})
    assert shuffled.to_dict() == {q: v for q, v in mapping.items() if v}


def test_from_topk_matches_from_dict_and_drops_missing():
    doc_ids = ["d0", "d1", "d2", "d3"]
    indices = np.array([[2, 0, -1], [3, 1, 0]])
    scores = np.array([[3.0, 1.0, -np.inf], [0.5, 0.25, 0.125]], dtype=np.float32)
    run = Run.from_topk(["q1", "q2"], indices, scores, doc_ids)
    assert run.to_dict() == {
        "q1": {"d2": 3.0, "d0": 1.0},
        "q2": {"d3": 0.5, "d1": 0.25, "d0": 0.125},
    }
    top_ids, top_scores = run.topk(2)
    assert top_ids.tolist() == [["d2", "d0"], ["d3", "d1"]]
    assert top_scores.tolist() == [[3.0, 1.0], [0.5, 0.25]]


def test_topk_pads_short_lists():
    run = Run.from_dict({"q1": {"a": 1.0}, "q2": {"b": 2.0, "c": 1.0}})
    top_ids, top_scores = run.topk(3)
    assert top_ids[0].tolist() == ["a", None, None]
    assert np.isneginf(top_scores[0, 1:]).all()


def test_truncate_keeps_best():
    run = Run.from_dict({"q": {"a": 1.0, "b": 3.0, "c": 2.0}, "r": {"x": 1.0}})
    assert run.truncate(2).to_dict() == {"q": {"b": 3.0, "c": 2.0}, "r": {"x": 1.0}}


def test_select_subset_in_given_order():
    run = Run.from_dict({"q": {"a": 1.0}, "r": {"b": 1.0}, "s": {"c": 1.0}})
    assert list(run.select(["s", "missing", "q"])) == ["s", "q"]
    assert run.select(["s", "q"])["q"] == {"a": 1.0}


def test_duplicate_pair_is_refused():
    with pytest.raises(InvalidInputError, match="'d1' appears twice for query 'q1'"):
        Run.from_arrays(["q1", "q1"], ["d1", "d1"], [1.0, 2.0])


def test_nan_score_is_refused():
    with pytest.raises(InvalidInputError, match="NaN"):
        Run.from_dict({"q": {"d": float("nan")}})


def test_qrels_counts_relevant_by_level():
    qrels = Qrels.from_dict({"q1": {"a": 2, "b": 1, "c": 0}})
    assert qrels.num_relevant("q1") == 2
    assert qrels.num_relevant("q1", level=2) == 1
    assert qrels == {"q1": {"a": 2, "b": 1, "c": 0}}


@given(
    st.integers(1, 4).flatmap(
        lambda k: st.lists(
            st.tuples(
                st.lists(st.integers(-1, 6), min_size=k, max_size=k, unique=True),
                st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5]), min_size=k, max_size=k),
            ),
            min_size=1,
            max_size=5,
        )
    )
)
def test_from_topk_fast_path_equals_general_path(rows):
    doc_ids = np.array(["d0", "d1", "d10", "d2", "é", "中", "d3"], dtype=object)
    indices = np.array([r[0] for r in rows])
    scores = np.array([r[1] for r in rows])
    query_ids = [f"q{i}" for i in range(len(rows))]
    fast = Run.from_topk(query_ids, indices, scores, doc_ids)
    valid = indices >= 0
    general = Run.from_arrays(
        np.repeat(np.array(query_ids, dtype=object), valid.sum(axis=1)),
        doc_ids[indices[valid]],
        scores[valid],
    )
    assert fast.to_dict() == general.to_dict()
    assert [list(fast[q]) for q in fast] == [list(general[q]) for q in general]
