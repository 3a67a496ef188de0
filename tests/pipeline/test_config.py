"""Config validation: every mistake is reported before any work, with its key path and line."""

from __future__ import annotations

import typing

import pytest
import yaml

from polyret.pipeline import ConfigError, load_config, run_pipeline
from polyret.pipeline.schema import MineParams
from tests.pipeline.conftest import small_config, write_yaml


def stage_index(config: dict, name: str) -> int:
    return next(i for i, s in enumerate(config["stages"]) if s["name"] == name)


def training_stage(params: dict) -> dict:
    return {"name": "model", "type": "train-bi-encoder", "inputs": {"examples": "mined"},
            "params": params}  # fmt: skip


def errors_of(config: dict, tmp_path) -> ConfigError:
    path = write_yaml(tmp_path / "pipeline.yaml", config)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def line_of(path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_a_valid_config_resolves_defaults_and_the_dataset_input(tmp_path):
    config = load_config(write_yaml(tmp_path / "ok.yaml", small_config()))
    bm25 = config.stage("bm25")
    assert bm25.inputs.dataset == "data"  # the only dataset stage before it
    assert config.stage("hybrid").inputs.dataset == "data"  # tuned on dev: needs it
    assert config.stage("kept").inputs.model_fields_set == {"examples"}
    assert config.stage("evaluation").params.baseline == "BM25"  # the first label
    assert config.stage("dense-index").params.encoder == "hashing"


def test_typo_in_a_key_names_its_path_and_line(tmp_path):
    config = small_config()
    at = stage_index(config, "mined")
    config["stages"][at]["params"]["num_negative"] = 2
    error = errors_of(config, tmp_path)
    assert len(error.issues) == 1
    assert error.issues[0].loc == f"stages[{at}].params.num_negative"
    assert "unknown key" in str(error)
    assert error.issues[0].line == line_of(tmp_path / "pipeline.yaml", "num_negative:")
    assert f"pipeline.yaml:{error.issues[0].line}: stages[{at}].params.num_negative" in str(error)


def test_wrong_type_names_the_key(tmp_path):
    config = small_config(mined={"num_negatives": "seven"})
    at = stage_index(config, "mined")
    error = errors_of(config, tmp_path)
    assert str(error).endswith(
        f"stages[{at}].params.num_negatives: Input should be a valid integer, unable to parse "
        "string as an integer (got 'seven')"
    )
    assert error.issues[0].line == line_of(tmp_path / "pipeline.yaml", "num_negatives: seven")


def test_unknown_stage_type_suggests_the_close_one(tmp_path):
    config = small_config()
    config["stages"][1]["type"] = "index-bm52"
    error = errors_of(config, tmp_path)
    assert [i.loc for i in error.issues] == ["stages[1].type"]
    assert "unknown stage type 'index-bm52'. Did you mean 'index-bm25'?" in str(error)


def test_unknown_input_name_lists_the_earlier_stages(tmp_path):
    config = small_config()
    at = stage_index(config, "dense")
    config["stages"][at]["inputs"]["index"] = "dense-idx"
    error = errors_of(config, tmp_path)
    assert error.issues[0].loc == f"stages[{at}].inputs.index"
    assert "'dense-idx' is not a stage. Did you mean 'dense-index'?" in str(error)
    assert "Stages before it: data, bm25-index, bm25, dense-index" in str(error)


def test_inputs_must_come_earlier_and_be_of_the_right_kind(tmp_path):
    config = small_config()
    at = stage_index(config, "hybrid")
    config["stages"][at]["inputs"]["runs"] = ["bm25", "dense-index", "reranked"]
    error = errors_of(config, tmp_path)
    messages = {i.loc: i.message for i in error.issues}
    assert (
        "is an index-dense stage (its output is an index); runs takes a run"
        in (messages[f"stages[{at}].inputs.runs[1]"])
    )
    assert "comes later" in messages[f"stages[{at}].inputs.runs[2]"]


def test_missing_files_are_reported_before_any_work(tmp_path):
    config = small_config(data={"source": "./no-such-folder"})
    params = {"base": "./no-model-here", "max_steps": 1}
    config["stages"].append(training_stage(params))
    path = write_yaml(tmp_path / "pipeline.yaml", config)
    with pytest.raises(ConfigError) as caught:
        run_pipeline(path, tmp_path / "run")
    assert not (tmp_path / "run").exists()  # failed before any work
    messages = {i.loc: i.message for i in caught.value.issues}
    assert "no folder at" in messages["stages[0].params.source"]
    assert str(tmp_path / "no-such-folder") in messages["stages[0].params.source"]
    assert "no base model folder at" in messages[f"stages[{len(config['stages']) - 1}].params.base"]


def test_training_params_are_checked_with_the_trainers_schema(tmp_path):
    config = small_config()
    config["stages"].append(training_stage({"max_step": 3, "learning_rate": -1}))
    error = errors_of(config, tmp_path)
    at = len(config["stages"]) - 1
    assert {i.loc for i in error.issues} == {
        f"stages[{at}].params.max_step",
        f"stages[{at}].params.learning_rate",
    }


def test_names_splits_metrics_and_registry_names_are_checked(tmp_path):
    config = small_config(
        evaluation={"split": "tst", "metrics": ["ndcg@10", "ndgc@10"]},
        mined={"strategy": "random-topk"},
    )
    config["stages"][2]["name"] = "bm25-index"
    error = errors_of(config, tmp_path)
    messages = {i.loc: i.message for i in error.issues}
    last = len(config["stages"]) - 1
    assert messages["stages[2].name"] == "duplicate stage name 'bm25-index'"
    assert messages[f"stages[{last}].params.split"] == (
        "unknown split 'tst'; the dataset has dev, test"
    )
    assert f"stages[{last}].params.metrics[1]" in messages
    mined = stage_index(config, "mined")
    assert "Did you mean 'random-top-k'?" in messages[f"stages[{mined}].params.strategy"]


def test_a_stage_that_needs_a_dataset_must_be_told_which(tmp_path):
    config = small_config()
    other = {"name": "other", "type": "dataset", "params": {"source": "xquad-r"}}
    config["stages"].insert(1, other)
    error = errors_of(config, tmp_path)
    assert error.issues[0].loc == "stages[2].inputs.dataset"
    assert "dataset stages before it: data, other" in error.issues[0].message


def test_bad_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nstages:\n  - {name: data, type: dataset\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: \(file\): not valid YAML"):
        load_config(path)


def test_toml_configs_validate_the_same(tmp_path):
    path = tmp_path / "pipeline.toml"
    path.write_text(
        'name = "t"\n[[stages]]\nname = "data"\ntype = "dataset"\n'
        '[stages.params]\nsource = "xquad-r"\nlangs = ["de"]\n'
        '[[stages]]\nname = "bm25-index"\ntype = "index-bm25"\n'
        '[stages.params]\nk1 = "high"\n'
    )
    with pytest.raises(ConfigError, match=r"stages\[1\]\.params\.k1: Input should be a valid"):
        load_config(path)


def test_mirrored_params_match_the_library_configs():
    from polyret.mine import MiningConfig

    mining = set(MiningConfig.model_fields)  # one class: the pipeline adds its own fields only
    assert issubclass(MineParams, MiningConfig)
    assert set(MineParams.model_fields) - mining == {"strategy", "retriever", "k"}
    hints = typing.get_type_hints(MiningConfig)
    assert all(name in hints for name in mining)


def test_the_packaged_demo_config_is_valid():
    from polyret.demo import demo_config

    config = demo_config()
    types = [s.type for s in config.stages]
    for needed in ("fuse", "rerank", "adapt", "index-dense"):
        assert needed in types
    runs = config.stage("evaluation").inputs.labelled()
    assert list(runs) == ["BM25", "dense", "hybrid", "adapted", "adapted-hybrid", "reranked"]
    assert config.stage("reranked").inputs.run == "adapted-hybrid"  # the final system
    assert yaml.safe_load(config.model_dump_json())["name"] == "demo"
