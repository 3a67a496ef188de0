"""``polyret index`` and ``polyret search``: build a BM25 index, run queries against it."""

from __future__ import annotations

from pathlib import Path

import typer

from polyret.cli.app import app, console
from polyret.datasets import corpus_from, queries_from
from polyret.errors import OutputExistsError
from polyret.io import write_trec_run
from polyret.retrieve import BM25, BM25Config


@app.command()
def index(
    corpus: str = typer.Argument(
        ..., help="corpus.jsonl(.gz), .parquet, BEIR folder or catalogue name."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Index folder to write."),
    lang: str = typer.Option(
        "auto", help="'auto' (each document's own lang, detected if absent) or one code."
    ),
    k1: float = typer.Option(0.9, help="BM25 k1."),
    b: float = typer.Option(0.4, help="BM25 b."),
    variant: str = typer.Option("lucene", help="robertson, lucene, atire, bm25l or bm25+."),
    processes: int = typer.Option(1, help="Processes for text analysis."),
    overwrite: bool = typer.Option(False, help="Replace an existing index folder."),
) -> None:
    """Build a language-aware BM25 index."""
    if out.exists() and not overwrite:  # fail before the work, not after it
        raise OutputExistsError(out)
    documents = corpus_from(corpus)
    retriever = BM25(BM25Config(k1=k1, b=b, variant=variant, lang=lang))  # type: ignore[arg-type]
    retriever.index(documents, processes=processes, show_progress=True)
    retriever.save(out, overwrite=overwrite)
    console.print(f"indexed {len(documents)} documents → {out}")


@app.command()
def search(
    index_dir: Path = typer.Argument(..., help="Index folder written by `polyret index`."),
    queries: str = typer.Argument(
        ..., help="queries.jsonl, topics .tsv, .parquet, BEIR folder or name."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="TREC run file to write."),
    k: int = typer.Option(1000, "-k", help="Documents per query."),
    split: str = typer.Option(None, help="With a collection: only this split's queries."),
    lang: str = typer.Option(None, help="Language of queries that carry none."),
    tag: str = typer.Option("polyret-bm25", help="Run tag (last TREC column)."),
) -> None:
    """Search an index; write a TREC run."""
    topics = queries_from(queries, split=split, lang=lang)
    run = BM25.load(index_dir).search(topics, k=k, show_progress=True)
    write_trec_run(run, out, tag=tag)
    console.print(f"searched {len(topics)} queries → {out} ({run.num_entries} lines)")
