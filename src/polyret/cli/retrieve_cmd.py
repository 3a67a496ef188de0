"""``polyret index``, ``polyret search`` and ``polyret encode``."""

from __future__ import annotations

from pathlib import Path

import typer

from polyret.cli.app import OverwriteOption, app, backend_options, console, refuse_existing
from polyret.cli.options import config_options
from polyret.datasets import corpus_from, queries_from
from polyret.distributed.backend import Backend
from polyret.encode import DEFAULT_ENCODER, Embeddings, load_encoder
from polyret.io import write_trec_run
from polyret.retrieve import (
    BM25,
    BM25Config,
    Dense,
    DenseConfig,
    FuseConfig,
    LearnedSparse,
    LearnedSparseConfig,
    MultiVector,
    MultiVectorConfig,
    SearchConfig,
    load_index,
)
from polyret.retrieve import search as search_indexes
from polyret.types import Corpus, Queries


@app.command()
@backend_options
@config_options(
    DenseConfig,
    param="dense_config",
    prefix="dense_",
    exclude=("encoder",),
    names={"index": "--faiss"},
    panel="Dense (--dense)",
)
@config_options(
    MultiVectorConfig,
    param="multivector_config",
    prefix="multivector_",
    exclude=("encoder",),
    panel="Multi-vector (--multivector)",
)
@config_options(
    LearnedSparseConfig,
    param="sparse_config",
    prefix="sparse_",
    exclude=("encoder",),
    panel="Learned sparse (--sparse)",
)
@config_options(BM25Config, param="bm25", panel="BM25")
def index(
    corpus: str = typer.Argument(
        ..., help="corpus.jsonl(.gz), .parquet, BEIR folder or catalogue name."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Index folder to write."),
    dense: str = typer.Option(
        None, help="Build a dense index with this encoder (name or folder) instead of BM25."
    ),
    multivector: str = typer.Option(
        None,
        help="Build a late-interaction (token vectors, MUVERA + MaxSim) index with this model "
        "(name or folder) instead of BM25.",
    ),
    sparse: str = typer.Option(
        None,
        help="Build a learned-sparse index (BGE-M3's sparse_linear.pt or a SPLADE model) with "
        "this model folder instead of BM25.",
    ),
    processes: int = typer.Option(1, help="BM25: processes for text analysis."),
    overwrite: OverwriteOption = False,
    *,
    bm25: BM25Config,
    dense_config: DenseConfig,
    multivector_config: MultiVectorConfig,
    sparse_config: LearnedSparseConfig,
    backend: Backend,
) -> None:
    """Build a language-aware BM25 index, a dense (FAISS) index with --dense, a multi-vector
    index with --multivector, or a learned-sparse index with --sparse."""
    from polyret.distributed import EncoderSpec, index_bm25, index_dense

    refuse_existing(out, overwrite)
    documents = corpus_from(corpus)
    retriever: BM25 | Dense | MultiVector | LearnedSparse
    if sum(model is not None for model in (dense, multivector, sparse)) > 1:
        raise typer.BadParameter("give one of --dense, --multivector and --sparse")
    if sparse is not None:
        retriever = LearnedSparse(sparse_config, encoder=sparse)
        retriever.index(documents, show_progress=True)
    elif multivector is not None:
        retriever = MultiVector(multivector_config, encoder=multivector)
        retriever.index(documents, show_progress=True)
    elif dense is not None:
        retriever = Dense(dense, dense_config)
        index_dense(retriever, documents, EncoderSpec(dense), backend, show_progress=True)
    else:
        retriever = index_bm25(
            BM25(bm25), documents, backend, processes=processes, show_progress=True
        )
    retriever.save(out, overwrite=overwrite)
    console.print(f"indexed {len(documents)} documents → {out}")


@app.command()
@config_options(
    FuseConfig,
    param="fusion",
    prefix="fusion_",
    names={"method": "--fusion", "weights": "--weights"},
    panel="Hybrid (--with)",
)
@config_options(SearchConfig, names={"k": "-k"})
def search(
    index_dir: Path = typer.Argument(..., help="Index folder written by `polyret index`."),
    queries: str = typer.Argument(
        ..., help="queries.jsonl, topics .tsv, .parquet, BEIR folder or name."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="TREC run file to write."),
    hybrid: list[Path] = typer.Option(
        None, "--with", help="More indexes to search and fuse with (hybrid retrieval)."
    ),
    split: str = typer.Option(None, help="With a collection: only this split's queries."),
    lang: str = typer.Option(None, help="Language of queries that carry none."),
    tag: str = typer.Option("polyret", help="Run tag (last TREC column)."),
    *,
    config: SearchConfig,
    fusion: FuseConfig,
) -> None:
    """Search one index (BM25, dense, multi-vector, learned sparse) or several fused; write a
    TREC run."""
    topics = queries_from(queries, split=split, lang=lang)
    indexes = [load_index(path) for path in [index_dir, *(hybrid or [])]]
    run = search_indexes(indexes, topics, config, fusion=fusion, show_progress=True)
    write_trec_run(run, out, tag=tag)
    console.print(f"searched {len(topics)} queries → {out} ({run.num_entries} lines)")


@app.command()
def encode(
    texts: str = typer.Argument(..., help="Corpus or queries: a file, BEIR folder or name."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for embeddings.npy + ids.json."),
    model: str = typer.Option(DEFAULT_ENCODER, help="Encoder name or model folder."),
    kind: str = typer.Option("documents", help="documents (passage prefix) or queries."),
    dim: int = typer.Option(None, help="Matryoshka: keep the first DIM dimensions."),
    precision: str = typer.Option("float32", help="float32 or int8."),
    overwrite: OverwriteOption = False,
) -> None:
    """Encode documents or queries into a memory-mappable ``embeddings.npy``."""
    refuse_existing(out, overwrite)
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
