"""The runner: stage folders, manifest and provenance, reuse, change propagation, --force."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

import polyret
from polyret.cli import app
from polyret.errors import UnknownNameError
from polyret.io import read_beir, read_trec_run
from polyret.pipeline import ConfigError, load_config, run_pipeline
from polyret.pipeline.keys import stage_keys
from polyret.types import TrainingSet
from tests.pipeline.conftest import small_config, write_yaml
from tests.train.conftest import tiny_model  # noqa: F401  (session fixture)

STAGE_FIELDS = {"name", "type", "key", "dir", "inputs", "seconds", "reused"}


def test_stage_folders_manifest_and_provenance(small_run):
    path, result = small_run
    config = load_config(path)
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert set(manifest) == {"format", "name", "config", "stages"}
    assert manifest["format"] == 1 and manifest["name"] == "small"
    assert manifest["config"] == config.model_dump(mode="json")
    keys = stage_keys(config)
    for entry, stage in zip(manifest["stages"], config.stages, strict=True):
        assert set(entry) == STAGE_FIELDS
        assert entry["key"] == keys[stage.name]
        assert entry["dir"] == f"stages/{stage.name}-{keys[stage.name][:12]}"
        assert re.fullmatch(r"[0-9a-f]{64}", entry["key"]) and entry["reused"] is False
        provenance = json.loads((result.run_dir / entry["dir"] / "provenance.json").read_text())
        pipeline = provenance["pipeline"]
        assert pipeline["key"] == entry["key"]
        assert pipeline["versions"]["polyret"] == polyret.__version__
        assert {"host", "started", "finished", "seconds", "seed", "config"} <= set(pipeline)
        for role, names in stage.references().items():
            assert [i["key"] for i in pipeline["inputs"][role]] == [keys[n] for n in names]
    hybrid = next(s for s in manifest["stages"] if s["name"] == "hybrid")
    assert hybrid["inputs"] == ["bm25", "dense", "data"]
    assert (result.run_dir / "report.html").is_file() and (result.run_dir / "report.md").is_file()


def test_stage_folders_are_the_artifacts(small_run):
    _, result = small_run
    data = read_beir(result.stage("data").path)
    assert sorted(data.corpus.languages()) == ["de", "en"]
    assert {len(q) for q in data.qrels.values()} == {30}  # 15 per language and split
    run = read_trec_run(result.stage("reranked").path / "run.trec")
    assert set(run) == set(data.split("test")[1])
    mined = TrainingSet.load(result.stage("mined").path)
    assert mined.num_negatives == 1
    assert [s["step"] for s in mined.funnel] == ["generate", "filter", "filter", "mine"]
    evaluation = result.evaluations()["evaluation"]
    assert list(evaluation["systems"]) == ["BM25", "hybrid", "hashing", "reranked"]  # config order
    assert evaluation["baseline"] == "BM25" and evaluation["test"]["permutations"] == 500
    fusion = json.loads((result.stage("hybrid").path / "fusion.json").read_text())
    assert fusion["tuned_on"] == "dev" and sum(fusion["weights"]) == pytest.approx(1)


def test_second_run_reuses_everything(small_run, tmp_path):
    path, first = small_run
    run_dir = tmp_path / "run"
    shutil.copytree(first.run_dir, run_dir)
    again = run_pipeline(path, run_dir)
    assert again.computed == []
    assert all(s.reused for s in again.stages)
    assert sum(s.seconds for s in again.stages) < 1.0
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert all(s["reused"] for s in manifest["stages"])


def test_a_changed_stage_recomputes_itself_and_its_dependents_only(small_run, tmp_path):
    path, first = small_run
    run_dir = tmp_path / "run"
    shutil.copytree(first.run_dir, run_dir)
    changed = write_yaml(tmp_path / "changed.yaml", small_config(dense={"k": 40}))
    result = run_pipeline(changed, run_dir)
    assert result.computed == ["dense", "hybrid", "reranked", "evaluation"]
    assert first.stage("dense").key != result.stage("dense").key
    assert first.stage("bm25").key == result.stage("bm25").key
    # the old folder stays: switching back is free
    back = run_pipeline(path, run_dir)
    assert back.computed == []


def test_force_recomputes_a_stage_and_what_depends_on_it(small_run, tmp_path):
    path, first = small_run
    run_dir = tmp_path / "run"
    shutil.copytree(first.run_dir, run_dir)
    result = run_pipeline(path, run_dir, force=["kept"], report=False)
    assert result.computed == ["kept", "mined"]
    before = (first.stage("mined").path / "examples.parquet").read_bytes()
    assert (result.stage("mined").path / "examples.parquet").read_bytes() == before
    with pytest.raises(UnknownNameError, match="Did you mean 'kept'"):
        run_pipeline(path, run_dir, force=["kep"])


def test_leftovers_of_a_killed_stage_are_removed(small_run, tmp_path):
    path, first = small_run
    run_dir = tmp_path / "run"
    shutil.copytree(first.run_dir, run_dir)
    evaluation = first.stage("evaluation")
    shutil.rmtree(run_dir / evaluation.dir)
    leftover = run_dir / "stages" / f".{evaluation.path.name}.abc123.tmp"
    leftover.mkdir()
    (leftover / "evaluation.json").write_text("{half")
    result = run_pipeline(path, run_dir, report=False)
    assert result.computed == ["evaluation"]
    assert not leftover.exists()
    assert (result.stage("evaluation").path / "evaluation.json").read_bytes() == (
        evaluation.path / "evaluation.json"
    ).read_bytes()


def test_polyret_run_prints_each_stage_and_the_table(small_run, tmp_path):
    path, first = small_run
    run_dir = tmp_path / "run"
    shutil.copytree(first.run_dir, run_dir)
    out = CliRunner().invoke(app, ["run", str(path), "--run-dir", str(run_dir)])
    assert out.exit_code == 0, out.output
    for stage in first.stages:
        assert re.search(rf"reused\s+{stage.name}\s+{stage.type}\s+0\.0 s", out.output)
    assert "0 of 11 stages computed" in out.output
    assert "small · evaluation · test split: ndcg@10" in out.output
    for lang in ("de", "en", "all"):
        assert re.search(rf"│ {lang}\s+│\s+15|│ {lang}\s+│\s+30", out.output)
    assert "hybrid: interpolation, weights bm25" in out.output
    assert f"report: {run_dir / 'report.html'}" in out.output.replace("\n", "")


def test_cross_encoder_trained_in_the_run_reranks(tmp_path, tiny_model):  # noqa: F811
    """train-cross-encoder's folder is a model input of rerank (dev evaluation included)."""
    config = small_config()
    evaluation = config["stages"].pop()
    config["stages"] += [
        {
            "name": "judge",
            "type": "train-cross-encoder",
            "inputs": {"examples": "mined"},
            "params": {
                "base": str(tiny_model),
                "max_steps": 2,
                "batch_size": 4,
                "max_seq_length": 32,
                "threads": 1,
                "dev_eval": True,
                "dev_rerank_k": 5,
            },
        },
        {
            "name": "judged",
            "type": "rerank",
            "inputs": {"run": "bm25", "model": "judge"},
            "params": {"reranker": "cross-encoder", "k": 5, "splits": ["test"]},
        },
    ]
    evaluation["inputs"]["runs"]["judged"] = "judged"
    config["stages"].append(evaluation)
    result = run_pipeline(load_config(config), tmp_path / "run", report=False)
    provenance = json.loads((result.stage("judge").path / "provenance.json").read_text())
    assert provenance["kind"] == "cross-encoder" and provenance["training"]["global_step"] == 2
    assert provenance["pipeline"]["inputs"]["dataset"][0]["stage"] == "data"  # dev_eval
    judged = read_trec_run(result.stage("judged").path / "run.trec")
    bm25 = read_trec_run(result.stage("bm25").path / "run.trec").select(list(judged))
    assert set(judged) == set(bm25) and judged.num_entries == bm25.num_entries
    assert "judged" in result.evaluations()["evaluation"]["systems"]


def test_m3_heads_trained_in_the_run_feed_a_sparse_index(tmp_path, tiny_model):  # noqa: F811
    """train-heads with both heads (M3 self-distillation) is an encoder input of index-sparse."""
    config = small_config()
    evaluation = config["stages"].pop()
    config["stages"] += [
        {
            "name": "m3",
            "type": "train-heads",
            "inputs": {"examples": "mined"},
            "params": {
                "base": str(tiny_model),
                "heads": ["colbert", "sparse"],
                "distill": 1.0,
                "max_steps": 3,
                "batch_size": 4,
                "layers": [-1],
            },
        },
        {"name": "sparse-index", "type": "index-sparse", "inputs": {"encoder": "m3"}},
        {
            "name": "sparse",
            "type": "retrieve",
            "inputs": {"index": "sparse-index"},
            "params": {"splits": ["test"], "k": 20},
        },
    ]
    evaluation["inputs"]["runs"]["sparse"] = "sparse"
    config["stages"].append(evaluation)
    result = run_pipeline(load_config(config), tmp_path / "run", report=False)
    provenance = json.loads((result.stage("m3").path / "provenance.json").read_text())
    assert provenance["heads"] == ["colbert", "sparse"] and provenance["training"]["steps"] == 3
    assert "sparse" in result.evaluations()["evaluation"]["systems"]


def test_adapt_stage_feeds_an_index_and_says_what_it_chose(tmp_path, tiny_model):  # noqa: F811
    """adapt's folder (the encoder to use) is an encoder input of index-dense; its dev check
    and its training rows are in the folder, and a second run reuses the stage."""
    config = small_config()
    evaluation = config["stages"].pop()
    config["stages"] += [
        {
            "name": "adapted",
            "type": "adapt",
            "inputs": {"index": "bm25-index"},
            "params": {
                "base": str(tiny_model),
                "generate": [{"method": "crop", "limit": 80}],
                "train": {"max_steps": 3, "batch_size": 8, "learning_rate": 1e-3},
                "check": {"min_gain": -1.0},
            },
        },
        {"name": "adapted-index", "type": "index-dense", "inputs": {"encoder": "adapted"}},
        {
            "name": "adapted-run",
            "type": "retrieve",
            "inputs": {"index": "adapted-index"},
            "params": {"splits": ["test"], "k": 50},
        },
    ]
    evaluation["inputs"]["runs"]["adapted"] = "adapted-run"
    config["stages"].append(evaluation)
    result = run_pipeline(load_config(config), tmp_path / "run", report=False)
    folder = result.stage("adapted").path
    summary = json.loads((folder / "adaptation.json").read_text())
    assert summary["adopted"] is True and summary["check"]["split"] == "dev"
    assert summary["examples"] == len(TrainingSet.load(folder / "training-set")) <= 80
    assert summary["config"]["seed"] == 0 and summary["config"]["train"]["max_steps"] == 3
    assert "adapted" in result.evaluations()["evaluation"]["systems"]
    again = run_pipeline(load_config(config), tmp_path / "run", report=False)
    assert again.stage("adapted").reused


def test_adapt_stage_errors_name_their_key(tmp_path):
    config = small_config()
    config["stages"].insert(
        2,
        {
            "name": "adapted",
            "type": "adapt",
            "params": {"generate": [{"method": "crops"}], "check": {"split": "heldout"}},
        },
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    text = str(caught.value)
    assert "stages[2].params.generate[0].method" in text and "unknown split 'heldout'" in text
