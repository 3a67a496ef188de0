"""``polyret rerank``: rerank a TREC run's top-k with a bi-/cross-encoder or an LLM."""

from __future__ import annotations

import functools
from pathlib import Path

import typer

from polyret.cli.app import app, backend_options, console
from polyret.cli.options import config_options
from polyret.datasets import corpus_from, queries_from
from polyret.distributed.backend import Backend
from polyret.io import read_trec_run, write_trec_run
from polyret.rerank.config import RerankConfig, build_reranker


@app.command("rerank")
@backend_options
@config_options(
    RerankConfig,
    exclude=("ensemble", "tune_split", "metric"),
    names={"reranker": "--method", "k": "-k"},
)
def rerank_command(
    run: Path = typer.Argument(..., help="First-stage TREC run."),
    corpus: str = typer.Option(..., help="corpus.jsonl, .parquet, BEIR folder or name."),
    queries: str = typer.Option(..., help="queries.jsonl, topics .tsv, BEIR folder or name."),
    out: Path = typer.Option(..., "--out", "-o", help="Reranked TREC run to write."),
    split: str = typer.Option(None, help="With a collection: only this split's queries."),
    base_url: str = typer.Option(None, help="OpenAI-compatible endpoint (LLM methods)."),
    llm_model: str = typer.Option(None, help="Model name at the endpoint (default: --model)."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Env variable holding the API key."),
    cache: Path = typer.Option(None, help="SQLite score cache (a rerun is free)."),
    batch_size: int = typer.Option(32, help="Pairs per forward pass (cross-encoder)."),
    tag: str = typer.Option(None, help="Run tag (default: polyret-<method>)."),
    *,
    backend: Backend,
    config: RerankConfig,
) -> None:
    """Rerank each query's top-k documents of a run."""
    from polyret.distributed import rerank

    factory = functools.partial(
        build_reranker,
        config,
        base_url=base_url,
        llm_model=llm_model,
        api_key_env=api_key_env,
        cache=cache,
        batch_size=batch_size,
        show_progress=True,
    )
    topics = queries_from(queries, split=split)
    first = read_trec_run(run)
    first = first.select([q for q in first if q in topics])
    reranked = rerank(factory, topics, first, corpus_from(corpus), config.k, backend)
    method = config.reranker
    write_trec_run(reranked, out, tag=tag or f"polyret-{method}")
    console.print(f"reranked the top {config.k} of {len(reranked)} queries with {method} → {out}")
