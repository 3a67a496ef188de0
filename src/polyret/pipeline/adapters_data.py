"""Adapters of the data and training stages: dataset, generate, filter, mine, train-*.

Each is a thin wrapper over the public function of its package; ``out`` is an empty
folder that becomes the stage folder when the adapter returns.
"""

from __future__ import annotations

import hashlib
import os
import re
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
    TrainInputs,
)

if TYPE_CHECKING:  # torch: imported only by a config with a training stage
    from polyret.pipeline.train_params import (
        AdaptParams,
        TrainBiEncoderParams,
        TrainCrossEncoderParams,
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


def run_adapt(
    stage: StageBase[AdaptInputs, AdaptParams], ctx: StageContext, out: Path
) -> dict[str, Any]:
    """:func:`polyret.adapt.adapt` of the dataset's corpus (negatives from the ``index``
    input when given); the stage folder is the encoder to use."""
    from polyret.adapt import AdaptConfig, adapt

    config = AdaptConfig(**stage.params.model_dump(exclude={"seed"}), seed=ctx.seed or 0)
    retriever = ctx.index() if ctx.has("index") else None
    result = adapt(ctx.dataset(), out, config, retriever=retriever, overwrite=True)
    return {
        "adopted": result.adopted,
        "examples": result.examples,
        "check": None if result.check is None else result.check.to_dict(),
        **settle_model_folder(out),
    }


_TRAINING_TIME = re.compile(r"^### Training Time\n(?:(?!#).*\n)*", re.MULTILINE)


def settle_model_folder(folder: Path) -> dict[str, Any]:
    """Make a trained model folder a function of its content, not of when it was written.

    - The model card's "Training Time" section (wall time: it differs between identical
      runs) is removed; the time stays in ``provenance.json``.
    - Large files (the weights) get an mtime derived from their sha256: polyret's model
      fingerprint reads (size, mtime) of large files, so two runs that trained the same
      weights get the same fingerprint, and different weights a different one.

    Returns:
        ``{"weights": {file: sha256}}`` for the provenance.
    """
    card = folder / "README.md"
    if card.is_file():
        text = card.read_text(encoding="utf-8")
        card.write_text(_TRAINING_TIME.sub("", text), encoding="utf-8")
    hashes = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        if file.stat().st_size < 1 << 16:
            continue
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        hashes[str(file.relative_to(folder))] = digest.hexdigest()
        stamp = 1_000_000_000 + int(digest.hexdigest()[:7], 16)  # 2001-09-09 + < 8.5 years
        os.utime(file, (stamp, stamp))
    return {"weights": hashes}
