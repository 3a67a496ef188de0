"""polyret: multilingual retrieval, from a raw collection to a measured system.

Sub-packages load on first use (``polyret.retrieve``, ``polyret.encode``, ...), so
``import polyret`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from polyret._version import __version__
from polyret.io.artifact import load

_SUBPACKAGES = (
    "curate",
    "datasets",
    "distributed",
    "encode",
    "errors",
    "evaluate",
    "io",
    "llm",
    "mine",
    "models",
    "pipeline",
    "registry",
    "report",
    "rerank",
    "retrieve",
    "serve",
    "text",
    "train",
    "types",
)

__all__ = ["__version__", "load", *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"polyret.{name}")
    raise AttributeError(f"module 'polyret' has no attribute {name!r}")
