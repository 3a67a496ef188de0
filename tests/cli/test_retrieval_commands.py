"""The retrieval commands end to end on the embedded collection, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from polyret.cli import app
from polyret.datasets import list_datasets
from polyret.io import read_trec_run

runner = CliRunner()
XQUAD = next(i for i in list_datasets() if i.name == "xquad-r").path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def dev_runs(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli")
    invoke("index", str(XQUAD / "corpus.jsonl"), "--out", str(tmp / "stem"))
    invoke("index", "xquad-r", "--out", str(tmp / "raw"), "--lang", "und")
    for name in ("stem", "raw"):
        invoke(
            "search",
            str(tmp / name),
            "xquad-r",
            "--split",
            "dev",
            "-k",
            "50",
            "--out",
            str(tmp / f"{name}.trec"),
        )
    return tmp / "stem.trec", tmp / "raw.trec"


def test_search_writes_a_ranked_trec_run(dev_runs):
    run = read_trec_run(dev_runs[0])
    assert len(run) > 370 and max(run.counts()) == 50


def test_tune_fusion_then_fuse(dev_runs, tmp_path):
    qrels = str(XQUAD / "qrels" / "dev.tsv")
    invoke(
        "tune-fusion",
        *map(str, dev_runs),
        "--qrels",
        qrels,
        "--step",
        "0.5",
        "--out",
        str(tmp_path / "best.json"),
    )
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["settings_tried"] == 3 and sum(best["weights"]) == pytest.approx(1)
    weights = ",".join(str(w) for w in best["weights"])
    invoke(
        "fuse",
        *map(str, dev_runs),
        "--method",
        "interpolation",
        "--weights",
        weights,
        "-k",
        "10",
        "--out",
        str(tmp_path / "fused.trec"),
    )
    output = invoke(
        "evaluate", str(tmp_path / "fused.trec"), qrels, "--format", "json", "--metrics", "ndcg@10"
    )
    assert json.loads(output)["mean"]["ndcg@10"] == pytest.approx(best["score"])


def test_index_refuses_to_overwrite(dev_runs, tmp_path):
    (tmp_path / "exists").mkdir()
    result = runner.invoke(app, ["index", "xquad-r", "--out", str(tmp_path / "exists")])
    assert result.exit_code != 0 and "already exists" in str(result.exception)


def test_dense_index_hybrid_search_and_encode(tmp_path):
    invoke("index", "xquad-r", "--dense", "hashing", "--out", str(tmp_path / "dense"))
    invoke("index", "xquad-r", "--out", str(tmp_path / "bm25"))
    invoke(
        "search",
        str(tmp_path / "bm25"),
        "xquad-r",
        "--with",
        str(tmp_path / "dense"),
        "--split",
        "dev",
        "-k",
        "20",
        "--out",
        str(tmp_path / "hybrid.trec"),
    )
    hybrid = read_trec_run(tmp_path / "hybrid.trec")
    assert len(hybrid) == 378 and max(hybrid.counts()) == 20
    invoke(
        "encode",
        "xquad-r",
        "--model",
        "hashing",
        "--kind",
        "queries",
        "--dim",
        "32",
        "--out",
        str(tmp_path / "emb"),
    )
    vectors = np.load(tmp_path / "emb" / "embeddings.npy", mmap_mode="r")
    ids = json.loads((tmp_path / "emb" / "ids.json").read_text())
    assert vectors.shape == (len(ids), 32) and len(ids) == 2187
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_options_come_from_the_configs_and_are_saved(tmp_path):
    """``polyret index`` options build the BM25Config that the index folder records."""
    from polyret.io.artifact import read_meta
    from polyret.retrieve import BM25Config

    out = tmp_path / "bm25"
    invoke("index", "xquad-r", "--out", str(out), "--k1", "1.2", "--variant", "bm25+")
    config = BM25Config(k1=1.2, variant="bm25+")
    assert read_meta(out)["config"] == config.model_dump(mode="json")
    result = runner.invoke(app, ["index", "xquad-r", "--out", str(tmp_path / "x"), "--b", "2"])
    assert result.exit_code != 0 and "need 0 <= b <= 1" in str(result.exception)
    result = runner.invoke(
        app, ["fuse", str(out), str(out), "--out", str(tmp_path / "f"), "--normalization", "l2"]
    )
    assert "unknown normalization 'l2'" in str(result.exception)


def test_datasets_export_is_the_dataset_stage(tmp_path):
    from polyret.datasets import DatasetConfig, load, prepare

    invoke(
        "datasets", "export", "xquad-r", "--langs", "de,zh", "--max-queries", "5",
        "--out", str(tmp_path / "cut"),
    )  # fmt: skip
    exported = load(str(tmp_path / "cut"))
    expected = prepare(DatasetConfig(source="xquad-r", langs=["de", "zh"], max_queries=5))
    assert set(exported.corpus.languages()) == {"de", "zh"}
    assert exported.queries.ids == expected.queries.ids
    assert {s: len(q) for s, q in exported.qrels.items()} == {"dev": 10, "test": 10}
