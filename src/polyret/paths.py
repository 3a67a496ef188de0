"""Where polyret keeps its caches: exported models, embeddings, scores."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir``, else ``$POLYRET_CACHE``, else ``~/.cache/polyret``."""
    root = cache_dir or os.environ.get("POLYRET_CACHE") or Path.home() / ".cache" / "polyret"
    return Path(root).expanduser()
