"""BGE-M3's multi-head training (colbert + sparse, self-knowledge distillation) over a frozen
encoder: a tiny real BERT, real label-free crops of the embedded collection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from polyret.encode.sparse import SparseEncoder
from polyret.errors import InvalidInputError
from polyret.models.m3 import COLBERT_FILE, SPARSE_FILE
from polyret.rerank.late_interaction import LateInteractionReranker
from polyret.retrieve.sparse import LearnedSparse
from polyret.train import HeadsConfig, M3Config, train_heads
from polyret.train.heads import SparseHead
from polyret.types import Corpus, Queries, Run

torch = pytest.importorskip("torch")

CONFIG = M3Config(max_steps=20, batch_size=8, layers=[-1], learning_rate=1e-2, logging_steps=5)


@pytest.fixture(scope="module")
def m3(tiny_model: Path, crops, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("m3") / "model"
    return train_heads(crops, tiny_model, out, CONFIG)


def test_folder_has_both_heads_in_m3_format(m3: Path, crops):
    colbert = torch.load(m3 / COLBERT_FILE, weights_only=True)
    sparse = torch.load(m3 / SPARSE_FILE, weights_only=True)
    assert tuple(colbert["weight"].shape) == (32, 32)
    assert tuple(sparse["weight"].shape) == (1, 32) and tuple(sparse["bias"].shape) == (1,)
    provenance = json.loads((m3 / "provenance.json").read_text())
    assert provenance["heads"] == ["colbert", "sparse"]
    assert provenance["config_class"] == "M3Config" and provenance["config"]["distill"] == 1.0


def test_sparse_index_and_reranker_load_the_folder(m3: Path, crops):
    texts = dict(zip(crops.column("positive_id"), crops.column("positive"), strict=True))
    corpus = Corpus.from_dict(texts)
    queries = Queries.from_dict(dict(zip(crops.column("id"), crops.column("query"), strict=True)))
    run = LearnedSparse(encoder=str(m3)).index(corpus).search(queries, k=5)
    assert len(run) > 0.9 * len(queries)  # a fresh ReLU head may give a query no weight
    reranker = LateInteractionReranker(m3, layers=[-1])
    assert reranker.encoder.projection is not None
    first = Run.from_dict({q: {d: 1.0 for d in run[q]} for q in list(run)[:3]})
    reranked = reranker.rerank(queries, first, corpus, k=5)
    assert set(reranked) == set(first)


def test_training_scores_are_the_inference_scores(m3: Path, crops):
    """The sparse score the trainer optimizes is what SparseEncoder + the product give on the
    written folder (a train/inference mismatch — layer, masking, prefix — would show)."""
    queries, docs = crops.column("query")[:4], crops.column("positive")[:4]
    head = SparseHead(torch, m3, CONFIG, queries, docs)
    head.module.load_state_dict(torch.load(m3 / SPARSE_FILE, weights_only=True))
    with torch.no_grad():
        trained = head.scores(range(4), range(4)).numpy()
    encoder = SparseEncoder(m3)
    inferred = (encoder.encode_queries(queries) @ encoder.encode_documents(docs).T).toarray()
    assert np.abs(inferred).max() > 0
    np.testing.assert_allclose(trained, inferred, rtol=1e-4, atol=1e-5)


def test_loss_goes_down_on_a_fixed_batch(tiny_model: Path, crops, tmp_path: Path):
    """One batch holding every row, so each step sees the same rows."""
    rows = crops.take(range(8))
    config = CONFIG.model_copy(update={"max_steps": 25, "batch_size": 8})
    out = train_heads(rows, tiny_model, tmp_path / "fixed", config)
    training = json.loads((out / "provenance.json").read_text())["training"]
    assert training["last_losses"] < 0.5 * training["first_loss"], training


def test_sparse_alone_keeps_the_base_colbert_head(m3: Path, crops, tmp_path: Path):
    config = HeadsConfig(heads=["sparse"], max_steps=2, batch_size=4)
    out = train_heads(crops, m3, tmp_path / "sparse", config)
    kept = torch.load(out / COLBERT_FILE, weights_only=True)["weight"]
    assert torch.equal(kept, torch.load(m3 / COLBERT_FILE, weights_only=True)["weight"])
    assert not torch.equal(
        torch.load(out / SPARSE_FILE, weights_only=True)["weight"],
        torch.load(m3 / SPARSE_FILE, weights_only=True)["weight"],
    )


def test_unknown_or_repeated_head_names_the_field():
    with pytest.raises(InvalidInputError) as error:
        HeadsConfig(heads=["colbert", "splade"])
    assert error.value.field == "heads.1"
    with pytest.raises(InvalidInputError, match="twice") as error:
        HeadsConfig(heads=["sparse", "sparse"])
    assert error.value.field == "heads"


def test_train_m3_command(tiny_model: Path, crops, tmp_path: Path):
    import polyret.cli.train_cmd  # noqa: F401
    from polyret.cli.app import app

    crops.save(tmp_path / "rows")
    result = CliRunner().invoke(
        app,
        ["train", "m3", "--data", str(tmp_path / "rows"), "--base", str(tiny_model),
         "--out", str(tmp_path / "cli"), "--steps", "3", "--batch-size", "4", "--layers", "-1",
         "--sparse-weight", "0.5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    provenance = json.loads((tmp_path / "cli" / "provenance.json").read_text())
    assert provenance["heads"] == ["colbert", "sparse"]
    assert provenance["config"]["sparse_weight"] == 0.5
    assert (tmp_path / "cli" / SPARSE_FILE).is_file()
    result = CliRunner().invoke(
        app,
        ["train", "heads", "--data", str(tmp_path / "rows"), "--base", str(tiny_model),
         "--out", str(tmp_path / "bad"), "--heads", "colbert,dense"],
    )  # fmt: skip
    assert isinstance(result.exception, InvalidInputError)
    assert "--heads" in str(result.exception) and "'sparse'" in str(result.exception)
