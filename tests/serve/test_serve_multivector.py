"""The search service over a run with a multi-vector index beside BM25 and dense: a real
pipeline run over the German part of the embedded xquad-r (~260 sentences, the packaged
multilingual-e5-small for the dense and the token vectors), served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.serve

from polyret.errors import InvalidInputError  # noqa: E402
from polyret.models.catalogue import DEFAULT_MODEL  # noqa: E402
from polyret.retrieve import MultiVector, fuse  # noqa: E402
from polyret.serve import SearchRequest, SearchService, create_app, load_served  # noqa: E402
from polyret.types import Queries  # noqa: E402
from tests.serve.test_serve import Server, pairs, search  # noqa: E402


def _config(e5_folder: Path, polyret_cache: Path) -> dict[str, Any]:
    options = {"cache_dir": str(polyret_cache), "threads": 2}
    return {
        "name": "serve-multivector-test",
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
                "name": "mv-index",
                "type": "index-multivector",
                "params": {"encoder": str(e5_folder), "encoder_options": options},
            },
        ],
    }


# fixtures -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, e5_folder: Path, polyret_cache: Path):
    """The run, built once for the module (each index over the same German corpus)."""
    from polyret.pipeline import load_config, run_pipeline

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLYRET_CACHE", str(polyret_cache))  # the dense encoder by name
        folder = tmp_path_factory.mktemp("serve-mv") / "run"
        run_pipeline(load_config(_config(e5_folder, polyret_cache)), folder, report=False)
        yield folder


@pytest.fixture(scope="module")
def service(run_dir: Path, polyret_cache: Path) -> SearchService:
    """Not warmed up: the first multivector requests create the token encoder's session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLYRET_CACHE", str(polyret_cache))
        return SearchService(load_served(run_dir))


@pytest.fixture(scope="module")
def client(service: SearchService) -> Iterator[httpx.Client]:
    with Server(create_app(service)) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def question(xquad_r) -> tuple[Queries, str]:
    """A German test question of the collection and its one relevant sentence.

    "Wer ist der General Manager der Broncos?": multilingual-e5-small's token vectors rank
    its sentence first, another article's second.
    """
    queries, qrels = xquad_r.split("test")
    query = queries.filter(ids=["de_56bf3fd53aeaaa14008c9592"])
    (relevant,) = [d for d, grade in qrels[query.ids[0]].items() if grade > 0]
    return query, relevant


# tests --------------------------------------------------------------------------------------------
def test_the_run_serves_all_three_kinds(service, client, e5_folder):
    kinds = {name: index.kind for name, index in service.indexes.items()}
    assert kinds == {"bm25-index": "bm25", "dense-index": "dense", "mv-index": "multivector"}
    health = client.get("/health").json()
    assert health["modes"] == ["bm25", "dense", "multivector", "hybrid", "rerank"]
    described = {i["name"]: i for i in client.get("/indexes").json()["indexes"]}
    assert described["mv-index"]["kind"] == "multivector"
    assert described["mv-index"]["documents"] == len(service.served.corpus)
    assert Path(described["mv-index"]["encoder"]).resolve() == e5_folder.resolve()


def test_concurrent_multivector_requests_find_the_relevant_sentence(client, run_dir, question):
    query, relevant = question
    direct = MultiVector.load(next(run_dir.glob("stages/mv-index-*"))).search(query, k=5)
    body = {"query": query.texts[0], "lang": "de", "mode": "multivector", "k": 5}
    answers: list[dict[str, Any]] = []

    def ask() -> None:  # the first requests race to create the token encoder's session
        answers.append(search(client, **body))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    for answer in answers:
        assert answer["indexes"] == ["mv-index"] and "multivector" in answer["timing_ms"]
        assert answer["hits"][0]["doc_id"] == relevant
        assert [d for d, _ in pairs(answer["hits"])] == list(direct[query.ids[0]])
        scores = [s for _, s in pairs(answer["hits"])]
        assert scores == pytest.approx(list(direct[query.ids[0]].values()), abs=1e-6)


def test_hybrid_still_fuses_bm25_and_dense(client, service, question):
    query, _ = question
    bm25 = service.indexes["bm25-index"].retriever.search(query, k=50)
    dense = service.indexes["dense-index"].retriever.search(query, k=50)
    direct = fuse([bm25, dense], "rrf", k=10)
    answer = search(client, query=query.texts[0], lang="de", mode="hybrid", k=10, depth=50)
    assert answer["indexes"] == ["bm25-index", "dense-index"]
    assert [h["doc_id"] for h in answer["hits"]] == list(direct[query.ids[0]])
    reranked = search(client, query=query.texts[0], lang="de", mode="rerank", k=5)
    assert reranked["indexes"] == ["bm25-index", "dense-index"]


def test_rerank_over_the_multivector_index_alone(client, question):
    query, _ = question
    first = search(client, query=query.texts[0], lang="de", mode="multivector", k=5)
    answer = search(
        client, query=query.texts[0], lang="de", mode="rerank", index="mv-index", k=5,
        rerank_depth=5,
    )  # fmt: skip
    assert answer["indexes"] == ["mv-index"]
    assert sorted(h["doc_id"] for h in answer["hits"]) == sorted(h["doc_id"] for h in first["hits"])


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"mode": "multivector", "index": "bm25-index"},
            422,
            "index 'bm25-index' is a bm25 index; mode 'multivector' needs a multivector index "
            "(mv-index)",
        ),
        (
            {"mode": "hybrid", "index": "mv-index"},
            422,
            "index 'mv-index' is a multivector index; mode 'hybrid' fuses a BM25 and a dense "
            "index (bm25-index, dense-index)",
        ),
        ({"mode": "dense", "index": "mv-index"}, 422, "is a multivector index"),
        ({"mode": "multivector", "index": "mv-indx"}, 404, "Did you mean 'mv-index'"),
        ({"fusion": "borda"}, 422, "unknown fusion method 'borda': use interpolation, rrf"),
    ],
    ids=[
        "bm25-for-multivector",
        "multivector-in-hybrid",
        "multivector-for-dense",
        "typo",
        "fusion",
    ],
)
def test_a_wrong_mode_and_index_pair_is_a_clear_error(client, body, status, message):
    response = client.post("/search", json={"query": "Wer?", "lang": "de", **body})
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_a_single_multivector_folder_serves_its_mode(run_dir, question):
    folder = next(run_dir.glob("stages/mv-index-*"))
    service = SearchService(load_served(folder, rerank=False))
    assert service.modes == ["multivector"] and service.served.corpus is not None
    query, relevant = question
    hits = service.search(SearchRequest(query=query.texts[0], lang="de", mode="multivector")).hits
    assert hits[0].doc_id == relevant
    with pytest.raises(InvalidInputError, match="mode 'bm25' needs a bm25 index; loaded: "):
        service.search(SearchRequest(query="Wer?", lang="de", mode="bm25"))
