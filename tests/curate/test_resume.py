"""A generation job killed with SIGKILL resumes to the same bytes, without re-asking the LLM.

The job runs in a subprocess against the HTTP test server of this process; it is killed
once a few chunk shards exist, run again to the end, and compared with an uninterrupted
run (another output folder and another LLM cache, so nothing is shared with it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from polyret.curate import generate, load_generator
from polyret.types import Corpus, TrainingSet
from tests.curate.llm_server import FAST, FakeLLM, last_field
from tests.llm.fake_openai import fake_openai, user_text

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 2
CONCURRENCY = 2

JOB = """
import json, sys
from polyret.curate import generate, load_generator
from tests.curate.test_resume import small_corpus

spec = json.loads(sys.argv[1])
corpus = small_corpus()
options = dict(spec["options"])
if spec["method"] == "gecko":
    options["candidates_corpus"] = corpus
generator = load_generator(spec["method"], llm=spec["llm"], **options)
generate(generator, corpus, spec["out"], chunk_size=spec["chunk_size"])
"""

METHODS = {
    "swim-ir": {"langs": "de,en", "num_exemplars": 1},
    "gecko": {"top_n": 3, "num_exemplars": 1},
}


def small_corpus() -> Corpus:
    """Twelve documents: four each of German, English and Chinese."""
    from polyret.datasets import load

    corpus = load("xquad-r").corpus
    parts = [corpus.filter(lang=lang).take(range(0, 40, 10)) for lang in ("de", "en", "zh")]
    return Corpus.from_records([doc for part in parts for doc in part])


def llm_spec(url: str, cache: Path) -> dict[str, Any]:
    return {
        "backend": "openai",
        "model": "m",
        "base_url": url,
        "cache": str(cache),
        **FAST,
        "max_concurrency": CONCURRENCY,
    }


def source_of(body: dict[str, Any], fake: FakeLLM) -> str:
    """The document whose query a request is about."""
    text = user_text(body)
    if body.get("echo"):
        return fake.by_query[text.rsplit("Question:", 1)[1].strip()]
    if "Does the passage answer" in text:
        return fake.by_query[last_field(text, "Query:")]
    return fake.by_text[last_field(text, "Passage:")]


def run_job(spec: dict[str, Any]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", JOB, json.dumps(spec)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("method", sorted(METHODS))
def test_killed_job_resumes_to_the_same_bytes_without_repeating_requests(
    method: str, tmp_path: Path
):
    corpus = small_corpus()
    chunks = [corpus.ids[i : i + CHUNK] for i in range(0, len(corpus), CHUNK)]
    fake = FakeLLM(corpus, partner={i: j for i, j in zip(corpus.ids, corpus.ids[1:], strict=False)})
    with fake_openai(fake) as server:
        # the uninterrupted reference, in this process, with its own cache
        options = dict(METHODS[method])
        if method == "gecko":
            options["candidates_corpus"] = corpus
        reference = load_generator(
            method, llm=llm_spec(server.url, tmp_path / "ref.sqlite"), **options
        )
        generate(reference, corpus, tmp_path / "reference", chunk_size=CHUNK)

        # the same job in a subprocess, killed once two chunks are checkpointed
        fake.sleep = 0.04
        out = tmp_path / "out"
        parts = tmp_path / ".out.parts"
        spec = {
            "method": method,
            "options": METHODS[method],
            "out": str(out),
            "chunk_size": CHUNK,
            "llm": llm_spec(server.url, tmp_path / "llm.sqlite"),
        }
        first = len(server.requests)
        job = run_job(spec)
        deadline = time.monotonic() + 120
        while len(list(parts.glob("part-*.parquet"))) < 2:
            assert job.poll() is None, job.stdout.read().decode() if job.stdout else ""
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.01)
        job.send_signal(signal.SIGKILL)
        job.wait()
        killed = len(server.requests)
        finished = sorted(int(p.stem.split("-")[1]) for p in parts.glob("part-*.parquet"))
        assert job.returncode == -signal.SIGKILL and not out.exists()
        assert 2 <= len(finished) < len(chunks)

        # run it again to the end
        fake.sleep = 0.0
        again = run_job(spec)
        output = again.communicate(timeout=120)[0].decode()
        assert again.returncode == 0, output
        before, after = server.requests[first:killed], server.requests[killed:]

    for name in ("examples.parquet", "polyret.json"):
        assert (out / name).read_bytes() == (tmp_path / "reference" / name).read_bytes(), name
    assert not parts.exists()
    examples, expected = TrainingSet.load(out), TrainingSet.load(tmp_path / "reference")
    assert examples.ids == expected.ids and len(set(examples.ids)) == len(examples)
    # no request about a document of a finished chunk was sent again ...
    done = {doc for n in finished for doc in chunks[n]}
    assert not {source_of(r["body"], fake) for r in after} & done
    # ... and of the interrupted chunk only what was in flight at the kill
    sent = {json.dumps(r["body"], sort_keys=True) for r in before}
    repeated = [r for r in after if json.dumps(r["body"], sort_keys=True) in sent]
    assert len(repeated) <= CONCURRENCY
