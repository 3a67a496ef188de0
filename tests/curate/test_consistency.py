"""Round-trip consistency: the kept rows are exactly those whose positive BM25 ranks in top-k."""

from __future__ import annotations

import numpy as np
import pytest

from polyret.curate import apply_filters, load_filter
from polyret.curate.consistency import ConsistencyFilter, keep_rate_by_lang
from polyret.curate.filtering import Verdict
from polyret.curate.self_supervised import IndependentCrop, InverseCloze
from polyret.errors import InvalidInputError
from polyret.retrieve import BM25
from polyret.types import Queries, Run, TrainingSet


@pytest.fixture(scope="module")
def bm25(xquad_r) -> BM25:
    return BM25().index(xquad_r.corpus)


@pytest.fixture(scope="module")
def crops(xquad_r) -> TrainingSet:
    """A crop of every document as the query, the document as the positive."""
    return IndependentCrop(seed=0, positive="document").generate(xquad_r.corpus)


def _expected(examples: TrainingSet, run: Run, k: int, exclude_source: bool = True) -> list[bool]:
    keep = []
    for example in examples:
        ranking = list(run[example.id]) if example.id in run else []
        if exclude_source and example.source_id != example.positive_id:
            ranking = [d for d in ranking if d != example.source_id]
        keep.append(example.positive_id in ranking[:k])
    return keep


@pytest.mark.parametrize("k", [10, 100])
def test_keeps_exactly_the_rows_whose_positive_bm25_ranks_in_top_k(crops, bm25, k):
    verdict = ConsistencyFilter(bm25, k=k).judge(crops)
    run = bm25.search(crops.queries(), k=k)
    assert verdict.keep.tolist() == _expected(crops, run, k)
    assert {r for r in verdict.reasons if r} == {f"positive not in top-{k}"}
    assert 0.5 < verdict.keep.mean() < 1.0


def test_ict_neighbours_do_not_compete_with_their_own_sentence(xquad_r, bm25):
    examples = InverseCloze(seed=0, group_by=r"^(.*)_s\d+$").generate(
        xquad_r.corpus.filter(lang=["de", "th"])
    )
    flt = ConsistencyFilter(bm25, k=10)
    run = bm25.search(examples.queries(), k=11)
    # the query sentence is a corpus document: it ranks first for its own text
    firsts = [next(iter(run[e.id])) == e.source_id for e in examples if e.id in run]
    assert np.mean(firsts) > 0.95
    assert flt.judge(examples).keep.tolist() == _expected(examples, run, 10)
    plain = ConsistencyFilter(bm25, k=10, exclude_source=False).judge(examples)
    assert plain.keep.tolist() == _expected(examples, run, 10, exclude_source=False)
    assert plain.keep.sum() <= flt.judge(examples).keep.sum()
    ranks = flt.ranks(examples)
    assert all(r is None or 1 <= r <= 10 for r in ranks)


def test_retriever_index_and_corpus_agree(xquad_r, crops, bm25, tmp_path):
    rows = crops.take(range(0, len(crops), 7))
    bm25.save(tmp_path / "index")
    verdicts = [
        ConsistencyFilter(bm25, k=5).judge(rows),
        ConsistencyFilter(index=tmp_path / "index", k=5).judge(rows),
        load_filter("consistency", corpus=xquad_r.corpus, k=5).judge(rows),
    ]
    assert all(v.keep.tolist() == verdicts[0].keep.tolist() for v in verdicts)
    with pytest.raises(InvalidInputError, match="exactly one"):
        ConsistencyFilter()
    with pytest.raises(InvalidInputError, match="exactly one"):
        ConsistencyFilter(bm25, corpus=xquad_r.corpus)
    with pytest.raises(InvalidInputError, match="k must be"):
        ConsistencyFilter(bm25, k=0)


class _Fixed:
    """A test double for the retriever protocol: a fixed plain dict-of-dicts run."""

    def __init__(self, run: dict[str, dict[str, float]]) -> None:
        self.run = run
        self.calls: list[tuple[list[str], int]] = []

    def search(self, queries: Queries, k: int = 1000) -> dict[str, dict[str, float]]:
        self.calls.append((queries.ids, k))
        return self.run


def test_rows_without_positive_id_and_plain_dict_runs():
    rows = TrainingSet.from_records(
        [
            {"id": "a", "query": "q a", "lang": "de", "positive_id": "d1", "positive": "x"},
            {"id": "b", "query": "q b", "lang": "de", "positive_id": "d3", "positive": "x"},
            {"id": "c", "query": "q c", "lang": "zh", "positive": "a crop, no document"},
            {"id": "d", "query": "q d", "lang": "zh", "positive_id": "d9", "positive": "x"},
        ]
    )
    # unordered dicts: d1 is ranked 2nd for "a"; d3 is 3rd for "b"
    retriever = _Fixed({"a": {"d1": 1.0, "d2": 3.0}, "b": {"d3": 0.5, "d1": 2.0, "d2": 1.0}})
    keep = ConsistencyFilter(retriever, k=2, exclude_source=False)
    assert keep.judge(rows).reasons == ["", "positive not in top-2", "", "positive not in top-2"]
    assert retriever.calls == [(["a", "b", "d"], 2)]  # the row without a document is not searched
    drop = ConsistencyFilter(retriever, k=3, missing="drop", exclude_source=False)
    assert drop.judge(rows).reasons == ["", "", "no positive document", "positive not in top-3"]
    assert drop.ranks(rows) == [2, 3, 0, None]


def test_keep_rate_per_language_and_funnel(crops, bm25):
    flt = ConsistencyFilter(bm25, k=10)
    verdict = flt.judge(crops)
    rates = keep_rate_by_lang(crops, verdict)
    langs = np.array(crops.column("lang"))
    assert rates == {
        lang: float(verdict.keep[langs == lang].sum() / (langs == lang).sum())
        for lang in sorted(set(langs))
    }
    assert keep_rate_by_lang(
        crops, Verdict(np.ones(len(crops), bool), [""] * len(crops))
    ) == dict.fromkeys(rates, 1.0)
    out = apply_filters(crops, [flt])
    step = out.funnel[-1]
    assert step["kept"] == len(out) == verdict.keep.sum()
    assert step["config"]["k"] == 10 and step["config"]["retriever"].startswith("BM25(")
