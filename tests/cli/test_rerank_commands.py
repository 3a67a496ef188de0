"""``polyret rerank`` end to end on the embedded collection (hashing encoder: fast)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import polyret.cli.rerank_cmd  # noqa: F401  (registers the command until cli/__init__ does)
from polyret.cli.app import app
from polyret.io import read_trec_run, write_trec_run
from polyret.types import Run


def test_rerank_command_writes_a_complete_run(tmp_path: Path, xquad_r):
    queries, _ = xquad_r.split("dev")
    ids = xquad_r.corpus.ids
    first = Run.from_dict({q: {ids[i]: 30.0 - i for i in range(30)} for q in queries.ids[:5]})
    write_trec_run(first, tmp_path / "first.trec")
    args = [
        "rerank",
        str(tmp_path / "first.trec"),
        "--corpus",
        "xquad-r",
        "--queries",
        "xquad-r",
        "--split",
        "dev",
        "--model",
        "hashing",
        "-k",
        "10",
        "--cache",
        str(tmp_path / "scores.sqlite"),
        "--out",
        str(tmp_path / "re.trec"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = read_trec_run(tmp_path / "re.trec")
    assert len(out) == 5 and all(sorted(out[q]) == sorted(first[q]) for q in first)
    assert all(list(out[q])[10:] == list(first[q])[10:] for q in first)
    assert (tmp_path / "scores.sqlite").is_file()


def test_llm_method_without_endpoint_fails_clearly(tmp_path: Path):
    write_trec_run(Run.from_dict({"q": {"d": 1.0}}), tmp_path / "r.trec")
    result = CliRunner().invoke(
        app,
        [
            "rerank",
            str(tmp_path / "r.trec"),
            "--corpus",
            "xquad-r",
            "--queries",
            "xquad-r",
            "--method",
            "llm-listwise",
            "--out",
            str(tmp_path / "o.trec"),
        ],
    )
    assert result.exit_code != 0 and "base-url" in str(result.exception)
