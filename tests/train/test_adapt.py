"""Label-free adaptation (:func:`polyret.adapt.adapt`) on a tiny model and the embedded
collection's German sentences: the folder it writes, the dev check and its refusal."""

from __future__ import annotations

import json

import pytest

from polyret.adapt import ADAPTATION_FILE, AdaptConfig, adapt, dev_check
from polyret.errors import InvalidInputError, OutputExistsError

FAST = {"max_steps": 4, "batch_size": 8, "learning_rate": 1e-3, "logging_steps": 1}


@pytest.fixture(scope="module")
def german():
    from polyret.datasets import DatasetConfig, prepare

    return prepare(DatasetConfig(source="xquad-r", langs=["de"], max_queries=40))


def recipe(base, **check):
    return AdaptConfig(base=str(base), train=FAST, check={"min_gain": -1.0, **check})


@pytest.fixture(scope="module")
def adapted(tiny_model, german, tmp_path_factory):
    out = tmp_path_factory.mktemp("adapt") / "encoder"
    return adapt(german, out, recipe(tiny_model))


def test_adopted_folder_is_an_encoder_with_its_training_data(adapted, german, tiny_model):
    import polyret
    from polyret.encode import load_encoder
    from polyret.types import TrainingSet

    assert adapted.adopted and adapted.folder.is_dir()
    assert not adapted.folder.with_name(f".{adapted.folder.name}.work").exists()
    summary = json.loads((adapted.folder / ADAPTATION_FILE).read_text())
    assert summary["adopted"] and summary["base"] == str(tiny_model)
    rows = TrainingSet.load(adapted.folder / "training-set")
    assert len(rows) == summary["examples"] == adapted.examples > 100  # one crop per sentence
    assert set(rows.column("lang")) == {"de"} and rows.num_negatives == 1
    # no human question trained it: every query is a span of its own positive
    pairs = zip(rows.column("query"), rows.column("positive"), strict=True)
    assert all(q.split()[0] in p for q, p in pairs)
    assert not set(rows.column("query")) & set(german.queries.texts)
    encoder = load_encoder(adapted.folder)
    assert encoder.encode_queries(["Berlin"]).shape == (1, 32)
    assert polyret.load(adapted.folder) is not None


def test_dev_check_reports_both_encoders_on_the_dev_questions(adapted, german, tiny_model):
    check = adapted.check
    assert check is not None and check.split == "dev" and check.metric == "ndcg@10"
    assert check.queries == len(german.split("dev")[1])
    assert 0 <= check.base <= 1 and 0 <= check.adapted <= 1 and 0 < check.p_value <= 1
    assert set(check.by_lang) == {"de"}
    # the same numbers again from the function itself (a deterministic check)
    again = dev_check(tiny_model, adapted.folder, german, recipe(tiny_model).check)
    assert again.base == pytest.approx(check.base) and again.adapted == pytest.approx(check.adapted)


def test_dev_check_reuses_a_base_run_and_refuses_an_incomplete_one(adapted, german, tiny_model):
    from polyret.encode import load_encoder
    from polyret.retrieve import Dense

    check = recipe(tiny_model).check
    queries, _ = german.split("dev")
    base_run = Dense(load_encoder(tiny_model)).index(german.corpus).search(queries, k=check.k)
    reused = dev_check(tiny_model, adapted.folder, german, check, base_run=base_run)
    assert reused.base == pytest.approx(adapted.check.base)
    assert reused.adapted == pytest.approx(adapted.check.adapted)
    partial = base_run.select(queries.ids[1:])
    with pytest.raises(InvalidInputError, match="lacks 1 of the 'dev' questions"):
        dev_check(tiny_model, adapted.folder, german, check, base_run=partial)


def test_refused_adaptation_keeps_the_base_weights(tiny_model, german, tmp_path):
    out = tmp_path / "encoder"
    result = adapt(german, out, recipe(tiny_model, min_gain=1.0))  # no encoder gains +1.0
    assert not result.adopted and result.check is not None and not result.check.keep_adapted
    weights = "model.safetensors"
    assert (out / weights).read_bytes() == (tiny_model / weights).read_bytes()
    assert json.loads((out / ADAPTATION_FILE).read_text())["adopted"] is False


def test_refuses_bad_requests(tiny_model, german, tmp_path):
    with pytest.raises(InvalidInputError, match="dev check needs a dataset"):
        adapt(german.corpus, tmp_path / "a", recipe(tiny_model))
    with pytest.raises(InvalidInputError, match="'heldout' split"):
        adapt(german, tmp_path / "a", recipe(tiny_model, split="heldout"))
    (tmp_path / "b").mkdir()
    with pytest.raises(OutputExistsError):
        adapt(german, tmp_path / "b", recipe(tiny_model))


def test_partial_recipe_keeps_adaptation_defaults():
    config = AdaptConfig.model_validate({"train": {"learning_rate": 5e-5}})
    assert config.train.max_steps == 100 and config.train.batch_size == 16
    assert config.train.max_seq_length == 64 and config.train.learning_rate == 5e-5
    assert config.mining.max_rank == 30 and config.mining.num_negatives == 1
    with pytest.raises(InvalidInputError, match=r"train\.max_stepz"):
        AdaptConfig(train={"max_stepz": 3})


def test_adapt_command_reads_a_recipe_file_and_reports_the_check(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from polyret.cli import app

    recipe_file = tmp_path / "recipe.json"
    recipe_file.write_text(json.dumps({"train": FAST, "check": {"min_gain": -1.0}}))
    out = tmp_path / "encoder"
    args = ["adapt", "xquad-r", "--out", str(out), "--base", str(tiny_model)]
    options = ["--recipe", str(recipe_file), "--seed", "3", "--train-max-steps", "3"]
    result = CliRunner().invoke(app, [*args, *options, "--mining-max-rank", "10"])
    assert result.exit_code == 0, result.output
    assert "dev ndcg@10: base" in result.output and "adapted encoder →" in result.output
    summary = json.loads((out / ADAPTATION_FILE).read_text())
    config = summary["config"]
    assert config["seed"] == 3 and config["mining"]["max_rank"] == 10
    # an option overrides the recipe's field and keeps its other fields
    assert config["train"]["max_steps"] == 3 and config["train"]["batch_size"] == 8
    assert config["check"]["min_gain"] == -1.0
    assert len(summary["check"]["by_lang"]) == 9  # the embedded collection's languages
    again = CliRunner().invoke(app, [*args, "--recipe", str(recipe_file)])
    assert again.exit_code != 0 and "already exists" in str(again.exception)


def test_llm_method_in_the_recipe_trains_with_cached_answers(
    tiny_model, german, tmp_path, monkeypatch
):
    """An LLM method of ``generate`` (a real HTTP server on 127.0.0.1) adds its queries to
    the crops; a second run finds every answer in the cache and sends nothing."""
    from polyret.types import TrainingSet
    from tests.curate.llm_server import FakeLLM
    from tests.llm.fake_openai import fake_openai

    monkeypatch.setenv("POLYRET_CACHE", str(tmp_path / "cache"))
    with fake_openai(FakeLLM(german.corpus)) as server:
        llm = {"method": "promptagator", "llm": server.url, "llm_model": "m", "limit": 6}
        config = AdaptConfig(
            base=str(tiny_model),
            generate=[{"method": "crop", "limit": 30}, llm],
            train=FAST,
            check=None,
        )
        adapt(german, tmp_path / "a", config)
        sent = len(server.bodies())
        adapt(german, tmp_path / "b", config)
        assert sent >= 6 and len(server.bodies()) == sent
    rows = TrainingSet.load(tmp_path / "a" / "training-set")
    assert set(rows.column("method")) == {"crop", "promptagator"}
    assert rows.column("method").count("promptagator") <= 6


def test_interrupted_adaptation_resumes_its_work_and_a_new_recipe_starts_afresh(
    tiny_model, german, tmp_path, monkeypatch, caplog
):
    import polyret.train

    out, work = tmp_path / "encoder", tmp_path / "work"
    config = recipe(tiny_model)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(polyret.train, "train_bi_encoder", interrupted)
        with pytest.raises(KeyboardInterrupt):
            adapt(german, out, config, work_dir=work)
    assert not out.exists() and (work / "training-set").is_dir()  # nothing looks complete
    made = (work / "training-set").stat().st_mtime_ns
    other = config.model_copy(update={"seed": 1})
    with monkeypatch.context() as patch:
        patch.setattr(polyret.train, "train_bi_encoder", interrupted)
        with pytest.raises(KeyboardInterrupt):
            adapt(german, out, other, work_dir=work)  # another recipe: its own rows
    assert (work / "training-set").stat().st_mtime_ns != made
    with caplog.at_level("INFO", logger="polyret.adapt.adapt"):
        result = adapt(german, out, other, work_dir=work)
    assert "resuming the work" in caplog.text and result.folder.is_dir() and not work.exists()
