"""Cross-encoder training from a bi-encoder folder (fresh head): listwise and BCE losses,
soft labels, dev reranking, and the result loads in polyret's CrossEncoderReranker."""

from __future__ import annotations

import json
import math

import pytest

from polyret.errors import InvalidInputError
from polyret.train import CrossEncoderConfig, cross_encoder_table, train_cross_encoder

FAST = {"max_steps": 2, "batch_size": 8, "logging_steps": 1, "learning_rate": 1e-3}


@pytest.fixture(scope="module")
def listwise(crops, toy_dev, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("ce") / "listwise"
    config = CrossEncoderConfig(**FAST, eval_steps=2, dev_rerank_k=5, max_seq_length=64)
    return train_cross_encoder(crops, tiny_model, out, config, dev=toy_dev)


def test_trained_cross_encoder_reranks_in_polyret(listwise, toy_dev):
    from sentence_transformers.cross_encoder import CrossEncoder

    from polyret.rerank import CrossEncoderReranker
    from polyret.retrieve import BM25

    queries, _ = toy_dev.split("dev")
    first = BM25().index(toy_dev.corpus).search(queries, k=5)
    reranked = CrossEncoderReranker(listwise).rerank(queries, first, toy_dev.corpus, k=5)
    assert {q: set(first[q]) for q in first} == {q: set(reranked[q]) for q in reranked}
    plain = CrossEncoder(str(listwise), device="cpu")
    assert plain.num_labels == 1 and plain.max_seq_length == 64


def test_provenance_and_dev_history(listwise):
    provenance = json.loads((listwise / "provenance.json").read_text())
    assert provenance["kind"] == "cross-encoder"
    assert CrossEncoderConfig.model_validate(provenance["config"]).loss == "listwise"
    history = provenance["training"]["dev_history"]
    assert [h["step"] for h in history] == [2.0]
    assert {"ndcg@10_de", "ndcg@10_en"} <= set(history[0])


def test_bce_with_soft_labels_trains(crops, tiny_model, tmp_path):
    config = CrossEncoderConfig(**FAST, loss="bce", positive_label=0.9)
    out = train_cross_encoder(crops, tiny_model, tmp_path / "bce", config)
    loss = json.loads((out / "provenance.json").read_text())["training"]["train_loss"]
    assert math.isfinite(loss)


def test_bce_table_soft_and_teacher_labels(crops):
    table = cross_encoder_table(crops, CrossEncoderConfig(loss="bce", positive_label=0.9))
    assert table.num_rows == 2 * len(crops)
    assert table.column("label").to_pylist()[:2] == [pytest.approx(0.9), 0.0]
    scored = crops.with_columns(
        positive_score=[2.0] * len(crops), negative_scores=[[-1.0]] * len(crops)
    )
    config = CrossEncoderConfig(loss="bce", teacher_labels=True)
    labels = cross_encoder_table(scored, config).column("label").to_pylist()[:2]
    assert labels == [
        pytest.approx(0.9 / (1 + math.exp(-2.0))),
        pytest.approx(0.9 / (1 + math.exp(1.0))),
    ]
    with pytest.raises(InvalidInputError, match="teacher scores"):
        cross_encoder_table(crops, config)


def test_needs_negatives(crops, tiny_model, tmp_path):
    bare = crops.with_columns(negative_ids=[[]] * len(crops), negatives=[[]] * len(crops))
    with pytest.raises(InvalidInputError, match="negatives"):
        train_cross_encoder(bare, tiny_model, tmp_path / "x")
