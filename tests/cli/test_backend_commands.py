"""``--backend ray --address ...`` on the CLI commands: the same files as ``--backend local``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from polyret.cli import app

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _same_folders(a, b) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for file in files:
        assert (a / file).read_bytes() == (b / file).read_bytes(), file


@pytest.mark.ray
def test_index_and_rerank_with_backend_ray(ray_cluster, tmp_path):
    ray = ["--backend", "ray", "--address", ray_cluster, "--workers", "2"]
    invoke("index", "xquad-r", "--out", str(tmp_path / "local"))
    invoke("index", "xquad-r", "--out", str(tmp_path / "ray"), *ray)
    _same_folders(tmp_path / "local", tmp_path / "ray")

    bm25 = tmp_path / "bm25.trec"
    search = ["search", str(tmp_path / "local"), "xquad-r", "--split", "dev", "-k", "10"]
    invoke(*search, "--out", str(bm25))
    for backend in (["--backend", "local"], ray):
        out = tmp_path / f"{backend[1]}.trec"
        common = ["--corpus", "xquad-r", "--queries", "xquad-r", "--split", "dev"]
        common += ["--model", "hashing", "-k", "5"]
        invoke("rerank", str(bm25), *common, "--out", str(out), *backend)
    assert (tmp_path / "ray.trec").read_text() == (tmp_path / "local.trec").read_text()
    assert (tmp_path / "ray.trec").read_text() != bm25.read_text()


def test_unknown_backend_is_refused(tmp_path):
    result = runner.invoke(
        app, ["index", "xquad-r", "--out", str(tmp_path / "x"), "--backend", "spark"]
    )
    assert result.exit_code != 0
    assert "unknown backend 'spark'" in str(result.exception) + result.output
