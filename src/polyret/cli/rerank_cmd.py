"""``polyret rerank``: rerank a TREC run's top-k with a bi-/cross-encoder or an LLM."""

from __future__ import annotations

import functools
from pathlib import Path

import typer

from polyret.cli.app import ADDRESS_OPTION, BACKEND_OPTION, WORKERS_OPTION, app, console
from polyret.datasets import corpus_from, queries_from
from polyret.errors import InvalidInputError
from polyret.io import read_trec_run, write_trec_run
from polyret.rerank import DEFAULT_RERANKER, Reranker, load_reranker


def build_reranker(
    method: str,
    model: str,
    *,
    base_url: str | None,
    llm_model: str | None,
    api_key_env: str,
    cache: Path | None,
    batch_size: int,
) -> Reranker:
    """The reranker the command options describe."""
    if method in ("bi-encoder", "cross-encoder"):
        options: dict[str, Path | bool | int | None] = {"cache": cache, "show_progress": True}
        if method == "cross-encoder":
            options["batch_size"] = batch_size
        return load_reranker(method, model, **options)
    if method in ("llm-pointwise", "llm-listwise"):
        if base_url is None:
            raise InvalidInputError(f"--method {method} needs --base-url", field="base_url")
        from polyret.llm import OpenAIClient

        client = OpenAIClient(
            llm_model or model,
            base_url,
            api_key_env=api_key_env,
            cache=None if cache is None else cache.with_suffix(".llm.sqlite"),
        )
        if method == "llm-pointwise":
            return load_reranker(method, client, cache=cache, show_progress=True)
        return load_reranker(method, client, show_progress=True)
    raise InvalidInputError(
        f"unknown --method {method!r}: bi-encoder, cross-encoder, llm-pointwise or llm-listwise",
        field="method",
    )


@app.command("rerank")
def rerank_command(
    run: Path = typer.Argument(..., help="First-stage TREC run."),
    corpus: str = typer.Option(..., help="corpus.jsonl, .parquet, BEIR folder or name."),
    queries: str = typer.Option(..., help="queries.jsonl, topics .tsv, BEIR folder or name."),
    out: Path = typer.Option(..., "--out", "-o", help="Reranked TREC run to write."),
    model: str = typer.Option(
        "multilingual-e5-small",
        help="Encoder/cross-encoder name or folder; the LLM model name for LLM methods.",
    ),
    method: str = typer.Option(
        DEFAULT_RERANKER, help="bi-encoder, cross-encoder, llm-pointwise or llm-listwise."
    ),
    k: int = typer.Option(100, "-k", help="Documents per query to rerank."),
    split: str = typer.Option(None, help="With a collection: only this split's queries."),
    base_url: str = typer.Option(None, help="OpenAI-compatible endpoint (LLM methods)."),
    llm_model: str = typer.Option(None, help="Model name at the endpoint (default: --model)."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Env variable holding the API key."),
    cache: Path = typer.Option(None, help="SQLite score cache (a rerun is free)."),
    batch_size: int = typer.Option(32, help="Pairs per forward pass (cross-encoder)."),
    tag: str = typer.Option(None, help="Run tag (default: polyret-<method>)."),
    backend: str = BACKEND_OPTION,
    address: str = ADDRESS_OPTION,
    workers: int = WORKERS_OPTION,
) -> None:
    """Rerank each query's top-k documents of a run."""
    from polyret.distributed import backend_from, rerank

    factory = functools.partial(
        build_reranker,
        method,
        model,
        base_url=base_url,
        llm_model=llm_model,
        api_key_env=api_key_env,
        cache=cache,
        batch_size=batch_size,
    )
    chosen = backend_from(backend, address=address, workers=workers)
    topics = queries_from(queries, split=split)
    first = read_trec_run(run)
    first = first.select([q for q in first if q in topics])
    reranked = rerank(factory, topics, first, corpus_from(corpus), k, chosen)
    write_trec_run(reranked, out, tag=tag or f"polyret-{method}")
    console.print(f"reranked the top {k} of {len(reranked)} queries with {method} → {out}")
