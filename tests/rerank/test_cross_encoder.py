"""The cross-encoder reranker on a real (untrained-head) model built from the packaged encoder.

No cross-encoder ships with trained weights, so the test checks the mechanics that do not
depend on training: truncation that keeps the query whole, a score for every candidate,
deterministic scores and the score cache. Quality claims wait for a trained model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from polyret.rerank import CrossEncoderReranker
from polyret.types import Corpus, Queries, Run


@pytest.fixture(scope="module")
def cross_encoder_folder(e5_folder: Path, tmp_path_factory) -> Path:
    from sentence_transformers import CrossEncoder

    folder = tmp_path_factory.mktemp("cross-encoder") / "model"
    CrossEncoder(str(e5_folder), num_labels=1, device="cpu").save(str(folder))
    return folder


def test_every_candidate_gets_a_score_and_long_documents_lose_only_their_end(
    cross_encoder_folder: Path, tmp_path: Path
):
    corpus = Corpus.from_records(
        [
            {"id": "long", "text": "Der Rhein fließt nach Norden. " * 60, "lang": "de"},
            {"id": "short", "text": "长江是中国最长的河流。", "lang": "zh"},
            {"id": "third", "text": "نهر النيل أطول نهر في أفريقيا.", "lang": "ar"},
        ]
    )
    queries = Queries.from_dict({"q": "Wohin fließt der Rhein?"}, lang="de")
    first_stage = Run.from_dict({"q": {"long": 3.0, "short": 2.0, "third": 1.0}})
    reranker = CrossEncoderReranker(cross_encoder_folder, max_length=64, cache=tmp_path / "s.db")

    query, document = reranker.truncate_pair(queries["q"].text, corpus["long"].text)
    assert query == queries["q"].text and corpus["long"].text.startswith(document)
    pair = reranker.tokenizer(query, document)["input_ids"]
    assert len(document) < len(corpus["long"].text) and len(pair) <= 64

    reranked = reranker.rerank(queries, first_stage, corpus, k=3)
    assert set(reranked["q"]) == {"long", "short", "third"}
    again = CrossEncoderReranker(cross_encoder_folder, max_length=64, cache=tmp_path / "s.db")
    again.model = None  # a cache hit must not touch the model
    assert again.rerank(queries, first_stage, corpus, k=3) == reranked
