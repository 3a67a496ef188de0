"""``polyret index``, ``polyret search`` and ``polyret encode``."""

from __future__ import annotations

from pathlib import Path

import typer

from polyret.cli.app import ADDRESS_OPTION, BACKEND_OPTION, WORKERS_OPTION, app, console
from polyret.datasets import corpus_from, queries_from
from polyret.encode import Embeddings, load_encoder
from polyret.errors import OutputExistsError
from polyret.io import write_trec_run
from polyret.retrieve import BM25, BM25Config, Dense, DenseConfig, fuse, load_index
from polyret.types import Corpus, Queries


@app.command()
def index(
    corpus: str = typer.Argument(
        ..., help="corpus.jsonl(.gz), .parquet, BEIR folder or catalogue name."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Index folder to write."),
    dense: str = typer.Option(
        None, help="Build a dense index with this encoder (name or folder) instead of BM25."
    ),
    faiss_index: str = typer.Option("flat", "--faiss", help="Dense: flat, hnsw or ivfpq."),
    lang: str = typer.Option(
        "auto", help="BM25: 'auto' (each document's own lang, detected if absent) or one code."
    ),
    k1: float = typer.Option(0.9, help="BM25 k1."),
    b: float = typer.Option(0.4, help="BM25 b."),
    variant: str = typer.Option("lucene", help="BM25: robertson, lucene, atire, bm25l, bm25+."),
    processes: int = typer.Option(1, help="BM25: processes for text analysis."),
    overwrite: bool = typer.Option(False, help="Replace an existing index folder."),
    backend: str = BACKEND_OPTION,
    address: str = ADDRESS_OPTION,
    workers: int = WORKERS_OPTION,
) -> None:
    """Build a language-aware BM25 index, or a dense (FAISS) index with --dense."""
    from polyret.distributed import EncoderSpec, backend_from, index_bm25, index_dense

    if out.exists() and not overwrite:  # fail before the work, not after it
        raise OutputExistsError(out)
    chosen = backend_from(backend, address=address, workers=workers)
    documents = corpus_from(corpus)
    if dense is not None:
        retriever: BM25 | Dense = Dense(dense, DenseConfig(index=faiss_index))  # type: ignore[arg-type]
        index_dense(retriever, documents, EncoderSpec(dense), chosen, show_progress=True)
    else:
        config = BM25Config(k1=k1, b=b, variant=variant, lang=lang)  # type: ignore[arg-type]
        retriever = index_bm25(
            BM25(config), documents, chosen, processes=processes, show_progress=True
        )
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
    hybrid: list[Path] = typer.Option(
        None, "--with", help="More indexes to search and fuse with (hybrid retrieval)."
    ),
    fusion: str = typer.Option("rrf", help="Hybrid: rrf or interpolation."),
    weights: str = typer.Option(None, help="Hybrid: comma-separated weights, one per index."),
    split: str = typer.Option(None, help="With a collection: only this split's queries."),
    lang: str = typer.Option(None, help="Language of queries that carry none."),
    tag: str = typer.Option("polyret", help="Run tag (last TREC column)."),
) -> None:
    """Search one index (BM25 or dense), or several fused; write a TREC run."""
    topics = queries_from(queries, split=split, lang=lang)
    runs = [
        load_index(path).search(topics, k=k, show_progress=True)
        for path in [index_dir, *(hybrid or [])]
    ]
    if len(runs) > 1:
        parsed = None if weights is None else [float(w) for w in weights.split(",")]
        run = fuse(runs, fusion, weights=parsed, k=k)  # type: ignore[arg-type]
    else:
        run = runs[0]
    write_trec_run(run, out, tag=tag)
    console.print(f"searched {len(topics)} queries → {out} ({run.num_entries} lines)")


@app.command()
def encode(
    texts: str = typer.Argument(..., help="Corpus or queries: a file, BEIR folder or name."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for embeddings.npy + ids.json."),
    model: str = typer.Option("multilingual-e5-small", help="Encoder name or model folder."),
    kind: str = typer.Option("documents", help="documents (passage prefix) or queries."),
    dim: int = typer.Option(None, help="Matryoshka: keep the first DIM dimensions."),
    precision: str = typer.Option("float32", help="float32 or int8."),
    overwrite: bool = typer.Option(False, help="Replace an existing folder."),
) -> None:
    """Encode documents or queries into a memory-mappable ``embeddings.npy``."""
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    options = {"precision": precision} | ({"dim": dim} if dim else {})
    encoder = load_encoder(model, **options)
    records: Corpus | Queries
    if kind == "queries":
        records = queries_from(texts)
        vectors = encoder.encode_queries(records.texts, show_progress=True)
    else:
        records = corpus_from(texts)
        vectors = encoder.encode_documents(records.full_texts(), show_progress=True)
    Embeddings(vectors, records.ids, kind, model, options, encoder.fingerprint).save(
        out, overwrite=overwrite
    )
    console.print(f"encoded {len(records)} {kind} → {out} {tuple(vectors.shape)} {vectors.dtype}")
