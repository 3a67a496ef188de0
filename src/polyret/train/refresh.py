"""ANCE-style negative refresh: train in rounds, re-mining negatives with the current model.

Negatives mined once with the base model go stale as the model learns: what it now ranks
high is no longer what it ranked high before training. ANCE re-encodes the corpus with the
model being trained and draws new negatives from its own top ranks. Here that happens
between rounds: round ``r`` trains ``steps_per_round`` steps starting from round ``r − 1``'s
model, on negatives re-mined by that model. The re-miner is a plain callable
``remine(model_folder, training_set) -> TrainingSet``, so any miner (``polyret.mine``) plugs
in; :class:`DenseRemine` is the simple default (dense top-k, random draw, positive excluded).
A published recipe from ``polyret.mine`` plugs in the same way::

    from polyret.encode import load_encoder
    from polyret.mine import mine_negatives

    def remine(folder, rows):
        return mine_negatives(rows, corpus, load_encoder(folder), "nv-retriever")

    train_with_refresh(rows, "multilingual-e5-small", "out", remine=remine)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyret.curate.base import rng_for
from polyret.errors import InvalidInputError
from polyret.io.atomic import atomic_write
from polyret.io.manifest import read_provenance
from polyret.train import common
from polyret.train.bi_encoder import train_bi_encoder
from polyret.train.config import BiEncoderConfig, RefreshConfig
from polyret.types import Corpus, Dataset, Run, TrainingSet

log = logging.getLogger(__name__)

Remine = Callable[[str, TrainingSet], TrainingSet]
"""``remine(model_folder, training_set) -> training_set with new negatives``."""


def negatives_from_run(
    training_set: TrainingSet,
    run: Run,
    corpus: Corpus,
    *,
    num_negatives: int,
    top_k: int = 30,
    skip_top: int = 0,
    seed: int = 0,
) -> TrainingSet:
    """Fill each row's negatives with documents drawn at random from its top ``top_k``.

    The run's query ids are the training-set example ids. The positive (by id, and any
    document with the positive's exact text) is never a negative; ranks ``1..skip_top`` are
    skipped. Rows whose ranking has too few candidates get the remainder drawn at random
    from the corpus. Draws depend only on ``seed`` and the example id.

    Args:
        training_set: The rows to mine for.
        run: A ranking per example id (e.g. ``Dense.search(training_set.queries())``).
        corpus: The documents of the run.
        num_negatives: Negatives per row.
        top_k: Candidates per row.
        skip_top: Top ranks never used (likely unlabelled positives).
        seed: Seed of the draws.

    Returns:
        The rows with ``negative_ids``, ``negatives``, ``negative_scores`` and
        ``negative_ranks`` replaced (ranks 0 and score NaN for corpus-random fill-ins).

    Example:
        >>> from polyret.types import Corpus, Run, TrainingSet
        >>> corpus = Corpus.from_dict({"a": "A", "b": "B", "c": "C"})
        >>> ts = TrainingSet.from_records([{"id": "e", "query": "q", "positive_id": "a",
        ...                                 "positive": "A"}])
        >>> run = Run.from_dict({"e": {"a": 3.0, "c": 2.0, "b": 1.0}})
        >>> negatives_from_run(ts, run, corpus, num_negatives=1, top_k=2)["e"].negative_ids
        ['c']
    """
    if num_negatives < 1:
        raise InvalidInputError(f"num_negatives must be >= 1, got {num_negatives}")
    doc_ids = corpus.ids
    texts = corpus.full_texts()
    row_of = {doc: row for row, doc in enumerate(doc_ids)}
    columns: dict[str, list[Any]] = {"ids": [], "texts": [], "scores": [], "ranks": []}
    for example in training_set:
        rng = rng_for(seed, "negatives", example.id)
        ranked: Any = []
        scores: Any = []
        if example.id in run:
            ranked, scores = run.scores(example.id)
        pool = [
            (rank, str(doc), float(score))
            for rank, (doc, score) in enumerate(zip(ranked, scores, strict=True), start=1)
            if skip_top < rank <= top_k
            and doc != example.positive_id
            and texts[row_of[doc]] != example.positive
        ]
        picked = [pool[i] for i in sorted(rng.permutation(len(pool))[:num_negatives])]
        taken = {doc for _, doc, _ in picked}
        while len(picked) < num_negatives:  # too few candidates: random documents
            doc = doc_ids[int(rng.integers(len(doc_ids)))]
            if doc in taken or doc == example.positive_id or texts[row_of[doc]] == example.positive:
                if len(taken) + 1 >= len(doc_ids):
                    raise InvalidInputError("the corpus is too small for that many negatives")
                continue
            taken.add(doc)
            picked.append((0, doc, float("nan")))
        columns["ids"].append([doc for _, doc, _ in picked])
        columns["texts"].append([texts[row_of[doc]] for _, doc, _ in picked])
        columns["scores"].append([score for _, _, score in picked])
        columns["ranks"].append([rank for rank, _, _ in picked])
    return training_set.with_columns(
        negative_ids=columns["ids"],
        negatives=columns["texts"],
        negative_scores=columns["scores"],
        negative_ranks=columns["ranks"],
    )


class DenseRemine:
    """The default re-miner: the model's dense top-``top_k`` over ``corpus``, drawn at random.

    Args:
        corpus: The documents negatives come from.
        config: ``num_negatives``, ``top_k``, ``skip_top`` and ``seed``.
        encoder_options: Passed to :func:`polyret.encode.load_encoder` with the folder.
    """

    def __init__(
        self, corpus: Corpus, config: RefreshConfig | None = None, **encoder_options: Any
    ) -> None:
        self.corpus = corpus
        self.config = config or RefreshConfig()
        self.encoder_options = encoder_options

    def __call__(self, model_folder: str, training_set: TrainingSet) -> TrainingSet:
        from polyret.retrieve import Dense

        dense = Dense(str(model_folder), **self.encoder_options).index(self.corpus)
        run = dense.search(training_set.queries(), k=self.config.top_k + 1)
        mined = negatives_from_run(
            training_set,
            run,
            self.corpus,
            num_negatives=self.config.num_negatives,
            top_k=self.config.top_k + 1,
            skip_top=self.config.skip_top,
            seed=self.config.seed,
        )
        return mined.with_step(
            {
                "step": "remine",
                "kept": len(mined),
                "miner": "dense",
                "model": str(model_folder),
                **self.config.model_dump(),
            }
        )


def train_with_refresh(
    training_set: TrainingSet,
    base: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: BiEncoderConfig | None = None,
    refresh: RefreshConfig | None = None,
    *,
    corpus: Corpus | None = None,
    remine: Remine | None = None,
    dev: Dataset | None = None,
    overwrite: bool = False,
) -> Path:
    """Train a bi-encoder in rounds, re-mining negatives with the latest model between them.

    Round 0 trains on the given negatives (mined first with the base model when the set
    has none); each later round re-mines with the previous round's model and continues
    from its weights (warm-up only in round 0). Round folders live in ``out/rounds`` and
    are removed at the end unless ``config.keep_checkpoints``; the last round is copied to
    ``out``.

    Args:
        training_set: Rows with queries and positives (negatives optional).
        base: The starting model (name, folder or hub id).
        out: Folder of the final model.
        config: Bi-encoder options (``max_steps`` is replaced by ``steps_per_round``).
        refresh: Rounds, steps per round and the default re-miner's settings.
        corpus: Corpus of the default re-miner (required when ``remine`` is not given).
        remine: ``remine(model_folder, training_set) -> TrainingSet``.
        dev: Dataset whose dev split is evaluated in each round.
        overwrite: Replace an existing ``out``.

    Returns:
        ``out``, a sentence-transformers folder; ``out/refresh.json`` lists the rounds.

    References:
        - ANCE: approximate nearest neighbor negative contrastive learning
          (arXiv 2007.00808).
    """
    config = config or BiEncoderConfig()
    refresh = refresh or RefreshConfig()
    if remine is None:
        if corpus is None:
            raise InvalidInputError("give a corpus for the default re-miner, or a remine callable")
        remine = DenseRemine(corpus, refresh)
    out = Path(out)
    if out.exists() and overwrite:
        shutil.rmtree(out)
    if out.exists():
        from polyret.errors import OutputExistsError

        raise OutputExistsError(out)
    rounds_dir = out / "rounds"
    current = common.resolve_base(base)
    data = training_set
    history: list[dict[str, Any]] = []
    for number in range(refresh.rounds):
        if number > 0 or data.num_negatives == 0:
            data = remine(current, data)
        round_config = config.model_copy(
            update={
                "max_steps": refresh.steps_per_round,
                "seed": config.seed + number,
                "warmup_ratio": config.warmup_ratio if number == 0 else 0.0,
                "num_negatives": None,
            }
        )
        folder = train_bi_encoder(
            data, current, rounds_dir / f"round-{number}", round_config, dev=dev, overwrite=True
        )
        summary = read_provenance(folder)
        history.append(
            {
                "round": number,
                "model": str(folder),
                "negatives_from": current,
                "train_loss": summary["training"]["train_loss"],
                "dev_history": summary["training"]["dev_history"],
            }
        )
        current = str(folder)
    _copy_model(Path(current), out)
    with atomic_write(out / "refresh.json") as handle:
        json.dump(
            {"refresh": refresh.model_dump(), "rounds": history}, handle, indent=1, default=str
        )
    if not config.keep_checkpoints:
        shutil.rmtree(rounds_dir)
    return out


def _copy_model(source: Path, out: Path) -> None:
    for item in source.iterdir():
        if item.name == common.CHECKPOINTS:
            continue
        target = out / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        else:
            shutil.copy2(item, target)
