"""``polyret evaluate`` and ``polyret compare`` on files written to tmp_path."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import polyret.cli.evaluate_cmd  # noqa: F401  (registers the commands)
from polyret.cli.app import app
from polyret.errors import InvalidInputError

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "a.run").write_text(
        "q1 Q0 d1 1 2.0 a\nq1 Q0 d2 2 1.0 a\nq2 Q0 d3 1 1.0 a\nq3 Q0 d1 1 1.0 a\n"
    )
    (tmp_path / "b.run").write_text(
        "q1 Q0 d2 1 2.0 b\nq1 Q0 d1 2 1.0 b\nq2 Q0 d3 1 1.0 b\nq3 Q0 d4 1 1.0 b\n"
    )
    (tmp_path / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t1\nq3\td4\t2\n"
    )
    (tmp_path / "qrels.trec").write_text("q1 0 d2 1\nq2 0 d3 1\nq3 0 d4 2\n")
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "x", "lang": "de"}\n{"_id": "q2", "text": "y", "lang": "fr"}\n'
        '{"_id": "q3", "text": "z", "lang": "fr"}\n'
    )
    return tmp_path


def test_evaluate_json(files):
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(files / "a.run"),
            str(files / "qrels.tsv"),
            "--metrics",
            "mrr@10,P@1",
            "--queries",
            str(files / "queries.jsonl"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mean"] == {"mrr@10": (1 / 2 + 1 + 0) / 3, "p@1": 1 / 3}
    assert data["by_lang"]["fr"] == {"mrr@10": 1 / 2, "p@1": 1 / 2}


def test_evaluate_table_markdown_and_out(files):
    args = ["evaluate", str(files / "a.run"), str(files / "qrels.trec"), "-m", "ndcg@10"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "ndcg@10" in table.output and "und" in table.output
    out = files / "report.md"
    written = runner.invoke(app, [*args, "--by", "none", "--format", "markdown", "--out", str(out)])
    assert written.exit_code == 0 and written.output == ""
    assert out.read_text().splitlines()[-1].startswith("| all | 3 |")


def test_evaluate_bad_metric(files):
    result = runner.invoke(
        app, ["evaluate", str(files / "a.run"), str(files / "qrels.tsv"), "-m", "bleu@4"]
    )
    assert result.exit_code != 0 and isinstance(result.exception, InvalidInputError)


def test_compare(files):
    result = runner.invoke(
        app,
        [
            "compare",
            str(files / "a.run"),
            str(files / "b.run"),
            "--qrels",
            str(files / "qrels.tsv"),
            "-m",
            "mrr@10",
            "--baseline",
            "b.run",
            "--test",
            "t-test",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["baseline"] == "b.run" and data["systems"] == ["b.run", "a.run"]
    row = next(r for r in data["rows"] if r["system"] == "a.run")
    assert row["delta"] == pytest.approx((1 / 2 + 1 + 0) / 3 - 1)


def test_compare_table_by_lang(files):
    result = runner.invoke(
        app,
        [
            "compare",
            str(files / "a.run"),
            str(files / "b.run"),
            "--qrels",
            str(files / "qrels.tsv"),
            "-m",
            "mrr@10",
            "-q",
            str(files / "queries.jsonl"),
            "--by",
            "lang",
            "--permutations",
            "200",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "fr" in result.output and "b.run" in result.output
