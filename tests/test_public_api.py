"""Every package exports a sorted ``__all__`` whose names resolve; ``polyret.load`` dispatches."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import polyret
from polyret.errors import InvalidInputError
from polyret.io import write_beir
from polyret.retrieve import BM25, Dense

PACKAGES = ["polyret." + name for name in polyret.__all__ if name not in ("__version__", "load")]
PACKAGES = [p for p in PACKAGES if p not in ("polyret.errors", "polyret.registry")]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolves(name):
    module = importlib.import_module(name)
    names = list(module.__all__)
    constants = [n for n in names if n.isupper()]
    rest = sorted(set(names) - set(constants), key=lambda n: (n[0].islower(), n))
    assert names == constants + rest
    assert all(hasattr(module, n) for n in names)


def test_import_polyret_is_cheap():
    heavy = "('torch', 'faiss', 'bm25s', 'onnxruntime')"
    code = f"import sys, polyret; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_load_dispatches_on_the_saved_type(tmp_path, xquad_r):
    small = xquad_r.corpus.filter(lang="de")
    BM25().index(small).save(tmp_path / "bm25")
    Dense("hashing", dim=16).index(small).save(tmp_path / "dense")
    write_beir(xquad_r, tmp_path / "data")
    assert isinstance(polyret.load(tmp_path / "bm25"), BM25)
    assert isinstance(polyret.load(tmp_path / "dense"), Dense)
    assert polyret.load(tmp_path / "data").corpus == xquad_r.corpus
    with pytest.raises(InvalidInputError, match="not a polyret folder"):
        polyret.load(tmp_path)


def test_exports_are_not_shadowed_by_submodules():
    """Importing ``pkg.x`` sets the attribute ``pkg.x`` to the module: an exported function
    or registry named like a submodule would silently become that module."""
    import pkgutil
    import types

    for name in PACKAGES:
        package = importlib.import_module(name)
        for sub in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=f"{name}."):
            try:
                importlib.import_module(sub.name)
            except ImportError:  # an optional extra that is not installed
                continue
        shadowed = [n for n in package.__all__ if isinstance(getattr(package, n), types.ModuleType)]
        assert not shadowed, f"{name}: {shadowed}"
