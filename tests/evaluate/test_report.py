"""evaluate(): per-language means, query counts, renderings."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from polyret.errors import InvalidInputError
from polyret.evaluate import evaluate
from polyret.types import Queries

RUN = {"q1": {"d1": 1.0}, "q2": {"d2": 1.0}, "q3": {"d3": 2.0, "d1": 1.0}, "q9": {"d1": 1.0}}
QRELS = {"q1": {"d1": 1}, "q2": {"d1": 1}, "q3": {"d1": 1}, "q4": {"d4": 1}}
LANGS = {"q1": "de", "q2": "de", "q3": "sw"}  # q4 has no language: "und"


def test_means_per_language():
    report = evaluate(RUN, QRELS, ["mrr@10", "p@1"], queries=LANGS)
    assert report.by_lang == {
        "de": {"mrr@10": (1 + 0) / 2, "p@1": (1 + 0) / 2},
        "sw": {"mrr@10": 1 / 2, "p@1": 0.0},
        "und": {"mrr@10": 0.0, "p@1": 0.0},
    }
    assert report.mean == {"mrr@10": (1 + 0 + 1 / 2 + 0) / 4, "p@1": 1 / 4}
    assert report.num_queries == {"de": 2, "sw": 1, "und": 1, "all": 4}
    assert report.per_query["q3"] == {"mrr@10": 1 / 2, "p@1": 0.0}


def test_languages_from_queries_object():
    queries = Queries.from_records(
        [{"id": q, "text": "t", "lang": lang} for q, lang in LANGS.items()]
    )
    a = evaluate(RUN, QRELS, ["mrr@10"], queries=queries)
    b = evaluate(RUN, QRELS, ["mrr@10"], queries=LANGS)
    assert a.by_lang == b.by_lang


def test_missing_skip_and_by_none():
    report = evaluate(RUN, QRELS, ["mrr@10"], queries=LANGS, by=None, missing="skip")
    assert report.by_lang == {} and report.num_queries == {"all": 3}
    assert report.mean["mrr@10"] == pytest.approx((1 + 0 + 1 / 2) / 3)


def test_errors():
    with pytest.raises(InvalidInputError, match="no query"):
        evaluate({"q1": {"d1": 1.0}}, {"q2": {"d1": 1}}, ["p@1"], missing="skip")
    with pytest.raises(InvalidInputError, match="by"):
        evaluate(RUN, QRELS, ["p@1"], by="script")  # type: ignore[arg-type]


def test_renderings():
    report = evaluate(RUN, QRELS, ["mrr@10", "p@1"], queries=LANGS)
    data = json.loads(report.to_json(per_query=True))
    assert data["mean"] == report.mean and data["per_query"]["q4"] == {"mrr@10": 0.0, "p@1": 0.0}
    markdown = report.to_markdown()
    assert markdown.splitlines()[0] == "| lang | queries | mrr@10 | p@1 |"
    assert "| all | 4 | 0.3750 | 0.2500 |" in markdown
    buffer = io.StringIO()
    Console(width=100, file=buffer).print(report.to_rich())
    text = buffer.getvalue()
    assert "sw" in text and "all" in text and "0.3750" in text
    table = report.to_arrow()
    assert table.column_names == ["query_id", "lang", "mrr@10", "p@1"] and table.num_rows == 4


def test_report_is_frozen():
    report = evaluate(RUN, QRELS, ["p@1"])
    with pytest.raises(AttributeError):
        report.metrics = ("x",)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        report.scores[0, 0] = 1.0
