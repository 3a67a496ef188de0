"""Choosing a backend: config validation and overrides (no cluster needed)."""

from __future__ import annotations

import pytest

from polyret.distributed import Backend, backend_from
from polyret.errors import InvalidInputError
from polyret.pipeline.keys import stage_keys
from polyret.pipeline.loading import ConfigError, load_config

BASE = """
name: b
{backend}
stages:
  - {{name: data, type: dataset, params: {{source: xquad-r}}}}
  - {{name: bm25-index, type: index-bm25}}
"""


def _config(tmp_path, backend: str):
    path = tmp_path / "pipeline.yaml"
    path.write_text(BASE.format(backend=backend), encoding="utf-8")
    return load_config(path)


def test_config_backend_is_validated_and_not_in_keys(tmp_path):
    local = _config(tmp_path, "")
    ray = _config(tmp_path, "backend: {name: ray, address: auto, workers: 4}")
    assert (local.backend.name, ray.backend.name, ray.backend.workers) == ("local", "ray", 4)
    assert stage_keys(local) == stage_keys(ray)
    with pytest.raises(ConfigError, match=r"backend\.name"):
        _config(tmp_path, "backend: {name: spark}")
    with pytest.raises(ConfigError, match=r"backend\.worker"):
        _config(tmp_path, "backend: {name: ray, worker: 2}")


def test_overrides_keep_the_other_fields():
    base = {"name": "local", "address": "auto", "workers": 3}
    chosen = backend_from(base, name="ray", address=None)
    assert chosen == Backend("ray", address="auto", workers=3)
    with pytest.raises(InvalidInputError, match="unknown backend"):
        backend_from("spark")
    with pytest.raises(InvalidInputError, match="unknown backend option"):
        backend_from({"name": "ray", "adress": "auto"})


def test_exported_functions_are_not_shadowed_by_submodules():
    """``polyret.distributed.generate`` stays the function once every submodule is imported."""
    import importlib
    import pkgutil

    import polyret.distributed as distributed

    pytest.importorskip("ray")
    for module in pkgutil.iter_modules(distributed.__path__):
        importlib.import_module(f"polyret.distributed.{module.name}")
    functions = [name for name in distributed.__all__ if name != "LOCAL"]
    assert all(callable(getattr(distributed, name)) for name in functions)
