"""One declaration per stage config: the pipeline's ``params``, the CLI's options and the
Python API share one frozen pydantic class (and so one default per field)."""

from __future__ import annotations

import importlib
import inspect
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from polyret.cli.options import CONFIG_ATTRIBUTE, cli_fields, parameter_name
from polyret.pipeline.schema import STAGE_MODELS

# stage type: (config class, Python API callable + its config parameter, CLI command + parameter)
STAGES: dict[str, tuple[str, tuple[str, str], tuple[str, str]]] = {
    "adapt": (
        "polyret.adapt.config:AdaptConfig",
        ("polyret.adapt:adapt", "config"),
        ("polyret.cli.adapt_cmd:adapt_command", "settings"),
    ),
    "dataset": (
        "polyret.datasets.subset:DatasetConfig",
        ("polyret.datasets.subset:prepare", "config"),
        ("polyret.cli.datasets_cmd:export_command", "config"),
    ),
    "mine": (
        "polyret.mine:MiningConfig",
        ("polyret.mine:HardNegativeMiner", "config"),
        ("polyret.cli.mine_cmd:mine_command", "config"),
    ),
    "evaluate": (
        "polyret.evaluate:EvaluationConfig",
        ("polyret.report:summarize", "config"),
        ("polyret.cli.evaluate_cmd:compare_command", "config"),
    ),
    "generate": (
        "polyret.curate:GenerateConfig",
        ("polyret.curate:generator_from", "config"),
        ("polyret.cli.curate_cmd:generate_command", "config"),
    ),
    "filter": (
        "polyret.curate:FilterConfig",
        ("polyret.curate:filters_from", "config"),
        ("polyret.cli.curate_cmd:filter_command", "config"),
    ),
    "train-bi-encoder": (
        "polyret.train.config:BiEncoderConfig",
        ("polyret.train:train_bi_encoder", "config"),
        ("polyret.cli.train_cmd:bi_encoder_command", "settings"),
    ),
    "train-heads": (
        "polyret.train.config:HeadsConfig",
        ("polyret.train:train_heads", "config"),
        ("polyret.cli.train_cmd:heads_command", "settings"),
    ),
    "train-cross-encoder": (
        "polyret.train.config:CrossEncoderConfig",
        ("polyret.train:train_cross_encoder", "config"),
        ("polyret.cli.train_cmd:cross_encoder_command", "settings"),
    ),
    "index-bm25": (
        "polyret.retrieve.bm25:BM25Config",
        ("polyret.retrieve.bm25:BM25", "config"),
        ("polyret.cli.retrieve_cmd:index", "bm25"),
    ),
    "index-dense": (
        "polyret.retrieve.dense:DenseConfig",
        ("polyret.retrieve.dense:Dense", "config"),
        ("polyret.cli.retrieve_cmd:index", "dense_config"),
    ),
    "index-multivector": (
        "polyret.retrieve.multivector:MultiVectorConfig",
        ("polyret.retrieve.multivector:MultiVector", "config"),
        ("polyret.cli.retrieve_cmd:index", "multivector_config"),
    ),
    "index-sparse": (
        "polyret.retrieve.sparse:LearnedSparseConfig",
        ("polyret.retrieve.sparse:LearnedSparse", "config"),
        ("polyret.cli.retrieve_cmd:index", "sparse_config"),
    ),
    "retrieve": (
        "polyret.retrieve.searching:SearchConfig",
        ("polyret.retrieve.searching:search", "config"),
        ("polyret.cli.retrieve_cmd:search", "config"),
    ),
    "fuse": (
        "polyret.retrieve.fusion:FuseConfig",
        ("polyret.retrieve.fusion:fuse", "config"),
        ("polyret.cli.fuse_cmd:fuse_command", "config"),
    ),
    "rerank": (
        "polyret.rerank:RerankConfig",
        ("polyret.rerank:build_reranker", "config"),
        ("polyret.cli.rerank_cmd:rerank_command", "config"),
    ),
}


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _stage_type(model: type[BaseModel]) -> str:
    return str(typing.get_args(model.model_fields["type"].annotation)[0])


def _pipeline_params(stage_type: str) -> type[BaseModel]:
    """The class the pipeline validates a stage's ``params`` with."""
    from polyret.pipeline.loading import params_model

    return params_model(stage_type)


def test_every_stage_type_is_covered():
    assert {_stage_type(model) for model in STAGE_MODELS} == set(STAGES)


@pytest.mark.parametrize("stage_type", sorted(STAGES))
def test_pipeline_cli_and_api_share_one_config(stage_type):
    config_path, (api_path, api_param), (cli_path, cli_param) = STAGES[stage_type]
    config = _resolve(config_path)
    assert issubclass(config, BaseModel) and config.model_config.get("frozen")
    assert issubclass(_pipeline_params(stage_type), config)

    api = _resolve(api_path)
    target = api.__init__ if inspect.isclass(api) else api
    assert typing.get_type_hints(target)[api_param] is config

    command = _resolve(cli_path)
    registered, prefix = getattr(command, CONFIG_ATTRIBUTE)[cli_param]
    assert registered is config
    options = inspect.signature(command).parameters
    for name, (_, info) in cli_fields(config).items():
        option = options.get(parameter_name(prefix, name))
        if option is not None:  # every exposed field carries the model's own default
            assert option.default.default == (None if info.is_required() else info.default)


def test_pipeline_cli_and_distributed_share_backend():
    """The pipeline's ``backend:`` section, ``--backend/--address/--workers`` and
    :mod:`polyret.distributed` use one class; a CLI option carries its default."""
    from polyret.cli.retrieve_cmd import index
    from polyret.distributed import Backend
    from polyret.distributed.backend import Backend as Declared
    from polyret.pipeline.schema import PipelineConfig

    assert Backend is Declared and issubclass(Declared, BaseModel)
    assert PipelineConfig.model_fields["backend"].annotation is Backend
    registered, prefix = getattr(index, CONFIG_ATTRIBUTE)["backend"]
    assert registered is Backend
    options = inspect.signature(index).parameters
    for name in ("name", "address", "workers"):
        option = options[parameter_name(prefix, name)]
        assert option.default.default == Backend.model_fields[name].default
    assert [options[parameter_name(prefix, "name")].default.param_decls[0]] == ["--backend"]
