"""Late-interaction head training over a frozen encoder (tiny real BERT, real crops)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from polyret.encode.fast import model_folder_fingerprint
from polyret.encode.tokens import PROJECTION_FILE, TokenEncoder
from polyret.errors import InvalidInputError
from polyret.train import HeadsConfig, train_heads
from polyret.types import TrainingSet

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def trained(tiny_model: Path, crops: TrainingSet, tmp_path_factory) -> Path:
    before = model_folder_fingerprint(tiny_model)
    out = tmp_path_factory.mktemp("heads") / "model"
    config = HeadsConfig(
        max_steps=30, batch_size=8, layers=[-1], dim=16, learning_rate=1e-2, logging_steps=5
    )
    train_heads(crops, tiny_model, out, config)
    assert model_folder_fingerprint(tiny_model) == before  # the base folder is untouched
    return out


def test_folder_is_the_encoder_with_its_head(trained: Path, tiny_model: Path, crops):
    state = torch.load(trained / PROJECTION_FILE, weights_only=True)
    assert tuple(state["weight"].shape) == (16, 32) and "bias" not in state
    provenance = json.loads((trained / "provenance.json").read_text())
    assert provenance["heads"] == ["colbert"] and provenance["training"]["steps"] == 30
    assert provenance["training_set"]["rows"] == len(crops)
    encoder = TokenEncoder(trained, layers=[-1])  # the head is found in the folder
    assert encoder.dim == 16 and encoder.projection is not None
    zero_shot = TokenEncoder(tiny_model, layers=[-1])
    assert zero_shot.projection is None and zero_shot.fingerprint != encoder.fingerprint


def test_head_learns(trained: Path, crops):
    """The InfoNCE loss over the batches' positives and negatives goes down."""
    training = json.loads((trained / "provenance.json").read_text())["training"]
    assert training["last_losses"] < 0.8 * training["first_loss"], training


def test_bad_rows_and_the_command(tiny_model: Path, crops, tmp_path: Path):
    empty = TrainingSet.from_records([])
    with pytest.raises(InvalidInputError, match="empty"):
        train_heads(empty, tiny_model, tmp_path / "x")
    import polyret.cli.train_cmd  # noqa: F401
    from polyret.cli.app import app

    crops.save(tmp_path / "rows")
    result = CliRunner().invoke(
        app,
        ["train", "heads", "--data", str(tmp_path / "rows"), "--base", str(tiny_model),
         "--out", str(tmp_path / "cli"), "--steps", "3", "--batch-size", "4", "--layers", "-1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / PROJECTION_FILE).is_file()
