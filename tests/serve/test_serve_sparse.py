"""The search service over a run with a learned-sparse index beside BM25 and dense: a real
pipeline run over the German part of the embedded xquad-r (~260 sentences; the packaged
multilingual-e5-small for the dense index, the BGE-M3-format folder built from it, with a
fresh sparse head, for the sparse one), served by uvicorn on 127.0.0.1.

The head is untrained, so these tests check that every answer is the retrievers' own, not
sparse quality."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.serve

from polyret.models.catalogue import DEFAULT_MODEL  # noqa: E402
from polyret.retrieve import LearnedSparse, fuse  # noqa: E402
from polyret.serve import SearchRequest, SearchService, create_app, load_served  # noqa: E402
from polyret.types import Queries, Run  # noqa: E402
from tests.serve.test_serve import Server, pairs, search  # noqa: E402

# The fuse stage lists its runs in another order than the requests name the indexes.
STAGE_WEIGHTS = {"bm25-index": 0.2, "sparse-index": 0.3, "dense-index": 0.5}


def _config(m3_folder: Path, polyret_cache: Path) -> dict[str, Any]:
    options = {"cache_dir": str(polyret_cache), "threads": 2}
    retrieve = [
        {"name": kind, "type": "retrieve", "inputs": {"index": f"{kind}-index"},
         "params": {"splits": ["dev"], "k": 50}}
        for kind in ("bm25", "sparse", "dense")
    ]  # fmt: skip
    return {
        "name": "serve-sparse-test",
        "seed": 0,
        "stages": [
            {
                "name": "data",
                "type": "dataset",
                "params": {"source": "xquad-r", "langs": ["de"], "max_queries": 4},
            },
            {"name": "bm25-index", "type": "index-bm25"},
            {"name": "dense-index", "type": "index-dense", "params": {"encoder": DEFAULT_MODEL}},
            {
                "name": "sparse-index",
                "type": "index-sparse",
                "params": {"encoder": str(m3_folder), "encoder_options": options},
            },
            *retrieve,
            {
                "name": "three",
                "type": "fuse",
                "inputs": {"runs": ["bm25", "sparse", "dense"]},
                "params": {"method": "interpolation", "weights": [0.2, 0.3, 0.5]},
            },
        ],
    }


# fixtures -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, m3_folder: Path, polyret_cache: Path):
    """The run, built once for the module (each index over the same German corpus)."""
    from polyret.pipeline import load_config, run_pipeline

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLYRET_CACHE", str(polyret_cache))  # the dense encoder by name
        folder = tmp_path_factory.mktemp("serve-sparse") / "run"
        run_pipeline(load_config(_config(m3_folder, polyret_cache)), folder, report=False)
        yield folder


@pytest.fixture(scope="module")
def service(run_dir: Path, polyret_cache: Path) -> SearchService:
    """Not warmed up: the first sparse requests create the token encoder's session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLYRET_CACHE", str(polyret_cache))
        return SearchService(load_served(run_dir))


@pytest.fixture(scope="module")
def client(service: SearchService):
    with Server(create_app(service)) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def query(xquad_r) -> Queries:
    """A German test question of the collection."""
    queries, _ = xquad_r.split("test")
    return queries.filter(ids=["de_56bf3fd53aeaaa14008c9592"])


def _ranked(run: Run, query: Queries) -> list[str]:
    return list(run[query.ids[0]])


# tests --------------------------------------------------------------------------------------------
def test_the_run_serves_the_sparse_index_and_its_fusion(service, client, m3_folder):
    kinds = {name: index.kind for name, index in service.indexes.items()}
    assert kinds == {"bm25-index": "bm25", "dense-index": "dense", "sparse-index": "sparse"}
    assert client.get("/health").json()["modes"] == ["bm25", "dense", "sparse", "hybrid", "rerank"]
    described = client.get("/indexes").json()
    info = {i["name"]: i for i in described["indexes"]}["sparse-index"]
    assert info["kind"] == "sparse" and info["documents"] == len(service.served.corpus)
    assert Path(info["encoder"]).resolve() == m3_folder.resolve()
    # the three-way fuse stage is listed; the hybrid defaults stay BM25 + dense by RRF
    (fusion,) = described["defaults"]["fusions"]
    assert fusion["stage"] == "three" and fusion["fusion"] == "interpolation"
    assert dict(zip(fusion["indexes"], fusion["weights"], strict=True)) == STAGE_WEIGHTS
    defaults = described["defaults"]
    assert (defaults["bm25"], defaults["dense"], defaults["fusion"]) == (
        "bm25-index",
        "dense-index",
        "rrf",
    )
    assert defaults["fuse_stage"] is None and defaults["weights"] == [1.0, 1.0]


def test_concurrent_sparse_requests_get_the_retrievers_own_hits(client, run_dir, query):
    direct = LearnedSparse.load(next(run_dir.glob("stages/sparse-index-*"))).search(query, k=10)
    expected = list(direct[query.ids[0]].items())
    assert len(expected) >= 3  # documents sharing no weighted token with the query are not hits
    body = {"query": query.texts[0], "lang": "de", "mode": "sparse", "k": 10}
    answers: list[dict[str, Any]] = []

    def ask() -> None:  # the first requests race to create the token encoder's session
        answers.append(search(client, **body))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 3
    for answer in answers:
        assert answer["indexes"] == ["sparse-index"] and "sparse" in answer["timing_ms"]
        assert [h["rank"] for h in answer["hits"]] == list(range(1, len(expected) + 1))
        assert [d for d, _ in pairs(answer["hits"])] == [d for d, _ in expected]
        scores = [s for _, s in pairs(answer["hits"])]
        assert scores == pytest.approx([s for _, s in expected], rel=1e-6)


def test_hybrid_by_default_still_fuses_bm25_and_dense(client, service, query):
    runs = [service.indexes[n].retriever.search(query, k=50) for n in ("bm25-index", "dense-index")]
    answer = search(client, query=query.texts[0], lang="de", k=10, depth=50)
    assert answer["mode"] == "hybrid" and answer["indexes"] == ["bm25-index", "dense-index"]
    assert [h["doc_id"] for h in answer["hits"]] == _ranked(fuse(runs, "rrf", k=10), query)


def test_hybrid_fuses_named_indexes_with_the_fuse_stage_weights(client, service, query):
    names = ["dense-index", "bm25-index", "sparse-index"]
    runs = [service.indexes[n].retriever.search(query, k=50) for n in names]
    weights = [STAGE_WEIGHTS[n] for n in names]
    direct = fuse(runs, "interpolation", weights=weights, k=10)
    answer = search(client, query=query.texts[0], lang="de", k=10, depth=50, indexes=names)
    assert answer["indexes"] == names
    assert {"bm25", "dense", "sparse", "fuse"} <= set(answer["timing_ms"])
    assert [h["doc_id"] for h in answer["hits"]] == _ranked(direct, query)
    fused = [s for _, s in pairs(answer["hits"])]
    assert fused == pytest.approx(list(direct[query.ids[0]].values()), abs=1e-6)


def test_named_indexes_no_stage_fused_take_rrf_or_the_requests_weights(client, service, query):
    names = ["sparse-index", "bm25-index"]
    runs = [service.indexes[n].retriever.search(query, k=50) for n in names]
    equal = search(client, query=query.texts[0], lang="de", k=10, depth=50, indexes=names)
    assert [h["doc_id"] for h in equal["hits"]] == _ranked(fuse(runs, "rrf", k=10), query)
    sparse_only = search(
        client, query=query.texts[0], lang="de", k=10, depth=50, indexes=names, weights=[1, 0],
    )  # fmt: skip
    ranked = [h["doc_id"] for h in sparse_only["hits"]]
    assert ranked == _ranked(fuse(runs, "rrf", weights=[1, 0], k=10), query)
    sparse = _ranked(runs[0], query)[:10]  # BM25's documents follow, weighed 0
    assert ranked[: len(sparse)] == sparse


def test_rerank_over_named_indexes_and_over_the_sparse_index_alone(client, query):
    fused = search(
        client, query=query.texts[0], lang="de", mode="rerank", k=5, rerank_depth=5,
        indexes=["bm25-index", "sparse-index"],
    )  # fmt: skip
    assert fused["indexes"] == ["bm25-index", "sparse-index"] and "rerank" in fused["timing_ms"]
    first = search(client, query=query.texts[0], lang="de", mode="sparse", k=5)
    alone = search(
        client, query=query.texts[0], lang="de", mode="rerank", index="sparse-index", k=5,
        rerank_depth=5,
    )  # fmt: skip
    assert alone["indexes"] == ["sparse-index"]
    assert sorted(h["doc_id"] for h in alone["hits"]) == sorted(h["doc_id"] for h in first["hits"])


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"mode": "sparse", "index": "bm25-index"},
            422,
            "index 'bm25-index' is a bm25 index; mode 'sparse' needs a sparse index (sparse-index)",
        ),
        (
            {"mode": "hybrid", "index": "sparse-index"},
            422,
            "index 'sparse-index' is a sparse index; mode 'hybrid' fuses a BM25 and a dense "
            "index (bm25-index, dense-index), or the indexes named in 'indexes'",
        ),
        ({"indexes": ["bm25-index", "sparse-indx"]}, 404, "Did you mean 'sparse-index'"),
        (
            {"indexes": ["bm25-index", "sparse-index"], "weights": [1, 1, 1]},
            422,
            "3 weights for 2 indexes",
        ),
        ({"weights": [1, 1, 1]}, 422, "3 weights for the 2 default indexes (BM25, dense)"),
        ({"indexes": ["sparse-index"]}, 422, "body.indexes: List should have at least 2 items"),
        ({"indexes": ["sparse-index", "sparse-index"]}, 422, "an index is named twice"),
        (
            {"mode": "sparse", "indexes": ["bm25-index", "sparse-index"]},
            422,
            "'indexes' names what mode 'hybrid' or 'rerank' fuses, not 'sparse'",
        ),
        (
            {"index": "bm25-index", "indexes": ["bm25-index", "sparse-index"]},
            422,
            "give 'index' (one member) or 'indexes' (every member), not both",
        ),
    ],
    ids=[
        "bm25-for-sparse",
        "sparse-in-hybrid",
        "typo",
        "weights-for-indexes",
        "weights-for-defaults",
        "one-index",
        "twice",
        "indexes-in-sparse-mode",
        "index-and-indexes",
    ],
)
def test_a_wrong_mode_and_index_pair_is_a_clear_error(client, body, status, message):
    response = client.post("/search", json={"query": "Wer?", "lang": "de", **body})
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_without_a_sparse_index_the_sparse_mode_is_a_clear_error(run_dir):
    folder = next(run_dir.glob("stages/bm25-index-*"))
    service = SearchService(load_served(folder, rerank=False))
    assert service.modes == ["bm25"]
    with Server(create_app(service)) as server, httpx.Client(base_url=server.url) as client:
        missing = client.post("/search", json={"query": "Wer?", "lang": "de", "mode": "sparse"})
        named = client.post(
            "/search", json={"query": "Wer?", "indexes": [folder.name, "sparse-index"]}
        )
    assert missing.status_code == 422
    assert missing.json()["detail"] == (
        f"field 'mode': mode 'sparse' needs a sparse index; loaded: {folder.name} (bm25)"
    )
    assert named.status_code == 404 and "unknown index 'sparse-index'" in named.json()["detail"]


def test_a_single_sparse_folder_serves_its_mode(run_dir, query):
    folder = next(run_dir.glob("stages/sparse-index-*"))
    service = SearchService(load_served(folder, rerank=False))
    assert service.modes == ["sparse"] and service.served.corpus is not None
    hits = service.search(SearchRequest(query=query.texts[0], lang="de", mode="sparse", k=3)).hits
    direct = service.indexes[folder.name].retriever.search(query, k=3)[query.ids[0]]
    assert [h.doc_id for h in hits] == list(direct)
    assert [h.score for h in hits] == pytest.approx(list(direct.values()), rel=1e-6)
