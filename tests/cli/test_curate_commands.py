"""`polyret generate` and `polyret filter` end to end, offline and against a local LLM."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from polyret.cli import app
from polyret.curate.summary import funnel_rows
from polyret.errors import InvalidInputError, OutputExistsError
from polyret.io import write_parquet
from polyret.types import Corpus, TrainingSet
from tests.curate.llm_server import FakeLLM
from tests.llm.fake_openai import fake_openai

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_generate_then_filter_offline(tmp_path: Path) -> None:
    out = invoke(
        "generate",
        "xquad-r",
        "--method",
        "ict",
        "--docs-lang",
        "de,zh",
        "-O",
        r"group_by=^(.*)_s\d+$",
        "--out",
        str(tmp_path / "ict"),
    )
    generated = TrainingSet.load(tmp_path / "ict")
    assert set(generated.languages()) == {"de", "zh"} and "ict" in out
    assert generated.provenance["generator"]["group_by"] == r"^(.*)_s\d+$"
    invoke(
        "filter",
        str(tmp_path / "ict"),
        "--filters",
        "length,dedup,consistency",
        "--corpus",
        "xquad-r",
        "-O",
        "consistency.k=20",
        "--out",
        str(tmp_path / "kept"),
    )
    kept = TrainingSet.load(tmp_path / "kept")
    assert 0 < len(kept) < len(generated)
    assert [s.get("filter") for s in kept.funnel] == [None, "length", "dedup", "consistency"]
    assert kept.funnel[-1]["config"]["k"] == 20
    rows = funnel_rows(kept)
    assert sum(row["generated"] for row in rows) == len(generated)
    assert sum(row["consistency"] for row in rows) == len(kept)


def test_bad_options_fail_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unexpected keyword argument 'windo'"):
        runner.invoke(
            app,
            ["generate", "xquad-r", "-m", "ict", "-O", "windo=2", "--out", str(tmp_path / "x")],
            catch_exceptions=False,
        )
    with pytest.raises(InvalidInputError, match="KEY=VALUE"):
        runner.invoke(
            app,
            ["generate", "xquad-r", "-m", "crop", "-O", "ratio", "--out", str(tmp_path / "x")],
            catch_exceptions=False,
        )
    (tmp_path / "exists").mkdir()
    with pytest.raises(OutputExistsError):
        runner.invoke(
            app,
            ["generate", "xquad-r", "-m", "crop", "--out", str(tmp_path / "exists")],
            catch_exceptions=False,
        )


def test_generate_swim_ir_against_an_http_llm(xquad_r, tmp_path: Path) -> None:
    corpus = Corpus.from_records(
        [doc for lang in ("de", "es") for doc in xquad_r.corpus.filter(lang=lang).take(range(3))]
    )
    write_parquet(corpus, tmp_path / "tiny.parquet")
    with fake_openai(FakeLLM(corpus)) as server:
        invoke(
            "generate",
            str(tmp_path / "tiny.parquet"),
            "--method",
            "swim-ir",
            "--llm",
            server.url,
            "--model",
            "m",
            "--langs",
            "en",
            "--cache",
            str(tmp_path / "llm.sqlite"),
            "--out",
            str(tmp_path / "swim"),
            "--chunk-size",
            "2",
        )
        calls = server.calls
    examples = TrainingSet.load(tmp_path / "swim")
    assert len(examples) == len(corpus) and set(examples.column("lang")) == {"en"}
    assert set(examples.column("positive_lang")) == {"de", "es"}
    assert calls == 2 * len(corpus)  # one summary and one question per passage
