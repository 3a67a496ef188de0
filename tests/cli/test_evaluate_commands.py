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
    # systems are labelled by file stem; --baseline still accepts the file name
    assert data["baseline"] == "b" and data["systems"] == ["b", "a"]
    row = next(r for r in data["rows"] if r["system"] == "a")
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
    assert "fr" in result.output
    rows = [line.split("│") for line in result.output.splitlines() if "│ de " in line]
    assert [row[2].strip() for row in rows] == ["a", "b"]  # labelled by file stem


def _stage_runs(files):
    """The two runs as a pipeline writes them: ``stages/<name>-<key12>/run.trec``."""
    paths = []
    for name, source, key in (
        ("bm25", "a.run", "1a2b3c4d5e6f"),
        ("hybrid", "b.run", "0123456789ab"),
    ):
        folder = files / "exp" / "stages" / f"{name}-{key}"
        folder.mkdir(parents=True)
        paths.append(folder / "run.trec")
        paths[-1].write_text((files / source).read_text())
    return paths


def _compare_json(files, *runs, extra=()):
    result = runner.invoke(
        app,
        [
            "compare",
            *map(str, runs),
            *("--qrels", str(files / "qrels.tsv"), "-m", "mrr@10", "--test", "t-test"),
            *("--format", "json", *extra),
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_compare_labels_stage_runs_by_stage_name(files):
    bm25, hybrid = _stage_runs(files)
    data = _compare_json(files, bm25, hybrid)
    assert data["systems"] == ["bm25", "hybrid"]
    row = next(r for r in data["rows"] if r["system"] == "hybrid")
    assert row["delta"] == pytest.approx(1 - (1 / 2 + 1 + 0) / 3)
    # the baseline may be named by its label or by the path given
    assert _compare_json(files, bm25, hybrid, extra=["-b", "hybrid"])["baseline"] == "hybrid"
    assert _compare_json(files, bm25, hybrid, extra=["-b", str(hybrid)])["baseline"] == "hybrid"


def test_compare_takes_explicit_labels(files):
    bm25, hybrid = _stage_runs(files)
    data = _compare_json(files, f"base={bm25}", f"adapted hybrid={hybrid}", files / "a.run")
    assert data["systems"] == ["base", "adapted hybrid", "a"]


def test_compare_refuses_a_missing_run_and_a_repeated_label(files):
    missing = runner.invoke(
        app,
        [
            "compare",
            f"x={files / 'nope.run'}",
            str(files / "a.run"),
            "--qrels",
            str(files / "qrels.tsv"),
        ],
    )
    assert missing.exit_code == 2 and "nope.run" in missing.output and "RUNS" in missing.output
    repeated = runner.invoke(
        app,
        [
            "compare",
            f"x={files / 'a.run'}",
            f"x={files / 'b.run'}",
            "--qrels",
            str(files / "qrels.tsv"),
        ],
    )
    assert isinstance(repeated.exception, InvalidInputError)
    assert "labelled ['x']" in str(repeated.exception)
