"""Contract of every reranker: same pairs out, top-k reordered, tail kept below."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from polyret.errors import InvalidInputError, UnknownNameError
from polyret.rerank import (
    BiEncoderReranker,
    EnsembleReranker,
    Reranker,
    ScoreCache,
    assemble,
    decorrelation_prior,
    load_reranker,
    rerankers,
)
from polyret.types import Corpus, Queries, Run

CORPUS = Corpus.from_records(
    [
        {"id": f"d{i}", "title": "", "text": text, "lang": "en"}
        for i, text in enumerate(
            [
                "the river rhine flows north",
                "rivers",
                "cats sleep",
                "the rhine",
                "mountains of the alps",
                "river delta",
            ]
        )
    ]
)
QUERIES = Queries.from_dict({"q1": "river rhine", "q2": "alps"}, lang="en")
RUN = Run.from_dict(
    {
        "q1": {f"d{i}": 10.0 - i for i in range(6)},
        "q2": {"d4": 3.0, "d2": 2.0, "d0": 1.0},
    }
)


def test_tail_keeps_its_order_below_every_reranked_score():
    out = BiEncoderReranker("hashing", dim=64).rerank(QUERIES, RUN, CORPUS, k=3)
    for qid in RUN:
        ranked = list(out[qid])
        assert set(ranked) == set(RUN[qid])
        assert set(ranked[:3]) == set(list(RUN[qid])[:3])
        assert ranked[3:] == list(RUN[qid])[3:]
        scores = list(out[qid].values())
        assert all(s < min(scores[:3]) for s in scores[3:])


def test_assemble_scores_are_written_as_the_formula():
    out = assemble(RUN, {"q1": {"d0": 0.2, "d1": 0.7}, "q2": {"d4": 5.0, "d2": 6.0}}, k=2)
    assert out["q1"] == {
        "d1": 0.7,
        "d0": 0.2,
        "d2": 0.2 - 1,
        "d3": 0.2 - 2,
        "d4": 0.2 - 3,
        "d5": 0.2 - 4,
    }
    assert list(out["q2"]) == ["d2", "d4", "d0"] and out["q2"]["d0"] == 5.0 - 1


def test_score_cache_makes_the_second_run_free(tmp_path: Path):
    class Counting(BiEncoderReranker):
        calls = 0

        def score_pairs(self, query_texts, doc_texts):
            type(self).calls += len(query_texts)
            return super().score_pairs(query_texts, doc_texts)

    first = Counting("hashing", dim=64, cache=tmp_path / "s.sqlite").rerank(QUERIES, RUN, CORPUS)
    assert Counting.calls == 9
    second = Counting("hashing", dim=64, cache=ScoreCache(tmp_path / "s.sqlite"))
    assert second.rerank(QUERIES, RUN, CORPUS) == first and Counting.calls == 9
    Counting("hashing", dim=32, cache=tmp_path / "s.sqlite").rerank(QUERIES, RUN, CORPUS)
    assert Counting.calls == 18  # another model fingerprint is another key


def test_long_documents_are_windowed_not_truncated(fast_encoder):
    reranker = BiEncoderReranker(fast_encoder)
    long_text = " ".join(f"Satz {i} über den Rhein und die Alpen." for i in range(200))
    windows = reranker.windows(long_text)
    assert len(windows) > 1
    lengths = fast_encoder.token_lengths([fast_encoder.passage_prefix + w for w in windows])
    assert lengths.max() < fast_encoder.max_length  # every window fits
    assert windows[0].startswith("Satz 0 ") and windows[-1].endswith(
        "Satz 199 über den Rhein und die Alpen."
    )
    assert reranker.windows("kurz") == ["kurz"]
    # the end of a long document now counts: a query about its last sentence
    corpus = Corpus.from_dict(
        {
            "long": long_text + " Der Tokioter Fischmarkt öffnet um fünf.",
            "short": "Ein Text über Fischmärkte.",
        }
    )
    queries = Queries.from_dict({"q": "Wann öffnet der Fischmarkt in Tokio?"})
    scores = reranker.score_pairs([queries["q"].text] * 2, corpus.full_texts())
    assert reranker.windowed >= 1 and np.isfinite(scores).all()


def test_ensemble_weights_and_decorrelation():
    first = Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}})
    judge = Run.from_dict({"q": {"a": 0.0, "b": 1.0, "c": 0.5}})
    corpus = Corpus.from_dict({"a": "x", "b": "y", "c": "z"})
    queries = Queries.from_dict({"q": "x"})
    out = EnsembleReranker({"first": first, "judge": judge}, [0.25, 0.75]).rerank(
        queries, first, corpus, k=3
    )
    assert out["q"] == pytest.approx(
        {"b": 0.25 * 0.5 + 0.75, "c": 0.25 * 0 + 0.75 * 0.5, "a": 0.25 * 1 + 0}
    )
    fit = EnsembleReranker({"first": first, "copy": first, "judge": judge}).fit(
        queries, first, corpus, {"q": {"b": 1}}, k=3, step=0.5
    )
    assert fit.prior[0] == fit.prior[1] < fit.prior[2]  # the duplicated member shares its say
    assert fit.score == 1.0


def test_registry_and_bad_inputs():
    assert {"bi-encoder", "cross-encoder", "ensemble", "llm-listwise", "llm-pointwise"} <= set(
        rerankers.names()
    )
    assert isinstance(load_reranker("bi-encoder", "hashing"), Reranker)
    with pytest.raises(UnknownNameError, match="cross-encoder"):
        load_reranker("cross-encodr")
    reranker = BiEncoderReranker("hashing")
    with pytest.raises(InvalidInputError, match="not in the corpus"):
        reranker.rerank(QUERIES, Run.from_dict({"q1": {"zz": 1.0}}), CORPUS)
    with pytest.raises(InvalidInputError, match="not in the queries"):
        reranker.rerank(QUERIES, Run.from_dict({"q9": {"d0": 1.0}}), CORPUS)
    with pytest.raises(InvalidInputError, match="k must be positive"):
        reranker.rerank(QUERIES, RUN, CORPUS, k=0)
    assert decorrelation_prior(np.eye(1)).tolist() == [1.0]
