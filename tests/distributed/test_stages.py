"""Each heavy stage on a real Ray cluster gives exactly what the local backend gives."""

from __future__ import annotations

import numpy as np
import pytest

from polyret.curate import GenerateConfig
from polyret.distributed import (
    LOCAL,
    EncoderSpec,
    GeneratorSpec,
    RerankerSpec,
    generate,
    index_bm25,
    index_dense,
    mine_negatives,
    rerank,
)
from polyret.distributed.encode import index_dense as encode_dense
from polyret.io import write_trec_run
from polyret.types import TrainingSet

pytestmark = pytest.mark.ray


def _trec(run, path) -> str:
    write_trec_run(run, path)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def small(xquad_r):
    """German, Chinese and Thai sentences (three scripts), 40 of each."""
    corpus = xquad_r.corpus
    ids = [i for lang in ("de", "zh", "th") for i in corpus.filter(lang=lang).ids[:40]]
    return corpus.filter(ids=set(ids))


@pytest.fixture(scope="module")
def test_queries(xquad_r):
    queries, _ = xquad_r.split("test")
    return queries.take(range(0, len(queries), 40))  # ~45 queries, every language


def test_encode_is_bit_identical_and_gives_the_same_run(small, test_queries, ray_backend, tmp_path):
    from polyret.distributed.encoder import RayEncoder
    from polyret.retrieve import Dense, DenseConfig

    spec = EncoderSpec("multilingual-e5-small")
    config = DenseConfig(encode_batch=50)  # 120 documents: three shards
    local = index_dense(Dense(spec(), config), small, spec, LOCAL)
    shards = tmp_path / "shards"
    distributed = encode_dense(Dense(spec(), config), small, spec, ray_backend, work_dir=shards)
    assert sorted(p.name for p in shards.iterdir()) == [f"shard-00000{n}.npy" for n in range(3)]
    got = np.concatenate([np.load(shards / f"shard-00000{n}.npy") for n in range(3)])
    assert got.dtype == np.float32 and got.shape == (120, 384)
    assert np.array_equal(got, local._faiss.reconstruct_n(0, 120))  # the local index's rows
    assert _trec(distributed.search(test_queries, k=10), tmp_path / "ray.trec") == _trec(
        local.search(test_queries, k=10), tmp_path / "local.trec"
    )

    texts = test_queries.texts
    backend = type(ray_backend)("ray", address=ray_backend.address, workers=2, batch_size=20)
    remote = RayEncoder(local.encoder, spec, backend)  # shards of whole local batches
    assert len(remote.plan(texts, local.encoder.query_prefix)) > 1
    assert np.array_equal(remote.encode_queries(texts), local.encoder.encode_queries(texts))


def test_bm25_index_and_runs_are_identical(xquad_r, test_queries, ray_backend, tmp_path):
    from polyret.retrieve import BM25

    local = index_bm25(BM25(), xquad_r.corpus, LOCAL)
    distributed = index_bm25(BM25(), xquad_r.corpus, ray_backend)  # 16 shards of 150
    local.save(tmp_path / "local")
    distributed.save(tmp_path / "ray")
    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*"))
    assert files == sorted(p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray").rglob("*"))
    for file in (f for f in files if (tmp_path / "local" / f).is_file()):
        assert (tmp_path / "local" / file).read_bytes() == (tmp_path / "ray" / file).read_bytes()
    assert _trec(BM25.load(tmp_path / "ray").search(test_queries, k=20), tmp_path / "r") == _trec(
        local.search(test_queries, k=20), tmp_path / "l"
    )


def test_bi_encoder_rerank_is_bit_identical_with_the_int8_encoder(
    small, test_queries, ray_backend, tmp_path
):
    """The packaged int8 encoder: the local batches are encoded by the actors."""
    from polyret.retrieve import BM25

    first = BM25().index(small).search(test_queries, k=8)
    spec = RerankerSpec("bi-encoder", "multilingual-e5-small")
    local = rerank(spec, test_queries, first, small, 5, LOCAL)
    backend = type(ray_backend)("ray", address=ray_backend.address, workers=2, batch_size=60)
    distributed = rerank(spec, test_queries, first, small, 5, backend)
    assert local != first  # the reranker did reorder something
    assert _trec(distributed, tmp_path / "r") == _trec(local, tmp_path / "l")


def test_query_sharded_rerank_keeps_rankings(small, test_queries, ray_backend):
    """Queries in shards of 10: float32 ONNX (``quantize=False``) scores do not depend on
    which texts share a batch up to ~1e-8, so every ranking is kept and every score to
    1e-6 (the int8 path would not be: see docs/scaling.md)."""
    from polyret.distributed.rank import rerank_query_shards
    from polyret.retrieve import BM25

    first = BM25().index(small).search(test_queries, k=8)
    spec = RerankerSpec("bi-encoder", "multilingual-e5-small", {"quantize": False})
    local = rerank(spec, test_queries, first, small, 5, LOCAL)
    backend = type(ray_backend)("ray", address=ray_backend.address, workers=2, batch_size=10)
    distributed = rerank_query_shards(spec, test_queries, first, small, backend, 5)
    assert list(distributed) == list(local) and len(local) == len(first)
    for query_id in local:
        assert list(distributed[query_id]) == list(local[query_id])  # same ranking
        np.testing.assert_allclose(
            list(distributed[query_id].values()), list(local[query_id].values()), atol=1e-6
        )


def _examples(xquad_r, n: int, langs: list[str]) -> TrainingSet:
    queries, qrels = xquad_r.split("dev")
    records = []
    for query in list(queries.filter(lang=langs))[:n]:
        positive = next(iter(qrels[query.id]))
        records.append(
            {"id": query.id, "query": query.text, "lang": query.lang, "positive_id": positive,
             "positive": xquad_r.corpus[positive].text}
        )  # fmt: skip
    return TrainingSet.from_records(records)


def test_mining_is_identical(xquad_r, ray_backend, tmp_path):
    examples = _examples(xquad_r, 60, ["de", "th"])
    corpus = xquad_r.corpus.filter(lang=["de", "th"])
    options = {"k": 30, "num_negatives": 3, "seed": 7}
    local = mine_negatives(examples, corpus, "bm25", "top-k", LOCAL, **options)
    backend = type(ray_backend)("ray", address=ray_backend.address, workers=2, batch_size=25)
    distributed = mine_negatives(examples, corpus, "bm25", "top-k", backend, **options)
    assert local.num_negatives > 0
    assert distributed.table.equals(local.table)
    assert distributed.provenance["mine"] == local.provenance["mine"]
    assert distributed.funnel == local.funnel


def test_generation_is_byte_identical(small, ray_backend, tmp_path):
    options = {"per_doc": 2, "ratio_min": 0.2, "ratio_max": 0.5}
    spec = GeneratorSpec(GenerateConfig(method="crop", options=options, seed=3))
    generate(spec, small, tmp_path / "local", LOCAL, chunk_size=16)
    generate(spec, small, tmp_path / "ray", ray_backend, chunk_size=16)  # 8 chunks
    local_files = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert local_files == sorted(p.name for p in (tmp_path / "ray").iterdir())
    for name in local_files:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    assert not (tmp_path / ".ray.parts").exists()
