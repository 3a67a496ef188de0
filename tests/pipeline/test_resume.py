"""``kill -9`` at a random (seeded) moment, then a re-run: the same bytes as an uninterrupted run.

The config has every stage type the demo uses, training included (a tiny BERT, a few steps).
The killed run is a ``polyret run`` subprocess, sent SIGKILL a seeded random delay after a
seeded random stage has started; the re-run and the uninterrupted reference run in this
process. Every file of every stage folder must be byte-identical, except the wall-clock
fields of the ``provenance.json`` files (and of the trainer's log inside the model's), which
are compared with those fields removed: ``started``, ``finished``, ``seconds``,
``cpu_seconds``, ``runtime_s`` and the Trainer's ``*_runtime`` / ``*_per_second``; and the encoder
fingerprint of the index built with the trained model, which hashes the model's
``provenance.json`` (see :func:`index_meta`). ``POLYRET_KILL_SEED`` picks another moment.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from polyret.pipeline import load_config, run_pipeline
from polyret.pipeline.keys import stage_keys
from tests.pipeline.conftest import with_training, write_yaml
from tests.train.conftest import tiny_model  # noqa: F401  (session fixture)

WALL_CLOCK = {
    "started",
    "finished",
    "seconds",
    "cpu_seconds",
    "runtime_s",
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "eval_runtime",
    "eval_samples_per_second",
    "eval_steps_per_second",
}


def without_wall_clock(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: without_wall_clock(v) for k, v in data.items() if k not in WALL_CLOCK}
    if isinstance(data, list):
        return [without_wall_clock(v) for v in data]
    return data


def index_meta(path: Path) -> dict[str, Any]:
    """A dense index's ``polyret.json`` without the fingerprint of a model trained in the run.

    polyret.encode fingerprints a model folder by the content of its small files, the
    model's ``provenance.json`` included, and that file holds the trainer's wall-clock
    (``finished``, ``runtime_s``): two identical trainings get different fingerprints. The
    weights, the index and every run are compared byte for byte.
    """
    meta = json.loads(path.read_text())
    spec = json.loads((path.parent / "encoder.json").read_text())
    if spec["encoder"].startswith(".."):
        meta["encoder"].pop("fingerprint")
    return meta


def stage_files(run_dir: Path) -> dict[str, Path]:
    stages = run_dir / "stages"
    return {
        str(p.relative_to(stages)): p
        for p in sorted(stages.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(stages).parts)
    }


def assert_same_artifacts(reference: Path, other: Path) -> int:
    ours, theirs = stage_files(reference), stage_files(other)
    assert sorted(ours) == sorted(theirs)
    for name, path in ours.items():
        if path.name == "polyret.json" and (path.parent / "encoder.json").is_file():
            assert index_meta(path) == index_meta(theirs[name]), name
        elif path.name == "provenance.json":
            a, b = (json.loads(p.read_text()) for p in (path, theirs[name]))
            assert without_wall_clock(a) == without_wall_clock(b), name
        else:
            assert path.read_bytes() == theirs[name].read_bytes(), name
    return len(ours)


def test_killed_run_resumes_to_identical_artifacts(tmp_path, tiny_model):  # noqa: F811
    config_path = write_yaml(tmp_path / "pipeline.yaml", with_training(tiny_model))
    config = load_config(config_path)
    keys = stage_keys(config)
    names = [s.name for s in config.stages]
    rng = random.Random(int(os.environ.get("POLYRET_KILL_SEED", "6")))
    victim = rng.choice(names[1:-1])  # the kill must land before the last stage is done
    delay = rng.uniform(0.0, 0.25)

    killed = tmp_path / "killed"
    code = "from polyret.cli import main; main()"
    # the same environment as this process: transformers records HF_HUB_OFFLINE in the saved
    # tokenizer_config.json ("local_files_only"), so it must not differ between the runs
    env = dict(os.environ)
    log = tmp_path / "killed.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "run", str(config_path), "--run-dir", str(killed)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    folder = f"{victim}-{keys[victim][:12]}"
    deadline = time.monotonic() + 120
    started = False
    while time.monotonic() < deadline and proc.poll() is None:
        stages = killed / "stages"
        if stages.is_dir() and any(
            p.name == folder or p.name.startswith(f".{folder}.") for p in stages.iterdir()
        ):
            started = True
            break
        time.sleep(0.005)
    assert started, f"stage {victim} never started (exit {proc.poll()}):\n{log.read_text()[-3000:]}"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    # nothing half-written looks finished: every visible stage folder has its provenance
    done = [p for p in (killed / "stages").iterdir() if not p.name.startswith(".")]
    assert all((p / "provenance.json").is_file() for p in done)
    assert len(done) < len(names), f"the run finished before the kill ({victim}, {delay:.2f} s)"

    resumed = run_pipeline(config, killed)
    assert set(resumed.computed) == set(names) - {p.name.rsplit("-", 1)[0] for p in done}
    assert not [p for p in (killed / "stages").iterdir() if p.name.startswith(".")]

    reference = run_pipeline(config, tmp_path / "reference")
    compared = assert_same_artifacts(reference.run_dir, killed)  # (two trainings compared)
    assert compared > 30  # run files, indexes, training sets, model weights, evaluation
    weights = next(killed.glob("stages/model-*/model.safetensors"))
    assert weights.stat().st_size > 100_000
