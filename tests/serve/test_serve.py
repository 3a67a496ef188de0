"""The search service on 127.0.0.1: a real pipeline run (BM25 + multilingual-e5-small over a
cut of the embedded xquad-r), served by uvicorn in a background thread, queried with httpx."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from polyret.io.artifact import read_meta

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
pytestmark = pytest.mark.serve

from polyret.retrieve import BM25, Dense, fuse  # noqa: E402
from polyret.serve import (  # noqa: E402
    MAX_QUERY_CHARS,
    SearchRequest,
    SearchService,
    create_app,
    load_served,
)
from polyret.types import Queries  # noqa: E402

LANGS = ["de", "zh"]
CONFIG: dict[str, Any] = {
    "name": "serve-test",
    "seed": 0,
    "stages": [
        {
            "name": "data",
            "type": "dataset",
            "params": {"source": "xquad-r", "langs": LANGS, "max_queries": 8},
        },
        {"name": "bm25-index", "type": "index-bm25"},
        {
            "name": "bm25",
            "type": "retrieve",
            "inputs": {"index": "bm25-index"},
            "params": {"splits": ["dev"], "k": 50},
        },
        {
            "name": "dense-index",
            "type": "index-dense",
            "params": {"encoder": "multilingual-e5-small"},
        },
        {
            "name": "dense",
            "type": "retrieve",
            "inputs": {"index": "dense-index"},
            "params": {"splits": ["dev"], "k": 50},
        },
        {
            "name": "hybrid",
            "type": "fuse",
            "inputs": {"runs": ["bm25", "dense"]},
            "params": {"method": "interpolation", "tune_split": "dev", "step": 0.25},
        },
    ],
}


# fixtures -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, e5_folder: Path, polyret_cache: Path):
    """The pipeline run, with the packaged encoder from the session's model cache."""
    from polyret.pipeline import load_config, run_pipeline

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLYRET_CACHE", str(polyret_cache))  # the encoder by name: e5_folder
        folder = tmp_path_factory.mktemp("serve") / "run"
        run_pipeline(load_config(CONFIG), folder, report=False)
        yield folder


@pytest.fixture(scope="module")
def service(run_dir: Path, polyret_cache: Path) -> SearchService:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLYRET_CACHE", str(polyret_cache))
        service = SearchService(load_served(run_dir))
        service.warm_up()
    return service


class Server:
    """uvicorn serving an app on a free 127.0.0.1 port, in a background thread."""

    def __init__(self, app: Any) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def client(service: SearchService) -> Iterator[httpx.Client]:
    with Server(create_app(service)) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def query(xquad_r) -> Queries:
    """A German dev query of the served cut."""
    queries, _ = xquad_r.split("dev")
    return queries.filter(lang="de").take([0])


def search(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/search", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def pairs(hits: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(h["doc_id"], h["score"]) for h in hits]


# loading ------------------------------------------------------------------------------------------
def test_a_run_directory_serves_its_indexes_corpus_and_tuned_fusion(service, run_dir):
    served = service.served
    assert list(served.indexes) == ["bm25-index", "dense-index"]
    assert [i.kind for i in served.indexes.values()] == ["bm25", "dense"]
    assert served.corpus is not None and sorted(served.corpus.languages()) == LANGS
    fusion = json.loads(next(run_dir.glob("stages/hybrid-*/fusion.json")).read_text())
    assert served.hybrid.stage == "hybrid"
    assert served.hybrid.method == "interpolation"
    assert list(served.hybrid.weights) == fusion["weights"]  # runs were [bm25, dense]
    # the default reranker shares the dense index's (locked) encoder: one model in memory
    assert served.reranker.encoder is served.indexes["dense-index"].retriever.encoder


def test_a_single_index_folder_of_a_run_finds_its_corpus(run_dir):
    folder = next(run_dir.glob("stages/bm25-index-*"))
    served = load_served(folder, rerank=False)
    assert list(served.indexes) == [folder.name]
    assert served.corpus is not None and len(served.corpus) == served.indexes[folder.name].documents


# search -------------------------------------------------------------------------------------------
def test_bm25_hits_are_the_retrievers_own(client, run_dir, query):
    bm25 = BM25.load(next(run_dir.glob("stages/bm25-index-*")))
    direct = bm25.search(query, k=10)[query.ids[0]]
    body = search(client, query=query.texts[0], lang="de", mode="bm25", k=10)
    assert pairs(body["hits"]) == list(direct.items())  # float32 scores survive JSON exactly
    assert [h["rank"] for h in body["hits"]] == list(range(1, len(direct) + 1))
    assert body["indexes"] == ["bm25-index"] and body["timing_ms"]["total"] > 0


def test_dense_hits_are_the_retrievers_own(client, service, run_dir, query):
    encoder = service.indexes["dense-index"].retriever.encoder
    dense = Dense.load(next(run_dir.glob("stages/dense-index-*")), encoder=encoder)
    direct = dense.search(query, k=7)[query.ids[0]]
    body = search(client, query=query.texts[0], mode="dense", k=7)
    assert [d for d, _ in pairs(body["hits"])] == list(direct)
    assert [s for _, s in pairs(body["hits"])] == pytest.approx(list(direct.values()), abs=1e-6)


def test_hybrid_is_fuse_of_both_runs_with_the_tuned_weights(client, service, query):
    hybrid = service.served.hybrid
    bm25 = service.indexes["bm25-index"].retriever.search(query, k=100)
    dense = service.indexes["dense-index"].retriever.search(query, k=100)
    direct = fuse([bm25, dense], "interpolation", weights=list(hybrid.weights), k=10)
    body = search(client, query=query.texts[0], lang="de", mode="hybrid", k=10, depth=100)
    assert [d for d, _ in pairs(body["hits"])] == list(direct[query.ids[0]])
    assert body["indexes"] == ["bm25-index", "dense-index"]
    rrf = search(client, query=query.texts[0], lang="de", k=10, fusion="rrf", weights=[1, 0])
    bm25_only = search(client, query=query.texts[0], lang="de", mode="bm25", k=10)
    assert [h["doc_id"] for h in rrf["hits"]] == [h["doc_id"] for h in bm25_only["hits"]]


def test_rerank_reorders_the_hybrid_top_documents(client, query):
    text = query.texts[0]
    hybrid = search(client, query=text, lang="de", mode="hybrid", k=8)
    reranked = search(client, query=text, lang="de", mode="rerank", k=8, rerank_depth=8)
    assert sorted(h["doc_id"] for h in reranked["hits"]) == sorted(
        h["doc_id"] for h in hybrid["hits"]
    )
    scores = [h["score"] for h in reranked["hits"]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1  # cosines
    assert "rerank" in reranked["timing_ms"]


def test_language_is_detected_and_texts_come_back(client, service, xquad_r):
    zh = xquad_r.split("dev")[0].filter(lang="zh").texts[0]
    body = search(client, query=zh, mode="bm25", k=3, include_text=True)
    assert body["lang"] == "zh"
    corpus = service.served.corpus
    for hit in body["hits"]:
        assert hit["text"] == corpus[hit["doc_id"]].text
        assert hit["lang"] == corpus[hit["doc_id"]].lang
    assert search(client, query=zh, mode="bm25", k=3)["hits"][0]["text"] is None


def test_health_indexes_and_openapi(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["indexes"] == ["bm25-index", "dense-index"]
    assert health["modes"] == ["bm25", "dense", "hybrid", "rerank"]
    assert health["documents"] > 100
    described = client.get("/indexes").json()
    assert described["defaults"]["fuse_stage"] == "hybrid"
    spec = client.get("/openapi.json").json()
    assert "/search" in spec["paths"] and "SearchRequest" in spec["components"]["schemas"]


# malformed requests -------------------------------------------------------------------------------
TEN_MB = json.dumps({"query": "x" * (10 * 1024 * 1024)}).encode()


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"{}", 422, "body.query: Field required"),
        (b'{"query": ""}', 422, "at least 1 character"),
        (b'{"query": "   "}', 422, "the query is blank"),
        (b'{"query": "x", "k": -1}', 422, "body.k: Input should be greater than or equal to 1"),
        (b'{"query": "x", "k": 1000000}', 422, "body.k: Input should be less than or equal"),
        (b'{"query": "x", "mode": "magic"}', 422, "body.mode: Input should be 'bm25'"),
        (b'{"query": "x", "lang": "english"}', 422, "invalid language code 'english'"),
        (b'{"query": "x", "weights": [1]}', 422, "body.weights"),
        (b'{"query": "x", "topk": 3}', 422, "body.topk: Extra inputs are not permitted"),
        (json.dumps({"query": "x" * (MAX_QUERY_CHARS + 1)}).encode(), 422, "at most 2000"),
        (b'{"query": "x", "index": "bm25-indx"}', 404, "Did you mean 'bm25-index'"),
        (b'{"query": "x", "mode": "bm25", "index": "dense-index"}', 422, "is a dense index"),
        (b'{"query": "x", ', 400, "not valid JSON"),
        (b"not json", 400, "not valid JSON"),
        (TEN_MB, 413, "request body too large: 10,485,"),
    ],
    ids=[
        "missing-query",
        "empty-query",
        "blank-query",
        "negative-k",
        "huge-k",
        "unknown-mode",
        "bad-lang",
        "one-weight",
        "unknown-field",
        "long-query",
        "unknown-index",
        "wrong-kind",
        "truncated-json",
        "not-json",
        "10-mb-body",
    ],
)
def test_malformed_requests_get_a_4xx_with_a_message(client, content, status, message):
    response = client.post("/search", content=content, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert client.get("/health").json()["status"] == "ok"


def test_a_streamed_body_over_the_limit_is_cut_off(client):
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"query": "'
        for _ in range(200):
            yield b"x" * 65536

    headers = {"content-type": "application/json"}
    response = client.post("/search", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert "more than the limit" in response.json()["detail"]
    assert client.get("/health").status_code == 200


class Failing(SearchService):
    """A service whose search has a bug for one query (to see the app survive it)."""

    def search(self, request: SearchRequest) -> Any:
        if request.query == "boom":
            raise RuntimeError("a bug")
        return super().search(request)


def test_a_server_error_is_json_and_the_service_keeps_serving(service, query):
    failing = Failing(service.served)
    with Server(create_app(failing)) as server, httpx.Client(base_url=server.url) as client:
        response = client.post("/search", json={"query": "boom", "mode": "bm25"})
        assert response.status_code == 500
        assert response.json() == {"detail": "internal error: RuntimeError: a bug"}
        assert search(client, query=query.texts[0], mode="bm25", k=1)["hits"]


# load ---------------------------------------------------------------------------------------------
def test_twenty_concurrent_clients_for_five_seconds_get_no_errors(client, xquad_r):
    texts = xquad_r.split("test")[0].filter(lang=LANGS).texts[:40]
    modes = ["bm25", "dense", "hybrid", "rerank"]
    results: list[int] = []
    base = str(client.base_url)

    async def worker(n: int, stop: float) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as session:
            i = n
            while time.monotonic() < stop:
                body = {"query": texts[i % len(texts)], "mode": modes[i % 4], "rerank_depth": 5}
                try:
                    results.append((await session.post("/search", json=body)).status_code)
                except httpx.HTTPError:
                    results.append(-1)
                i += 1

    async def main() -> None:
        stop = time.monotonic() + 5
        await asyncio.gather(*(worker(n, stop) for n in range(20)))

    asyncio.run(main())
    assert len(results) >= 20
    assert [code for code in results if code != 200] == []


# the command line ---------------------------------------------------------------------------------
def test_polyret_serve_starts_on_a_folder_and_answers(run_dir, polyret_cache):
    folder = next(run_dir.glob("stages/bm25-index-*"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-c", "from polyret.cli import main; main()", "serve", str(folder)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--no-rerank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stderr.read().decode()) from None  # type: ignore[union-attr]
                time.sleep(0.2)
        assert health["indexes"] == [folder.name] and health["modes"] == ["bm25"]
        assert read_meta(folder)["type"] == "bm25"
    finally:
        process.terminate()
        process.wait(timeout=20)
