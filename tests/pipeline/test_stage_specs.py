"""One declaration per stage type: the :data:`STAGE_SPECS` table builds the stage models, the
``Stage`` union, the params classes and the adapter registry."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

from polyret.pipeline import load_config, stage_types
from polyret.pipeline.schema import STAGE_MODELS, STAGE_SPECS, FilterParams, params_model
from polyret.registry import import_target
from tests.pipeline.conftest import small_config, write_yaml


def test_each_stage_model_is_its_spec():
    assert [model.spec for model in STAGE_MODELS] == list(STAGE_SPECS.values())
    for model in STAGE_MODELS:
        spec = model.spec
        assert typing.get_args(model.model_fields["type"].annotation) == (spec.type,)
        assert model.model_fields["inputs"].annotation is spec.inputs
        assert model.__doc__ == spec.doc
    assert {"AdaptStage", "IndexBM25Stage", "IndexDenseStage"} <= {m.__name__ for m in STAGE_MODELS}


def test_the_adapter_registry_and_its_signatures_follow_the_table():
    assert set(stage_types.names()) == set(STAGE_SPECS)
    for spec in STAGE_SPECS.values():
        adapter = stage_types.get(spec.type)
        assert adapter is import_target(spec.adapter)
        # the adapter's ``stage: StageBase[Inputs, Params]`` names the table's models
        annotation = str(inspect.signature(adapter).parameters["stage"].annotation)
        inputs, params = annotation.removeprefix("StageBase[").removesuffix("]").split(", ")
        names = vars(sys.modules[adapter.__module__])
        assert names[inputs] is spec.inputs, (spec.type, annotation)
        if isinstance(spec.params, str):  # imported for type checking only
            assert spec.params.rpartition(":")[2] in params.split(" | "), (spec.type, params)
        else:
            assert names[params] is spec.params, (spec.type, annotation)


def test_a_stage_whose_params_all_have_defaults_may_omit_them(tmp_path):
    config = small_config()
    kept = next(stage for stage in config["stages"] if stage["name"] == "kept")
    del kept["params"]
    loaded = load_config(write_yaml(tmp_path / "pipeline.yaml", config))
    assert loaded.stage("kept").params == FilterParams()  # the default filter chain
    assert loaded.stage("kept").params.filters


def test_training_params_are_imported_only_when_asked_for():
    code = (
        "import sys\n"
        "from polyret.pipeline.schema import STAGE_MODELS, params_model\n"
        "assert 'polyret.pipeline.train_params' not in sys.modules\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert params_model("train-bi-encoder").__name__ == "TrainBiEncoderParams"
    assert params_model("index-bm25") is STAGE_SPECS["index-bm25"].params
