"""The layer order of polyret's sub-packages, written down once.

A module may import from its own layer and the layers below it, never from a layer above
(not even lazily inside a function): plugins above are reached through registries that hold
import-path strings. ``tests/test_layers.py`` walks every import in ``src/polyret`` and checks
this table; ``docs/architecture.md`` explains it.
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, ...], ...] = (
    # io's format-free file primitives (atomic writes, strict lines and JSON lines,
    # ``polyret.json`` and ``polyret.load``, which reaches every artifact type through
    # import-path strings) sit below types so that types can save and load themselves; the
    # rest of io reads and writes types.
    (
        "errors",
        "config",
        "optional",
        "registry",
        "paths",
        "_version",
        "layers",
        "io.atomic",
        "io.lines",
        "io.jsonl",
        "io.artifact",
    ),
    ("types",),
    ("io", "text", "evaluate"),
    ("models",),
    ("encode", "llm"),
    ("retrieve",),
    ("rerank",),
    ("datasets", "mine", "curate"),
    ("train", "report", "distributed"),
    ("adapt",),
    ("pipeline",),
    ("serve",),
    # the package root (``polyret/__init__.py``) only re-exports, so ``import polyret``
    # counts as this layer.
    ("demo", "cli", "__init__"),
)


def layer_of(name: str) -> int:
    """The layer of a sub-package or module: ``"retrieve"``, ``"io.atomic"``, ``"demo"``.

    Raises:
        KeyError: when ``name`` is not in :data:`LAYERS`.
    """
    for level, names in enumerate(LAYERS):
        if name in names:
            return level
    raise KeyError(f"{name!r} is not in polyret.layers.LAYERS; add it to its layer")
