"""``polyret mine`` end to end through typer's runner, on the embedded collection."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from polyret.cli import app
from polyret.errors import OutputExistsError, UnknownNameError
from polyret.io import write_trec_run
from polyret.types import TrainingSet
from tests.mine.conftest import bm25_run, dev_pairs  # noqa: F401  (session fixtures)

runner = CliRunner()


def test_mine_a_collection_split_from_a_trec_run(tmp_path, bm25_run, dev_pairs):  # noqa: F811
    write_trec_run(bm25_run, tmp_path / "bm25.trec")
    args = ["mine", "xquad-r", "--split", "dev", "--retriever", str(tmp_path / "bm25.trec")]
    args += ["--strategy", "sfr", "--num-negatives", "3", "--seed", "4", "--out"]
    result = runner.invoke(app, [*args, str(tmp_path / "mined")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "→" in result.output
    mined = TrainingSet.load(tmp_path / "mined")
    assert mined.num_negatives == 3 and len(mined) > 250
    assert set(mined.ids) <= set(dev_pairs.ids)
    assert all(30 <= r <= 100 for ex in mined for r in ex.negative_ranks)
    mine = mined.provenance["mine"]
    assert (mine["strategy"], mine["config"]["seed"], mine["k"]) == ("sfr", 4, 101)
    # the training set it wrote is an input too; the output folder is never overwritten
    again = ["mine", str(tmp_path / "mined"), "--corpus", "xquad-r", "--retriever"]
    again += [str(tmp_path / "bm25.trec"), "--strategy", "top-k", "--keep-short", "--out"]
    result = runner.invoke(app, [*again, str(tmp_path / "top")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(TrainingSet.load(tmp_path / "top")) == len(mined)
    with pytest.raises(OutputExistsError):
        runner.invoke(app, [*again, str(tmp_path / "top")], catch_exceptions=False)


def test_an_unknown_strategy_fails_before_retrieval(tmp_path):
    args = ["mine", "xquad-r", "--split", "dev", "--strategy", "nvretriever", "--out"]
    with pytest.raises(UnknownNameError, match="nv-retriever"):
        runner.invoke(app, [*args, str(tmp_path / "x")], catch_exceptions=False)
