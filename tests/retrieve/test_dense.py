from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from polyret.encode import load_encoder
from polyret.errors import InvalidInputError, OutputExistsError
from polyret.evaluate import evaluate
from polyret.retrieve import BM25, Dense, DenseConfig, fuse
from polyret.types import Corpus, Queries

CORPUS = Corpus.from_records(
    [
        {"id": "rhein", "text": "Der Rhein fließt nach Norden.", "lang": "de"},
        {"id": "nil", "text": "نهر النيل أطول نهر في أفريقيا.", "lang": "ar"},
        {"id": "chang", "text": "长江是中国最长的河流。", "lang": "zh"},
        {"id": "empty", "text": "", "lang": "en"},
    ]
)


@pytest.fixture(scope="module")
def hashed():
    return Dense("hashing", dim=64).index(CORPUS)


def test_save_load_round_trip(tmp_path: Path, hashed):
    hashed.save(tmp_path / "dense")
    loaded = Dense.load(tmp_path / "dense")
    queries = Queries.from_dict({"q": "Der Rhein", "empty": ""})
    assert loaded.search(queries, k=4) == hashed.search(queries, k=4)
    with pytest.raises(OutputExistsError):
        hashed.save(tmp_path / "dense")


def test_index_built_with_another_model_is_refused(tmp_path: Path, hashed):
    hashed.save(tmp_path / "dense")
    with pytest.raises(InvalidInputError, match="built with encoder 'hashing'"):
        Dense.load(tmp_path / "dense", encoder=load_encoder("hashing", dim=64, query_prefix="q: "))


def test_mismatched_dimensions_and_nan_embeddings(hashed):
    with pytest.raises(InvalidInputError, match=r"shape \(1, 32\), expected \[n, 64\]"):
        hashed.search_embeddings(["q"], np.ones((1, 32), dtype=np.float32))
    bad = np.ones((2, 64), dtype=np.float32)
    bad[1, 3] = np.nan
    with pytest.raises(InvalidInputError, match="query embedding 1 contains NaN"):
        hashed.search_embeddings(["a", "b"], bad)
    with pytest.raises(InvalidInputError, match="2 document ids for 1 embeddings"):
        Dense("hashing", dim=64).index_embeddings(["a", "b"], np.ones((1, 64)))


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_indexes_find_the_exact_neighbours(kind):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"d{i}" for i in range(len(vectors))]
    exact = Dense("hashing", dim=64).index_embeddings(ids, vectors)
    approx = Dense("hashing", DenseConfig(index=kind, nprobe=32), dim=64).index_embeddings(
        ids, vectors
    )
    queries = vectors[:50] + 0.05 * rng.normal(size=(50, 64)).astype(np.float32)
    top_exact = exact.search_embeddings(ids[:50], queries, k=1).topk(1)[0]
    top_approx = approx.search_embeddings(ids[:50], queries, k=1).topk(1)[0]
    assert (top_exact == top_approx).mean() >= 0.9


def test_default_encoder_hybrid_beats_both_inputs(xquad_r, fast_encoder):
    dense = Dense(fast_encoder).index(xquad_r.corpus)
    queries, qrels = xquad_r.split("test")
    dense_run = dense.search(queries, k=100)
    bm25_run = BM25().index(xquad_r.corpus).search(queries, k=100)
    ndcg = {
        name: evaluate(run, qrels, ["ndcg@10"], by=None).mean["ndcg@10"]
        for name, run in {
            "bm25": bm25_run,
            "dense": dense_run,
            "hybrid": fuse([bm25_run, dense_run], "rrf"),
        }.items()
    }
    # measured: bm25 0.789, dense 0.830, rrf 0.837
    assert ndcg["dense"] > 0.8
    assert ndcg["hybrid"] > max(ndcg["bm25"], ndcg["dense"])


def test_unknown_model_name_fails_clearly_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InvalidInputError, match="cannot load encoder 'no-such-model-xyz'"):
        Dense("no-such-model-xyz")
