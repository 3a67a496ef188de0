"""polyret's batched scoring gives bm25s's scores, on real data."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from polyret.retrieve import BM25
from polyret.text import analyze_corpus


@pytest.mark.parametrize("variant", ["lucene", "robertson", "bm25+"])
def test_scores_equal_bm25s(xquad_r, variant):
    corpus = xquad_r.corpus
    queries, _ = xquad_r.split("dev")
    ours = BM25(variant=variant).index(corpus)
    run = ours.search(queries, k=20)

    doc_tokens = analyze_corpus(corpus.full_texts(), corpus.langs)
    query_tokens = analyze_corpus(queries.texts, queries.langs)
    reference = bm25s.BM25(k1=0.9, b=0.4, method=variant)
    reference.index(doc_tokens, show_progress=False)
    doc_row = {d: i for i, d in enumerate(corpus.ids)}
    checked = 0
    for query_id, tokens in zip(queries.ids, query_tokens, strict=True):
        if query_id not in run:
            continue
        expected = reference.get_scores(tokens)
        doc_ids, scores = run.scores(query_id)
        np.testing.assert_allclose(scores, expected[[doc_row[d] for d in doc_ids]], rtol=1e-5)
        # and nothing outside the run scores higher than its last document
        assert np.sort(expected)[-len(doc_ids)] <= scores[-1] + 1e-5
        checked += 1
    assert checked > 0.9 * len(queries)
