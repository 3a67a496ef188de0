"""Bi-encoder training on a tiny model: the saved folder is a plain sentence-transformers
model that polyret loads, with its provenance; losses, prefixes, dev evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from polyret.errors import InvalidInputError, OutputExistsError
from polyret.train import BiEncoderConfig, train_bi_encoder
from polyret.train.common import training_set_hash

FAST = {"max_steps": 3, "batch_size": 8, "logging_steps": 1, "learning_rate": 1e-3}


@pytest.fixture(scope="module")
def trained(tiny_model, crops, tmp_path_factory):
    out = tmp_path_factory.mktemp("bi") / "model"
    config = BiEncoderConfig(**FAST, query_prefix="query: ", passage_prefix="passage: ")
    return train_bi_encoder(crops, tiny_model, out, config)


def test_saved_folder_loads_in_sentence_transformers_and_polyret(trained, crops):
    from sentence_transformers import SentenceTransformer

    from polyret.encode import load_encoder
    from polyret.retrieve import Dense
    from polyret.types import Corpus, Queries

    model = SentenceTransformer(str(trained), device="cpu")
    assert model.prompts["query"] == "query: " and model.max_seq_length == 64
    plain = model.encode(["query: Berlin"], normalize_embeddings=True)
    # polyret's default for a folder is its int8 ONNX path; float32 must match exactly
    fast = load_encoder(trained)
    assert fast.quantize  # type: ignore[attr-defined]
    exact = load_encoder(trained, quantize=False)
    np.testing.assert_allclose(exact.encode_queries(["Berlin"]), plain, atol=1e-5)
    assert float(fast.encode_queries(["Berlin"])[0] @ plain[0]) > 0.98
    corpus = Corpus.from_dict(
        dict(zip(crops.column("positive_id")[:5], crops.column("positive")[:5], strict=True))
    )
    run = (
        Dense(str(trained))
        .index(corpus)
        .search(Queries.from_dict({"q": crops.column("query")[0]}), k=3)
    )
    assert len(run["q"]) == 3


def test_provenance_records_data_base_config_and_versions(trained, crops, tiny_model):
    provenance = json.loads((trained / "provenance.json").read_text())
    assert provenance["kind"] == "bi-encoder"
    assert provenance["training_set"]["hash"] == training_set_hash(crops)
    assert provenance["training_set"]["provenance"] == {"method": "test-crops"}
    assert provenance["base"]["model"] == str(tiny_model)
    assert BiEncoderConfig.model_validate(provenance["config"]).max_steps == 3
    assert {"sentence-transformers", "transformers", "torch"} <= set(provenance["versions"])
    assert provenance["training"]["global_step"] == 3
    assert provenance["training"]["frozen"] == ["0.model.embeddings.word_embeddings.weight"]
    assert not (trained / "checkpoints").exists()
    assert json.loads((trained / "polyret.json").read_text())["type"] == "model"


def test_frozen_word_embeddings_do_not_move(trained, tiny_model):
    from safetensors.torch import load_file

    name = "embeddings.word_embeddings.weight"
    before, after = (
        load_file(str(tiny_model / "model.safetensors")),
        load_file(str(trained / "model.safetensors")),
    )
    assert (before[name] == after[name]).all()
    layer = "encoder.layer.0.attention.self.query.weight"
    assert not (before[layer] == after[layer]).all()


@pytest.mark.parametrize(
    "options",
    [
        {"loss": "cached-infonce", "mini_batch_size": 4, "symmetric": True},
        {"matryoshka_dims": (32, 16), "same_language_batches": False, "num_negatives": 0},
        {"group_by": r"^([a-z]+_a\d+)_", "temperature": 0.01, "freeze_word_embeddings": False},
    ],
)
def test_loss_variants_train(options, crops, tiny_model, tmp_path):
    config = BiEncoderConfig(**{**FAST, "max_steps": 2}, **options)
    out = train_bi_encoder(crops, tiny_model, tmp_path / "m", config)
    provenance = json.loads((out / "provenance.json").read_text())
    assert np.isfinite(provenance["training"]["train_loss"])


def test_dev_evaluation_and_early_stopping(crops, toy_dev, tiny_model, tmp_path):
    config = BiEncoderConfig(
        **{**FAST, "max_steps": 6}, eval_steps=2, early_stopping_patience=5, save_total_limit=1
    )
    out = train_bi_encoder(crops, tiny_model, tmp_path / "m", config, dev=toy_dev)
    history = json.loads((out / "provenance.json").read_text())["training"]["dev_history"]
    assert [h["step"] for h in history] == [2.0, 4.0, 6.0]
    assert {"ndcg@10", "ndcg@10_de", "ndcg@10_en"} <= set(history[0])
    assert all(0.0 <= h["ndcg@10"] <= 1.0 for h in history)


def test_existing_output_and_bad_input(trained, crops, tiny_model):
    from polyret.types import TrainingSet

    with pytest.raises(OutputExistsError):
        train_bi_encoder(crops, tiny_model, trained, BiEncoderConfig(**FAST))
    with pytest.raises(InvalidInputError, match="empty"):
        train_bi_encoder(TrainingSet.empty(), tiny_model, trained.parent / "x")
    with pytest.raises(InvalidInputError, match="negatives"):
        train_bi_encoder(crops, tiny_model, trained.parent / "y", BiEncoderConfig(num_negatives=3))


def test_config_is_frozen_and_validated():
    config = BiEncoderConfig()
    with pytest.raises(ValueError):
        config.batch_size = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="eval_steps"):
        BiEncoderConfig(early_stopping_patience=2)
    assert BiEncoderConfig(matryoshka_dims=(64, 384, 128)).matryoshka_dims == (384, 128, 64)


@pytest.mark.slow
def test_multilingual_e5_trains_with_frozen_embeddings(e5_folder, crops, tmp_path):
    """The exported multilingual-e5-small: E5 prompts used in training and kept, word
    embeddings frozen, the folder loads in polyret."""
    from safetensors import safe_open

    from polyret.encode import load_encoder

    config = BiEncoderConfig(max_steps=2, batch_size=4, max_seq_length=32)
    out = train_bi_encoder(crops.take(range(8)), e5_folder, tmp_path / "e5", config)
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["prefixes"] == {"query": "query: ", "passage": "passage: "}
    name = "embeddings.word_embeddings.weight"
    with (
        safe_open(str(e5_folder / "model.safetensors"), "pt") as a,
        safe_open(str(out / "model.safetensors"), "pt") as b,
    ):
        assert (a.get_tensor(name) == b.get_tensor(name)).all()
    encoder = load_encoder(out)
    assert encoder.query_prefix == "query: " and encoder.encode_queries(["Rhein"]).shape == (1, 384)
