"""Checkpoint merging: averages and SLERP written as their formulas."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from polyret.errors import InvalidInputError
from polyret.train import merge_checkpoints, merge_state_dicts, slerp


@pytest.fixture(scope="module")
def perturbed(tiny_model, tmp_path_factory):
    """The tiny model with every float weight moved by seeded noise."""
    out = tmp_path_factory.mktemp("merge") / "perturbed"
    shutil.copytree(tiny_model, out)
    state = load_file(str(out / "model.safetensors"))
    generator = torch.Generator().manual_seed(1)
    moved = {
        k: v + 0.01 * torch.randn(v.shape, generator=generator) if v.is_floating_point() else v
        for k, v in state.items()
    }
    save_file(moved, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def weights(folder):
    return load_file(str(folder / "model.safetensors"))


def test_average_of_identical_checkpoints_is_the_checkpoint(tiny_model, tmp_path):
    out = merge_checkpoints([tiny_model, tiny_model], tmp_path / "soup")
    original, merged = weights(tiny_model), weights(out)
    assert original.keys() == merged.keys()
    assert all(torch.equal(original[k], merged[k]) for k in original)


def test_weighted_average_is_the_formula(tiny_model, perturbed, tmp_path):
    out = merge_checkpoints([tiny_model, perturbed], tmp_path / "soup", weights=[3, 1])
    a, b, merged = weights(tiny_model), weights(perturbed), weights(out)
    for key in a:
        if a[key].is_floating_point():
            expected = (0.75 * a[key].double() + 0.25 * b[key].double()).float()
            torch.testing.assert_close(merged[key], expected, rtol=0, atol=1e-7)


def test_slerp_endpoints_are_the_models(tiny_model, perturbed, tmp_path):
    first = merge_checkpoints([tiny_model, perturbed], tmp_path / "a", [1, 0], "slerp")
    second = merge_checkpoints([tiny_model, perturbed], tmp_path / "b", [0, 1], "slerp")
    a, b = weights(tiny_model), weights(perturbed)
    assert all(torch.equal(weights(first)[k], a[k]) for k in a)
    assert all(torch.equal(weights(second)[k], b[k]) for k in b)


def test_slerp_is_the_great_circle():
    a, b = (
        torch.tensor([2.0, 0.0], dtype=torch.float64),
        torch.tensor([0.0, 2.0], dtype=torch.float64),
    )
    # halfway along a quarter circle of radius 2: angle π/4
    torch.testing.assert_close(
        slerp(a, b, 0.5), torch.tensor([2**0.5, 2**0.5], dtype=torch.float64)
    )
    third = slerp(a, b, 1 / 3)  # a third of the angle π/2
    torch.testing.assert_close(third, 2 * torch.tensor([0.5 * 3**0.5, 0.5], dtype=torch.float64))
    torch.testing.assert_close(slerp(a, a, 0.3), a)  # parallel: the line


def test_three_way_slerp_merges_pairwise():
    a, b, c = (torch.tensor(v, dtype=torch.float32) for v in ([1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]))
    merged = merge_state_dicts([{"w": a}, {"w": b}, {"w": c}], [1, 1, 1], "slerp")["w"]
    ab = slerp(a.double(), b.double(), 0.5)
    torch.testing.assert_close(merged, slerp(ab, c.double(), 1 / 3).float())


def test_merged_folder_loads_and_records_its_sources(tiny_model, perturbed, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = merge_checkpoints([tiny_model, perturbed], tmp_path / "soup")
    assert SentenceTransformer(str(out), device="cpu").encode(["ein Satz"]).shape == (1, 32)
    import json

    provenance = json.loads((out / "provenance.json").read_text())
    assert [s["weight"] for s in provenance["sources"]] == [0.5, 0.5]


def test_bad_inputs(tiny_model, tmp_path):
    with pytest.raises(InvalidInputError, match="at least 2"):
        merge_checkpoints([tiny_model], tmp_path / "x", method="slerp")
    with pytest.raises(InvalidInputError, match="weights"):
        merge_checkpoints([tiny_model, tiny_model], tmp_path / "x", weights=[1, -1])
    with pytest.raises(InvalidInputError, match="shapes"):
        merge_state_dicts([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}], [1, 1])


def test_cli_merge(tiny_model, perturbed, tmp_path):
    from polyret.cli import app

    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app, ["merge", str(tiny_model), str(perturbed), "--out", str(out), "--method", "slerp"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").is_file() and "slerp" in result.output
