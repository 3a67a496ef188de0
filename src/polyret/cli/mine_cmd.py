"""``polyret mine``: hard negatives for a training set, from any retriever."""

from __future__ import annotations

from typing import Annotated

import typer

from polyret.cli.app import (
    OverwriteOption,
    TrainingSetOut,
    app,
    backend_options,
    console,
    refuse_existing,
)
from polyret.cli.options import config_options
from polyret.distributed.backend import Backend
from polyret.mine import (
    DEFAULT_RETRIEVER,
    DEFAULT_STRATEGY,
    PRESETS,
    MiningConfig,
    miners,
    pairs_from_qrels,
)
from polyret.types import TrainingSet


@app.command("mine")
@backend_options
@config_options(
    MiningConfig, exclude=("short",), panel="Rules (default: the strategy's)", show_default=False
)
def mine_command(
    training_set: Annotated[
        str,
        typer.Argument(
            help="Training-set folder, .parquet or .jsonl; with --split, a collection (name or "
            "BEIR folder) whose judged queries become (query, positive) pairs.",
        ),
    ],
    out: TrainingSetOut,
    corpus: str = typer.Option(
        None, help="Corpus to mine from (default with --split: the collection's)."
    ),
    retriever: str = typer.Option(
        DEFAULT_RETRIEVER, help="bm25, dense, hybrid, an index folder or a TREC run file."
    ),
    strategy: str = typer.Option(
        DEFAULT_STRATEGY, help=f"A registered strategy: {', '.join(PRESETS)}."
    ),
    k: int = typer.Option(None, "-k", help="Documents retrieved per query."),
    keep_short: bool = typer.Option(
        False, help="Keep rows with fewer negatives than asked (default: drop them)."
    ),
    split: str = typer.Option(None, help="Make pairs from this split of a collection."),
    overwrite: OverwriteOption = False,
    *,
    backend: Backend,
    config: MiningConfig,
) -> None:
    """Mine hard negatives for every example and write the training set."""
    from polyret.datasets import corpus_from, load
    from polyret.distributed import mine_negatives

    refuse_existing(out, overwrite)
    if split is not None:
        dataset = load(training_set)
        queries, qrels = dataset.split(split)
        documents = corpus_from(corpus) if corpus else dataset.corpus
        examples = pairs_from_qrels(queries, qrels, documents)
    else:
        if corpus is None:
            raise typer.BadParameter(
                "--corpus is required with a training set", param_hint="corpus"
            )
        examples = TrainingSet.load(training_set)
        documents = corpus_from(corpus)
    miners.get(strategy)  # an unknown name fails before any retrieval
    overrides = config.overrides()  # the rules given as options; the others: the strategy's
    if keep_short:
        overrides["short"] = "keep"
    mined = mine_negatives(
        examples, documents, retriever, strategy, backend, k=k, show_progress=True, **overrides
    )
    mined.save(out, overwrite=overwrite)
    step = mined.funnel[-1]
    console.print(
        f"mined {step['negatives']} negatives for {step['kept']} of {step['before']} examples "
        f"({strategy}, {step['short']} short) → {out}"
    )
