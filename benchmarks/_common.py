"""Helpers shared by the benchmark scripts: data loading and timing."""

from __future__ import annotations

import fnmatch
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from polyret.io import read_beir
from polyret.types import Corpus, Dataset, Qrels, Queries

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
T = TypeVar("T")


def require_shared() -> Path:
    """The shared data folder, or exit with the reason."""
    if not SHARED_DATA.is_dir():
        sys.exit(f"skipped: {SHARED_DATA} is absent (the benchmarks need the shared collections)")
    return SHARED_DATA


def shared_collections(globs: str) -> list[Path]:
    """Shared collection folders with a ``corpus.jsonl`` whose name matches a comma-separated
    glob list, sorted; exits with the reason when none does."""
    shared = require_shared()
    patterns = globs.split(",")
    folders = [
        f
        for f in sorted(shared.iterdir())
        if (f / "corpus.jsonl").is_file() and any(fnmatch.fnmatch(f.name, p) for p in patterns)
    ]
    if not folders:
        sys.exit(f"no collection with a corpus.jsonl in {shared} matches {globs!r}")
    return folders


def merged_xquad_r(
    langs: tuple[str, ...] = ("ar", "de", "en", "es", "hi", "ru", "th", "tr", "zh"),
) -> Dataset:
    """All ``xquad-r-<lang>`` collections in one corpus (the embedded demo collection, in full)."""
    shared = require_shared()
    parts = [read_beir(shared / f"xquad-r-{lang}") for lang in langs]
    corpus = Corpus.from_records(d for p in parts for d in p.corpus)
    queries = Queries.from_records(q for p in parts for q in p.queries)
    qrels = {
        split: Qrels.from_dict({q: r for p in parts for q, r in p.qrels[split].items()})
        for split in ("dev", "test")
    }
    return Dataset("xquad-r-full", corpus, queries, qrels)


def timed(label: str, fn: Callable[[], T], timings: dict[str, float]) -> T:
    """Run ``fn``, store its wall time under ``label``, return its result."""
    start = time.perf_counter()
    result = fn()
    timings[label] = time.perf_counter() - start
    print(f"  {label:<44} {timings[label]:8.2f} s", flush=True)
    return result
