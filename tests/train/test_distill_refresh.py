"""Distillation (teacher scores → margin-MSE / KL) and ANCE-style refresh rounds."""

from __future__ import annotations

import json
import math

import pytest

from polyret.errors import InvalidInputError
from polyret.rerank import BiEncoderReranker
from polyret.train import (
    BiEncoderConfig,
    DenseRemine,
    DistillConfig,
    RefreshConfig,
    distill_bi_encoder,
    negatives_from_run,
    score_with_teacher,
    train_with_refresh,
)
from polyret.types import Run

FAST = {"max_steps": 2, "batch_size": 8, "logging_steps": 1, "learning_rate": 1e-3}


@pytest.fixture(scope="module")
def teacher():
    """A deterministic stand-in teacher (hashed vectors): distillation only needs scores."""
    return BiEncoderReranker("hashing", dim=256)


def test_teacher_scores_are_the_teachers(crops, teacher):
    scored = score_with_teacher(crops, teacher)
    row = scored[crops.ids[0]]
    expected = teacher.score_pairs([row.query, row.query], [row.positive, row.negatives[0]])
    assert [row.positive_score, row.negative_scores[0]] == pytest.approx(expected, abs=1e-6)
    assert scored.funnel[-1]["step"] == "teacher-scores"


@pytest.mark.parametrize("loss", ["margin-mse", "kl"])
def test_distillation_trains(loss, crops, teacher, tiny_model, tmp_path):
    config = DistillConfig(**FAST, loss=loss, temperature=1.0)
    out = distill_bi_encoder(crops, tiny_model, tmp_path / loss, config, teacher=teacher)
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["kind"] == "distilled-bi-encoder"
    assert math.isfinite(provenance["training"]["train_loss"])
    assert provenance["training_set"]["funnel"][-1]["step"] == "teacher-scores"


def test_distillation_needs_scores(crops, tiny_model, tmp_path):
    with pytest.raises(InvalidInputError, match="teacher scores"):
        distill_bi_encoder(crops, tiny_model, tmp_path / "x")


def test_negatives_from_run_exclude_the_positive_and_are_seeded(crops, xquad_r):
    row = crops[crops.ids[0]]
    corpus = xquad_r.corpus.filter(lang="de")
    ranked = {doc: float(100 - i) for i, doc in enumerate(corpus.ids[:20])}
    run = Run.from_dict({row.id: ranked})
    one = crops.take([0])
    mined = negatives_from_run(one, run, corpus, num_negatives=5, top_k=10, seed=1)
    again = negatives_from_run(one, run, corpus, num_negatives=5, top_k=10, seed=1)
    negatives = mined[row.id]
    assert negatives.negative_ids == again[row.id].negative_ids
    assert row.positive_id not in negatives.negative_ids
    assert set(negatives.negative_ids) <= set(corpus.ids[:10])
    assert negatives.negative_ranks == sorted(negatives.negative_ranks)
    assert [ranked[d] for d in negatives.negative_ids] == negatives.negative_scores
    skipped = negatives_from_run(one, run, corpus, num_negatives=3, top_k=10, skip_top=6)
    assert min(skipped[row.id].negative_ranks) > 6


def test_refresh_rounds_remine_with_the_latest_model(crops, toy_dev, tiny_model, tmp_path):
    seen = []

    def remine(folder, training_set):
        seen.append(folder)
        return DenseRemine(toy_dev.corpus, RefreshConfig(num_negatives=2, top_k=8))(
            folder, training_set
        )

    out = train_with_refresh(
        crops,
        tiny_model,
        tmp_path / "ance",
        BiEncoderConfig(**FAST),
        RefreshConfig(rounds=2, steps_per_round=2),
        remine=remine,
    )
    rounds = json.loads((out / "refresh.json").read_text())["rounds"]
    assert [r["round"] for r in rounds] == [0, 1]
    assert seen == [rounds[0]["model"]]  # round 0 used the given negatives
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["training_set"]["num_negatives"] == 2
    assert provenance["training_set"]["funnel"][-1]["step"] == "remine"
    assert not (out / "rounds").exists()
