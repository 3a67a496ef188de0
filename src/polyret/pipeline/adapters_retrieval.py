"""Adapters of the retrieval stages: index-bm25, index-dense, index-multivector, index-sparse,
retrieve, fuse, rerank, evaluate.

Each is a thin wrapper over the public function of its package; ``out`` is an empty
folder that becomes the stage folder when the adapter returns. Runs are TREC files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from polyret.io import atomic_write, write_trec_run
from polyret.io.manifest import EVALUATION_FILE, write_encoder_spec
from polyret.pipeline.context import RUN_FILE, StageContext
from polyret.pipeline.schema import (
    DatasetInput,
    EvaluateInputs,
    EvaluateParams,
    FuseInputs,
    FuseParams,
    IndexDenseInputs,
    RerankInputs,
    RerankParams,
    RetrieveInputs,
    RetrieveParams,
    StageBase,
)
from polyret.retrieve.bm25 import BM25Config
from polyret.retrieve.dense import DenseConfig
from polyret.retrieve.multivector import MultiVectorConfig
from polyret.retrieve.sparse import LearnedSparseConfig


def run_index_bm25(
    stage: StageBase[DatasetInput, BM25Config], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:class:`polyret.retrieve.BM25` over the corpus, saved."""
    from polyret.distributed import index_bm25
    from polyret.retrieve import BM25

    bm25 = index_bm25(BM25(stage.params), ctx.dataset().corpus, ctx.backend)
    bm25.save(out, overwrite=True)
    return {"documents": bm25.num_documents}


def run_index_dense(
    stage: StageBase[IndexDenseInputs, DenseConfig], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:class:`polyret.retrieve.Dense` over the corpus with a named encoder or a trained one."""
    from polyret.distributed import EncoderSpec, index_dense
    from polyret.retrieve import Dense

    p = stage.params
    ref = str(ctx.input_dir("encoder")) if ctx.has("encoder") else p.encoder
    encoder = ctx.encoder({"encoder": ref, "options": p.encoder_options})
    dense = Dense(encoder, p)
    spec = EncoderSpec(ref, dict(p.encoder_options))
    dense = index_dense(dense, ctx.dataset().corpus, spec, ctx.backend)
    dense.save(out, overwrite=True)
    write_encoder_spec(out, ref, p.encoder_options)
    return {"documents": dense.num_documents, "encoder": encoder.name}


def run_index_multivector(
    stage: StageBase[IndexDenseInputs, MultiVectorConfig], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:class:`polyret.retrieve.MultiVector` over the corpus with a named or trained model."""
    from polyret.retrieve import MultiVector

    return _index_with_model(MultiVector, stage, ctx, out)


def run_index_sparse(
    stage: StageBase[IndexDenseInputs, LearnedSparseConfig], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:class:`polyret.retrieve.LearnedSparse` over the corpus with a model's sparse head."""
    from polyret.retrieve import LearnedSparse

    return _index_with_model(LearnedSparse, stage, ctx, out)


def _index_with_model(
    kind: Any, stage: StageBase[IndexDenseInputs, Any], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """A model-backed index (multi-vector, sparse) of the corpus, saved as the stage folder."""
    ref = str(ctx.input_dir("encoder")) if ctx.has("encoder") else stage.params.encoder
    index = kind(stage.params, encoder=ref).index(ctx.dataset().corpus, show_progress=True)
    index.save(out, overwrite=True)
    return {"documents": index.num_documents, "bytes per document": index.bytes_per_document}


def run_retrieve(
    stage: StageBase[RetrieveInputs, RetrieveParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.retrieve.search` of the given splits' queries (one call): ``run.trec``."""
    from polyret.retrieve import search

    p = stage.params
    queries = ctx.queries_of(p.splits)
    run = search(ctx.index(), queries, p)
    write_trec_run(run, out / RUN_FILE)
    return {"queries": len(run)}


def run_fuse(
    stage: StageBase[FuseInputs, FuseParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.retrieve.fuse`, or :func:`~polyret.retrieve.tune_fusion` on a split."""
    from polyret.retrieve import fuse, tune_fusion

    p = stage.params
    names = list(stage.inputs.runs)
    runs = [ctx.run("runs", n) for n in range(len(names))]
    if p.depth is not None:  # the tuning sees the runs that are fused
        runs = [run.truncate(p.depth) for run in runs]
    info: dict[str, Any] = {"method": p.method, "runs": names}
    if p.tune_split is not None:
        queries, qrels = ctx.split(p.tune_split)
        ids = queries.ids
        tuning = tune_fusion(
            {name: run.select(ids) for name, run in zip(names, runs, strict=True)},
            qrels,
            method=p.method,
            metric=p.metric,
            step=p.step,
            normalization=p.normalization,
        )
        fused = tuning.apply(runs, k=p.k)
        info |= {
            "weights": list(tuning.weights),
            "rrf_k": tuning.rrf_k,
            "tuned_on": p.tune_split,
            p.metric: tuning.score,
        }
    else:
        fused = fuse(runs, config=p, k=p.k)
        info |= {"weights": p.weights, "rrf_k": p.rrf_k}
    write_trec_run(fused, out / RUN_FILE)
    _write_json(out / "fusion.json", {**info, "normalization": p.normalization})
    return info


def run_rerank(
    stage: StageBase[RerankInputs, RerankParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """A registered reranker over the run's top ``k`` (optionally ensembled with the run)."""
    from polyret.distributed import RerankerSpec, rerank
    from polyret.rerank import EnsembleReranker

    p = stage.params
    data = ctx.dataset()
    run = ctx.run()
    model = str(ctx.input_dir("model")) if ctx.has("model") else p.model
    reranker = RerankerSpec(p.reranker, model, dict(p.options))
    queries = ctx.queries_of(p.splits) if p.splits else data.queries.filter(ids=list(run))
    info: dict[str, Any] = {"reranker": p.reranker, "model": model, "k": p.k}
    if not p.ensemble:
        reranked = rerank(reranker, queries, run.select(queries.ids), data.corpus, p.k, ctx.backend)
    else:
        # the reranker scores the tuning and the output queries in one call; the ensemble
        # then combines precomputed runs (fit on the tuning split, applied to the output)
        tune_queries, tune_qrels = ctx.split(p.tune_split)
        both = data.queries.filter(ids={*queries.ids, *tune_queries.ids})
        scored = rerank(reranker, both, run.select(both.ids), data.corpus, p.k, ctx.backend)
        ensemble = EnsembleReranker({"first-stage": run, p.reranker: scored})
        fit = ensemble.fit(
            tune_queries,
            run.select(tune_queries.ids),
            data.corpus,
            tune_qrels,
            k=p.k,
            metric=p.metric,
        )
        info |= {"weights": dict(zip(fit.names, fit.weights, strict=True)), p.metric: fit.score}
        info |= {"tuned_on": p.tune_split}
        reranked = ensemble.rerank(queries, run.select(queries.ids), data.corpus, p.k)
    write_trec_run(reranked, out / RUN_FILE)
    if p.ensemble:
        _write_json(out / "ensemble.json", info)
    return info


def run_evaluate(
    stage: StageBase[EvaluateInputs, EvaluateParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.report.summarize` of every input run on a split: ``evaluation.json``."""
    from polyret.report import summarize

    p = stage.params
    queries, qrels = ctx.split(p.split)
    labels = stage.inputs.labelled()
    runs = {label: ctx.run("runs", n).select(queries.ids) for n, label in enumerate(labels)}
    summary = summarize(runs, qrels, queries, p.model_copy(update={"seed": ctx.seed or 0}))
    _write_json(out / EVALUATION_FILE, summary)
    return {"split": p.split, "systems": list(runs), "queries": len(queries)}


def _write_json(path: Path, data: Any) -> None:
    with atomic_write(path) as handle:
        json.dump(data, handle, indent=1, ensure_ascii=False)
