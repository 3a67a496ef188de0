"""TrainingSet: validation, views, persistence and the sentence-transformers layout."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from polyret.errors import InvalidInputError, OutputExistsError
from polyret.types import TrainingSet


def _examples() -> TrainingSet:
    return TrainingSet.from_records(
        [
            {
                "id": "e1",
                "query": "Wo fließt der Rhein?",
                "lang": "de",
                "positive_id": "d1",
                "positive": "Der Rhein fließt nach Norden.",
                "negative_ids": ["d2", "d3"],
                "negatives": ["Die Elbe.", "Die Donau."],
                "negative_scores": [2.5, 1.0],
                "negative_ranks": [2, 5],
                "meta": {"task": "qa"},
            },
            {
                "id": "e2",
                "query": "长江在哪里？",
                "lang": "zh",
                "positive": "长江是中国最长的河流。",
                "negative_ids": ["d9"],
                "negatives": ["黄河。"],
            },
        ],
        provenance={"generator": {"method": "test"}},
    )


def test_records_defaults_and_views() -> None:
    examples = _examples()
    assert len(examples) == 2 and examples.ids == ["e1", "e2"]
    assert examples["e2"].positive_id == "" and examples["e2"].lang == "zh"
    assert json.loads(examples["e1"].meta) == {"task": "qa"}
    assert examples.num_negatives == 1
    assert examples.languages() == {"de": 1, "zh": 1}
    assert examples.queries()["e1"].text == "Wo fließt der Rhein?"
    # e2's positive is no corpus document: it has no qrel
    assert dict(examples.qrels()) == {"e1": {"d1": 1}}


def test_sentence_transformers_layout() -> None:
    table = _examples().to_sentence_transformers()
    assert table.column_names == ["anchor", "positive", "negative_1"]
    assert table.column("negative_1").to_pylist() == ["Die Elbe.", "黄河。"]
    with pytest.raises(InvalidInputError, match="some rows have 1"):
        _examples().to_sentence_transformers(2)


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{"id": "a", "query": "", "positive": "p"}], "query"),
        ([{"id": "a", "query": "q"}], "positive"),
        ([{"id": "a", "query": "q", "positive": "p"}] * 2, "id"),
    ],
)
def test_invalid_rows_name_the_field(rows: list[dict[str, str]], field: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        TrainingSet.from_records(rows)
    assert error.value.field == field


def test_filter_keeps_provenance_and_records_the_step() -> None:
    kept = _examples().filter([True, False], {"step": "filter", "filter": "x", "kept": 1})
    assert kept.ids == ["e1"] and kept.provenance == {"generator": {"method": "test"}}
    assert kept.funnel == [{"step": "filter", "filter": "x", "kept": 1}]


def test_concat_joins_funnels_and_lists_provenance() -> None:
    a = _examples().with_step({"step": "generate", "method": "a"})
    b = TrainingSet.from_records([{"id": "x", "query": "q", "positive": "p"}]).with_step(
        {"step": "generate", "method": "b"}
    )
    both = TrainingSet.concat([a, b])
    assert both.ids == ["e1", "e2", "x"]
    assert [s["method"] for s in both.funnel] == ["a", "b"]
    assert len(both.provenance["parts"]) == 2
    with pytest.raises(InvalidInputError, match="duplicate id 'x'"):
        TrainingSet.concat([b, b])


def test_save_load_round_trip(tmp_path) -> None:
    examples = _examples().with_step({"step": "generate", "kept": 2})
    examples.save(tmp_path / "ts")
    loaded = TrainingSet.load(tmp_path / "ts")
    assert loaded == examples
    assert loaded.provenance == examples.provenance and loaded.funnel == examples.funnel
    with pytest.raises(OutputExistsError):
        examples.save(tmp_path / "ts")
    examples.to_jsonl(tmp_path / "ts.jsonl")
    assert TrainingSet.load(tmp_path / "ts.jsonl") == examples


def test_jsonl_errors_name_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "query": "q", "positive": "p"}\n{"id": "b", "query": "q"}\n')
    with pytest.raises(InvalidInputError) as error:
        TrainingSet.load(path)
    assert (error.value.line, error.value.field) == (2, "positive")
    assert str(path) in str(error.value)


def test_wrong_column_type_is_refused() -> None:
    table = pa.table({"id": ["a"], "query": ["q"], "positive": ["p"], "negative_ranks": [["x"]]})
    with pytest.raises(InvalidInputError) as error:
        TrainingSet(table)
    assert error.value.field == "negative_ranks"
