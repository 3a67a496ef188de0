"""Exact resume: a training process SIGKILLed after a checkpoint resumes from it and ends
with the same losses as a run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from polyret.errors import InvalidInputError
from polyret.train import BiEncoderConfig, train_bi_encoder

# 48 rows in one-language batches of 8 make an epoch of 8 batches (rows whose texts clash
# wait for the next batch): 10 steps cross into the second epoch, and the kill after
# checkpoint 3 is mid-epoch.
CONFIG = {
    "max_steps": 10,
    "batch_size": 8,
    "save_steps": 3,
    "logging_steps": 1,
    "learning_rate": 1e-3,
    "seed": 7,
    "save_total_limit": 3,
}
CHILD = """
import json, sys, time
from pathlib import Path
from transformers import TrainerCallback
from polyret.train import BiEncoderConfig, train_bi_encoder
from polyret.types import TrainingSet

data, base, out, marker, config = sys.argv[1:6]

class Stall(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        Path(marker).write_text(str(state.global_step))
        time.sleep(600)  # wait here to be killed

train_bi_encoder(TrainingSet.load(data), base, out, BiEncoderConfig(**json.loads(config)),
                 callbacks=[Stall()])
"""


def losses(folder):
    history = json.loads((folder / "provenance.json").read_text())["training"]["log_history"]
    return {entry["step"]: entry["loss"] for entry in history if "loss" in entry}


def test_killed_run_resumes_to_the_same_losses(crops, tiny_model, tmp_path):
    data = crops.save(tmp_path / "data")
    killed, marker = tmp_path / "killed", tmp_path / "saved"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(data),
            str(tiny_model),
            str(killed),
            str(marker),
            json.dumps(CONFIG),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if child.poll() is not None:
            pytest.fail(
                f"the training process ended early:\n{child.stderr.read().decode()[-2000:]}"
            )
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("no checkpoint within 120 s")
        time.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert marker.read_text() == "3"
    assert not (killed / "polyret.json").exists()  # unfinished

    config = BiEncoderConfig(**CONFIG)
    with pytest.raises(Exception, match="exists"):  # no silent restart over checkpoints
        train_bi_encoder(crops, tiny_model, killed, config)
    resumed = train_bi_encoder(crops, tiny_model, killed, config, resume=True)
    straight = train_bi_encoder(crops, tiny_model, tmp_path / "straight", config)

    provenance = json.loads((resumed / "provenance.json").read_text())["training"]
    assert provenance["resumed_from"].endswith("checkpoint-3")
    after, reference = losses(resumed), losses(straight)
    assert sorted(after) == sorted(reference) == list(range(1, 11))
    for step in range(4, 11):  # steps the resumed process computed itself
        assert after[step] == pytest.approx(reference[step], rel=1e-4, abs=1e-5)


def test_resume_refuses_other_data(crops, tiny_model, tmp_path):
    config = BiEncoderConfig(**{**CONFIG, "max_steps": 3, "keep_checkpoints": True})
    out = tmp_path / "m"
    train_bi_encoder(crops, tiny_model, out, config)
    (out / "polyret.json").unlink()  # pretend it never finished
    with pytest.raises(InvalidInputError, match="training_set"):
        train_bi_encoder(crops.take(range(40)), tiny_model, out, config, resume=True)
