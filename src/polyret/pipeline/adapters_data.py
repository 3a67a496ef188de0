"""Adapters of the data and training stages: dataset, generate, filter, mine, train-*.

Each is a thin wrapper over the public function of its package; ``out`` is an empty
folder that becomes the stage folder when the adapter returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyret.datasets.subset import DatasetConfig
from polyret.pipeline.context import StageContext
from polyret.pipeline.schema import (
    AdaptInputs,
    DatasetInput,
    ExamplesInputs,
    FilterParams,
    GenerateParams,
    MineInputs,
    MineParams,
    NoInputs,
    StageBase,
    TrainHeadsInputs,
    TrainInputs,
)
from polyret.train.settle import settle_model_folder

if TYPE_CHECKING:  # torch: imported only by a config with a training stage
    from polyret.pipeline.train_params import (
        AdaptParams,
        TrainBiEncoderParams,
        TrainCrossEncoderParams,
        TrainHeadsParams,
    )


def run_dataset(
    stage: StageBase[NoInputs, DatasetConfig], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.datasets.prepare` (a collection, optionally cut down) as a BEIR folder."""
    from polyret.datasets import prepare
    from polyret.io import write_beir

    data = prepare(stage.params)
    write_beir(data, out, overwrite=True)
    return {"documents": len(data.corpus), "queries": {s: len(q) for s, q in data.qrels.items()}}


def run_generate(
    stage: StageBase[DatasetInput, GenerateParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.curate.generate` over the corpus (resumable chunks, saved atomically)."""
    from polyret.curate import answers_cache
    from polyret.distributed import GeneratorSpec, generate

    p = stage.params
    cache = None if p.llm is None else str(answers_cache())
    spec = GeneratorSpec(p.model_copy(update={"seed": ctx.seed}), cache)
    corpus = p.documents(ctx.dataset().corpus)
    examples = generate(spec, corpus, out, ctx.backend, chunk_size=p.chunk_size, overwrite=True)
    return {"examples": len(examples), "documents": len(corpus)}


def run_filter(
    stage: StageBase[ExamplesInputs, FilterParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.curate.apply_filters`; the consistency filter gets the dataset's corpus."""
    from polyret.curate import apply_filters, filters_from

    chain = filters_from(stage.params, lambda: ctx.dataset().corpus)
    examples = ctx.training_set()
    kept = apply_filters(examples, chain)
    kept.save(out, overwrite=True)
    return {"before": len(examples), "kept": len(kept)}


def run_mine(
    stage: StageBase[MineInputs, MineParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.mine.mine_negatives` from the ``index`` input or a named retriever."""
    from polyret.distributed import mine_negatives

    p = stage.params
    retriever = ctx.index() if ctx.has("index") else p.retriever
    overrides = {**p.overrides(), "seed": ctx.seed}
    index_dir = ctx.input_dir("index") if ctx.has("index") else None  # for ray workers
    examples = ctx.training_set()
    corpus = ctx.dataset().corpus
    mined = mine_negatives(
        examples,
        corpus,
        retriever,
        p.strategy,
        ctx.backend,
        k=p.k,
        index_dir=index_dir,
        **overrides,
    )
    mined.save(out, overwrite=True)
    return {"before": len(examples), "kept": len(mined)}


def run_train(
    stage: StageBase[TrainInputs, TrainBiEncoderParams | TrainCrossEncoderParams],
    ctx: StageContext,
    out: Path,
) -> dict[str, Any]:
    """:func:`polyret.train.train_bi_encoder` or :func:`~polyret.train.train_cross_encoder`,
    as the params' trainer config says; the stage folder is the trained model."""
    from polyret.train import CrossEncoderConfig, train_bi_encoder, train_cross_encoder

    p = stage.params
    config = p.train_config(ctx.seed or 0)
    dev = ctx.dataset() if p.dev_eval else None
    if isinstance(config, CrossEncoderConfig):
        train_cross_encoder(ctx.training_set(), p.base, out, config, dev=dev)
    else:
        train_bi_encoder(ctx.training_set(), p.base, out, config, dev=dev)
    return settle_model_folder(out)


def run_train_heads(
    stage: StageBase[TrainHeadsInputs, TrainHeadsParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.train.train_heads` (the ``heads`` params names which; M3 training is
    both with ``distill`` > 0) over the ``encoder`` input (else ``base``)."""
    from polyret.train import train_heads

    p = stage.params
    base = str(ctx.input_dir("encoder")) if ctx.has("encoder") else p.base
    train_heads(ctx.training_set(), base, out, p.train_config(ctx.seed or 0), overwrite=True)
    return settle_model_folder(out)


def run_adapt(
    stage: StageBase[AdaptInputs, AdaptParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.adapt.adapt` of the dataset's corpus (negatives from the ``index``
    input when given); the stage folder is the encoder to use."""
    from polyret.adapt import AdaptConfig, adapt

    config = AdaptConfig(**stage.params.model_dump(exclude={"seed"}), seed=ctx.seed or 0)
    retriever = ctx.index() if ctx.has("index") else None
    base_run = ctx.run("baseline") if ctx.has("baseline") else None
    # the work folder is named by the stage, not by this attempt's temporary folder, so an
    # interrupted run resumes it (adapt starts afresh when the recipe or corpus changed)
    work_dir = out.parent / f".{stage.name}.adapt-work"
    result = adapt(
        ctx.dataset(),
        out,
        config,
        retriever=retriever,
        base_run=base_run,
        work_dir=work_dir,
        overwrite=True,
    )
    return {
        "adopted": result.adopted,
        "examples": result.examples,
        "check": None if result.check is None else result.check.to_dict(),
        **settle_model_folder(out),
    }
