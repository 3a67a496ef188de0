"""``polyret train`` commands wrap the library calls; configs come from JSON + options."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from polyret.cli import app
from polyret.cli.train_cmd import build_config
from polyret.errors import InvalidInputError
from polyret.train import BiEncoderConfig, CrossEncoderConfig
from tests.train.conftest import crops, tiny_model  # noqa: F401  (session fixtures)


def test_train_bi_encoder_command(crops, tiny_model, tmp_path):  # noqa: F811
    data = crops.save(tmp_path / "data")
    (tmp_path / "config.json").write_text(json.dumps({"batch_size": 8, "logging_steps": 1}))
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "bi-encoder",
            "--data",
            str(data),
            "--base",
            str(tiny_model),
            "--out",
            str(out),
            "--config",
            str(tmp_path / "config.json"),
            "--steps",
            "2",
            "--lr",
            "1e-3",
            "--matryoshka",
            "32,16",
            "--mix-languages",
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "provenance.json").read_text())["config"]
    assert (config["batch_size"], config["max_steps"], config["matryoshka_dims"]) == (
        8,
        2,
        [32, 16],
    )
    assert config["same_language_batches"] is False and config["freeze_word_embeddings"] is None
    frozen = json.loads((out / "provenance.json").read_text())["training"]["frozen"]
    assert frozen == ["0.model.embeddings.word_embeddings.weight"]  # on CPU by default


def test_config_file_and_options(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"loss": "bce", "batch_size": 4}))
    config = build_config(CrossEncoderConfig, path, batch_size=None, learning_rate=1e-4)
    assert (config.loss, config.batch_size, config.learning_rate) == ("bce", 4, 1e-4)
    with pytest.raises(InvalidInputError, match="bad config"):
        build_config(BiEncoderConfig, None, temperature=-1)
    with pytest.raises(InvalidInputError, match="bad config"):
        build_config(BiEncoderConfig, None, no_such_field=1)


def test_train_help_lists_the_commands():
    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in ("bi-encoder", "cross-encoder", "distill"))
