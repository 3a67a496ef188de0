"""Load test of ``polyret serve`` on 127.0.0.1, with the in-process anchor beside it.

For each mode: ``--clients`` concurrent async httpx clients (default 50) post real
xquad-r test queries (all nine languages, in a fixed shuffled order) to ``/search`` for
``--seconds`` (default 30) against a ``polyret serve`` subprocess; it prints requests/s,
p50/p90/p99 latency and the errors (any non-200 answer or transport error).

The anchor: the same queries called in-process on polyret's own objects (no HTTP, one
thread): ``BM25.search`` / ``Dense.search`` on a one-query ``Queries``, ``fuse`` of both for
hybrid, the reranker on the hybrid top for rerank. One HTTP client sending the same
queries one after the other gives the per-request overhead: p50 HTTP / p50 in-process.

Run::

    .venv/bin/python benchmarks/bench_serve.py [--run-dir RUN_DIR] \\
        [--modes bm25,hybrid] [--clients 50] [--seconds 30]

Without ``--run-dir`` a run of BM25 + multilingual-e5-small indexes over the embedded
xquad-r (fusion tuned on dev) is built once in ``runs/bench-serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from polyret.datasets import load
from polyret.retrieve import fuse
from polyret.serve import load_served
from polyret.types import Queries, Run

CONFIG: dict[str, Any] = {
    "name": "bench-serve",
    "seed": 0,
    "stages": [
        {"name": "data", "type": "dataset", "params": {"source": "xquad-r"}},
        {"name": "bm25-index", "type": "index-bm25"},
        {"name": "bm25", "type": "retrieve", "inputs": {"index": "bm25-index"},
         "params": {"splits": ["dev"], "k": 100}},
        {"name": "dense-index", "type": "index-dense"},
        {"name": "dense", "type": "retrieve", "inputs": {"index": "dense-index"},
         "params": {"splits": ["dev"], "k": 100}},
        {"name": "hybrid", "type": "fuse", "inputs": {"runs": ["bm25", "dense"]},
         "params": {"method": "interpolation", "tune_split": "dev"}},
    ],
}  # fmt: skip
K = 10
DEPTH = 100
RERANK_DEPTH = 20


def percentiles(latencies: list[float]) -> str:
    if not latencies:
        return "p50 -, p90 -, p99 -"
    p50, p90, p99 = np.percentile(np.asarray(latencies) * 1000, [50, 90, 99])
    return f"p50 {p50:7.1f} ms, p90 {p90:7.1f} ms, p99 {p99:7.1f} ms"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(run_dir: Path, port: int, rerank: bool, log: Path) -> subprocess.Popen[bytes]:
    """``polyret serve`` in a subprocess (its log in ``log``), once /health answers."""
    command = [sys.executable, "-c", "from polyret.cli import main; main()", "serve"]
    command += [str(run_dir), "--port", str(port), *([] if rerank else ["--no-rerank"])]
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink)
    deadline = time.monotonic() + 300
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).raise_for_status()
            return process
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                sys.exit("polyret serve did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.5)


def body(query: tuple[str, str], mode: str) -> dict[str, Any]:
    text, lang = query
    return {"query": text, "lang": lang, "mode": mode, "k": K, "depth": DEPTH,
            "rerank_depth": RERANK_DEPTH}  # fmt: skip


async def load_test(
    url: str, mode: str, queries: list[tuple[str, str]], clients: int, seconds: float
) -> dict[str, Any]:
    """``clients`` concurrent clients for ``seconds``; each finishes its last request."""
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as session:

        async def client(n: int, stop: float) -> None:
            i = n * 7919
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    response = await session.post(
                        "/search", json=body(queries[i % len(queries)], mode)
                    )
                    if response.status_code != 200:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as error:
                    errors.append(f"{type(error).__name__}: {error}")
                latencies.append(time.perf_counter() - started)
                i += 1

        started = time.monotonic()
        await asyncio.gather(*(client(n, started + seconds) for n in range(clients)))
        elapsed = time.monotonic() - started
    return {"requests": len(latencies), "elapsed": elapsed, "latencies": latencies,
            "errors": errors}  # fmt: skip


def sequential_http(url: str, mode: str, queries: list[tuple[str, str]]) -> list[float]:
    latencies = []
    with httpx.Client(base_url=url, timeout=600) as session:
        for query in queries:
            started = time.perf_counter()
            session.post("/search", json=body(query, mode)).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return latencies


class Anchor:
    """The same searches in-process, directly on polyret's retrievers (no HTTP)."""

    def __init__(self, run_dir: Path, rerank: bool) -> None:
        self.served = load_served(run_dir, rerank=rerank)
        hybrid = self.served.hybrid
        self.bm25 = self.served.indexes[hybrid.bm25].retriever  # type: ignore[index]
        self.dense = self.served.indexes[hybrid.dense].retriever  # type: ignore[index]
        corpus = self.served.corpus
        self.rows = {} if corpus is None else {d: n for n, d in enumerate(corpus.ids)}

    def search(self, query: tuple[str, str], mode: str) -> Run:
        queries = Queries.from_records([{"id": "q", "text": query[0], "lang": query[1]}])
        if mode == "bm25":
            return self.bm25.search(queries, k=K)
        if mode == "dense":
            return self.dense.search(queries, k=K)
        h = self.served.hybrid
        runs = [self.bm25.search(queries, k=DEPTH), self.dense.search(queries, k=DEPTH)]
        fused = fuse(runs, h.method, weights=list(h.weights), rrf_k=h.rrf_k,
                     normalization=h.normalization)  # fmt: skip
        if mode == "hybrid":
            return fused.truncate(K)
        assert self.served.corpus is not None
        docs = self.served.corpus.take([self.rows[d] for d in fused.scores("q")[0].tolist()])
        return self.served.reranker.rerank(queries, fused, docs, k=RERANK_DEPTH).truncate(K)

    def run(self, mode: str, queries: list[tuple[str, str]]) -> list[float]:
        latencies = []
        for query in queries:
            started = time.perf_counter()
            self.search(query, mode)
            latencies.append(time.perf_counter() - started)
        return latencies


def build_run(folder: Path) -> Path:
    from polyret.pipeline import load_config, run_pipeline

    if not (folder / "manifest.json").is_file():
        print(f"building the run in {folder} (BM25 + multilingual-e5-small over xquad-r) ...")
    run_pipeline(load_config(CONFIG), folder, report=False)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--modes", default="bm25,hybrid", help="bm25,dense,hybrid,rerank")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sequential", type=int, default=100, help="queries for the anchor")
    args = parser.parse_args()
    modes = args.modes.split(",")
    run_dir = args.run_dir or build_run(Path("runs") / "bench-serve")

    test = load("xquad-r").split("test")[0]
    queries = list(zip(test.texts, test.langs, strict=True))
    random.Random(0).shuffle(queries)
    sample = queries[: args.sequential]
    warm = list({lang: (text, lang) for text, lang in queries}.values())
    print(f"{len(queries)} xquad-r test queries in {len(set(test.langs))} languages; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")  # fmt: skip

    rerank = "rerank" in modes
    anchor = Anchor(run_dir, rerank)
    port = free_port()
    server_log = Path(tempfile.mkdtemp()) / "serve.log"
    server = start_server(run_dir, port, rerank, server_log)
    url = f"http://127.0.0.1:{port}"
    try:
        for mode in modes:
            anchor.run(mode, warm)  # every language's analyzer and the model, once
            direct = anchor.run(mode, sample)
            over_http = sequential_http(url, mode, sample)
            result = asyncio.run(load_test(url, mode, queries, args.clients, args.seconds))
            qps = result["requests"] / result["elapsed"]
            direct_qps = len(direct) / sum(direct)
            print(f"\n## {mode}")
            print(f"  in-process, 1 thread      {direct_qps:8.1f} q/s   {percentiles(direct)}")
            print(f"  HTTP, 1 client            {len(over_http) / sum(over_http):8.1f} q/s   "
                  f"{percentiles(over_http)}")  # fmt: skip
            print(f"  HTTP, {args.clients} clients × {args.seconds:.0f} s  {qps:8.1f} q/s   "
                  f"{percentiles(result['latencies'])}   {result['requests']} requests, "
                  f"{len(result['errors'])} errors")  # fmt: skip
            overhead = np.median(over_http) / np.median(direct)
            extra = (np.median(over_http) - np.median(direct)) * 1000
            print(f"  HTTP overhead: p50 1 client / p50 in-process = {overhead:.2f}×, "
                  f"+{extra:.1f} ms per request; throughput in-process / "
                  f"{args.clients} clients = {direct_qps / qps:.2f}×")  # fmt: skip
            for error in sorted(set(result["errors"]))[:5]:
                print(f"    error: {error}")
            health = httpx.get(f"{url}/health", timeout=10).json()["status"]
            print(f"  /health after: {health}; load average {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        problems = [
            line
            for line in server_log.read_text(errors="replace").splitlines()
            if "ERROR" in line or "WARNING" in line or "Error" in line
        ]
        print(f"\nserver log {server_log}: {len(problems)} error/warning lines")
        for line in problems[:20]:
            print(f"  {line}")


if __name__ == "__main__":
    main()
