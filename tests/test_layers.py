"""Layers only import downward: every import in src/polyret is checked against polyret.layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import polyret
from polyret.layers import LAYERS, layer_of

ROOT = Path(polyret.__file__).parent

# Upward imports still waiting for their owner's change (file, imported sub-package).
# Each entry names the helper whose area it is; empty since every arrow was turned around.
ALLOWED: set[tuple[str, str]] = set()


LISTED = {name for layer in LAYERS for name in layer}


def _listed(parts: list[str]) -> str:
    """The longest prefix of a module path (below ``polyret``) that LAYERS names."""
    for end in range(len(parts), 1, -1):
        if ".".join(parts[:end]) in LISTED:
            return ".".join(parts[:end])
    return parts[0]


def _unit(path: Path) -> str:
    """The sub-package or module (as LAYERS names it) that ``path`` belongs to."""
    parts = [*path.relative_to(ROOT).parts[:-1], path.stem]
    return _listed(parts) if len(parts) > 1 else path.stem


def _package(path: Path) -> list[str]:
    """The dotted package ``path`` lives in, as parts (``["polyret", "io"]``)."""
    parts = ["polyret", *path.relative_to(ROOT).parts[:-1]]
    return parts


def _targets(path: Path, node: ast.AST) -> list[str]:
    """The polyret units an import node reaches (``"io"``, ``"__init__"`` for the root)."""
    modules: list[str] = []
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = _package(path)[: len(_package(path)) - node.level + 1]
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        if module == "polyret":
            modules = [f"polyret.{alias.name}" for alias in node.names]
        else:
            modules = [module]
    units = []
    for module in modules:
        parts = module.split(".")
        if parts[0] != "polyret":
            continue
        if len(parts) == 1 or not (
            (ROOT / parts[1]).is_dir() or (ROOT / f"{parts[1]}.py").is_file()
        ):
            units.append("__init__")  # the root, or a name it re-exports (``load``)
        else:
            units.append(_listed(parts[1:]))
    return units


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_every_unit_has_a_layer() -> None:
    units = {_unit(path) for path in _modules()}
    missing = sorted(units - LISTED)
    assert not missing, f"add these to polyret.layers.LAYERS: {missing}"


def test_layers_are_disjoint() -> None:
    names = [name for layer in LAYERS for name in layer]
    assert len(names) == len(set(names))


def test_no_import_reaches_a_higher_layer() -> None:
    violations = []
    for path in _modules():
        unit = _unit(path)
        here = layer_of(unit)
        relative = path.relative_to(ROOT.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(path, node):
                if layer_of(target) > here and (relative, target) not in ALLOWED:
                    violations.append(
                        f"{relative}:{node.lineno}: {unit} (layer {here}) imports "
                        f"{target} (layer {layer_of(target)})"
                    )
    assert not violations, "upward imports:\n" + "\n".join(violations)


def test_allow_list_entries_are_still_needed() -> None:
    found = set()
    for path in _modules():
        relative = path.relative_to(ROOT.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(path, node):
                if layer_of(target) > layer_of(_unit(path)):
                    found.add((relative, target))
    assert found >= ALLOWED, f"remove from ALLOWED: {sorted(ALLOWED - found)}"


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("io/jsonl.py", "from polyret.types import Run", ["types"]),
        ("io/jsonl.py", "import polyret", ["__init__"]),
        ("io/jsonl.py", "from polyret import __version__", ["__init__"]),
        ("io/jsonl.py", "from polyret import text", ["text"]),
        ("io/jsonl.py", "from ..retrieve import bm25", ["retrieve"]),
        ("io/beir.py", "from . import trec", ["io"]),
        ("io/beir.py", "from .atomic import atomic_write", ["io.atomic"]),
        ("types/training.py", "from polyret.io.lines import iter_lines", ["io.lines"]),
        ("types/training.py", "from polyret.io import atomic_write", ["io"]),
        ("io/jsonl.py", "def f():\n    import polyret.serve.app", ["serve"]),
        ("demo.py", "from .pipeline import run", ["pipeline"]),
        ("io/jsonl.py", "import numpy", []),
    ],
)
def test_imports_are_resolved(path: str, source: str, expected: list[str]) -> None:
    nodes = ast.walk(ast.parse(source))
    assert [t for node in nodes for t in _targets(ROOT / path, node)] == expected


def test_units_are_named_as_layers_names_them() -> None:
    assert _unit(ROOT / "io" / "atomic.py") == "io.atomic"
    assert _unit(ROOT / "io" / "beir.py") == "io"
    assert _unit(ROOT / "retrieve" / "bm25.py") == "retrieve"
    assert _unit(ROOT / "__init__.py") == "__init__"
