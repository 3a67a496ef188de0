"""Positives-aware dedup: planted copies of positives and of other candidates never survive."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyret.mine import NgramSets, mine, normalize_for_dedup, text_codes
from polyret.types import Corpus, Run


def grams(text: str, n: int = 3) -> set[str]:
    if len(text) < n:
        return {text} if text else set()
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def jaccard(a: str, b: str) -> float:
    x, y = grams(normalize_for_dedup(a)), grams(normalize_for_dedup(b))
    return len(x & y) / len(x | y) if x | y else 0.0


@pytest.fixture(scope="module")
def planted(dev_pairs, bm25_run, xquad_r):
    """The corpus and BM25 run with, for 60 examples, four planted documents ranked on top:
    the positive re-spaced with punctuation (same normalized text), the positive with its
    last word dropped (a near duplicate), and two copies of the best non-positive."""
    records = [
        {"id": d.id, "text": d.text, "title": d.title, "lang": d.lang} for d in xquad_r.corpus
    ]
    q, d, s = (list(a) for a in bm25_run.to_arrays())
    for ex in list(dev_pairs)[:60]:
        if ex.id not in bm25_run or len(ex.positive.split()) < 12:
            continue
        top = next(doc for doc in bm25_run[ex.id] if doc != ex.positive_id)
        planted = {
            f"same-{ex.id}": "  " + ex.positive.replace(" ", "  ") + " !!",
            f"near-{ex.id}": ex.positive.rsplit(" ", 1)[0],
            f"twin1-{ex.id}": xquad_r.corpus[top].text,
            f"twin2-{ex.id}": xquad_r.corpus[top].text + ".",
        }
        best = max(bm25_run[ex.id].values())
        for rank, (doc_id, text) in enumerate(planted.items()):
            records.append({"id": doc_id, "text": text, "lang": ex.lang})
            q.append(ex.id)
            d.append(doc_id)
            s.append(best + 10 - rank)
    return Corpus.from_records(records), Run.from_arrays(q, d, s)


def test_planted_duplicates_never_become_negatives(dev_pairs, planted):
    corpus, run = planted
    mined = mine(dev_pairs, run, corpus, "top-k", num_negatives=6)
    touched = 0
    for ex in mined:
        ids = ex.negative_ids
        assert not any(i.startswith(("same-", "near-", "twin2-")) for i in ids)
        touched += any(i.startswith("twin1-") for i in ids)
        normalized = [normalize_for_dedup(t) for t in ex.negatives]
        assert len(set(normalized)) == len(normalized)  # no text twice
        assert normalize_for_dedup(ex.positive) not in normalized
        assert all(jaccard(t, ex.positive) < 0.8 for t in ex.negatives)
    assert touched > 20  # the first copy of a duplicated text stays
    removed = mined.funnel[-1]["removed"]
    assert removed["positive_text"] >= touched
    assert removed["near_duplicate"] >= touched
    assert removed["repeated_text"] >= 2 * touched  # twin2 and the original document


def test_dedup_off_keeps_them(dev_pairs, planted):
    corpus, run = planted
    mined = mine(dev_pairs, run, corpus, "top-k", num_negatives=6, dedup=False)
    assert any(i.startswith("same-") for ex in mined for i in ex.negative_ids)
    exact_only = mine(dev_pairs, run, corpus, "top-k", num_negatives=6, near_duplicate=None)
    assert any(i.startswith("near-") for ex in exact_only for i in ex.negative_ids)
    assert not any(i.startswith("same-") for ex in exact_only for i in ex.negative_ids)


def test_text_codes_group_normalized_equals():
    codes = text_codes(["Straße!", "STRASSE", " strasse ", "Strasse 2", "東京。", "東京"])
    assert codes[0] == codes[1] == codes[2] != codes[3]
    assert codes[4] == codes[5]


texts = st.text(alphabet="abcdeé東京 ", max_size=25)


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, min_size=1, max_size=25), st.sampled_from([0.0, 0.3, 0.8]), st.data())
def test_ngram_jaccard_matches_sets(sample, threshold, data):
    sets = NgramSets(sample)
    pairs = data.draw(
        st.lists(st.tuples(*[st.integers(0, len(sample) - 1)] * 2), min_size=1, max_size=40)
    )
    a, b = np.array(pairs).T
    got = sets.jaccard(a, b, at_least=threshold)
    for (i, j), value in zip(pairs, got, strict=True):
        x, y = grams(sample[i]), grams(sample[j])
        expected = len(x & y) / len(x | y) if x | y else 0.0
        if expected >= threshold:
            assert value == pytest.approx(expected)
        else:
            assert value < threshold
