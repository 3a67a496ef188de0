"""Label-free adaptation of an encoder to a corpus, checked on dev before it is adopted."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyret.adapt.check import CheckResult, dev_check
from polyret.adapt.config import AdaptConfig
from polyret.curate import answers_cache, apply_filters, filters_from, generator_from
from polyret.errors import InvalidInputError, OutputExistsError
from polyret.io.atomic import atomic_directory, atomic_write
from polyret.io.manifest import ADAPTATION_FILE
from polyret.mine import MiningConfig, mine_negatives
from polyret.mine.negatives import RetrieverSpec
from polyret.models.resolve import resolve_model
from polyret.train.settle import settle_model_folder
from polyret.types import Corpus, Dataset, Run, TrainingSet

log = logging.getLogger(__name__)

"""What the adapted folder says about its adaptation: the dev check and the training data."""
TRAINING_SET_DIR = "training-set"
"""The rows that trained the candidate, saved inside the adapted folder."""


@dataclass(frozen=True)
class Adaptation:
    """The outcome of :func:`adapt`.

    Attributes:
        folder: The encoder folder to use: the adapted model, or a copy of the base when
            the dev check refused the adapted one.
        adopted: Whether ``folder`` holds the adapted model.
        examples: Training rows (after filters and mining).
        check: The dev check (``None`` when switched off).
    """

    folder: Path
    adopted: bool
    examples: int
    check: CheckResult | None


def adapt(
    data: Dataset | Corpus,
    out: str | os.PathLike[str],
    config: AdaptConfig = AdaptConfig(),
    *,
    retriever: RetrieverSpec | None = None,
    base_run: Run | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Adaptation:
    """Adapt ``config.base`` to ``data``'s corpus without a human question, and keep the
    adapted encoder only if it beats the base on the dev split.

    Steps: every ``config.generate`` method makes (query, positive) pairs from the corpus →
    ``config.filters`` → one or more hard negatives mined from ``retriever`` (default:
    ``config.mining.retriever``) → contrastive training (:func:`polyret.train.train_bi_encoder`)
    → :func:`~polyret.adapt.dev_check`. ``out`` becomes a sentence-transformers folder (the
    adapted model or a copy of the base), with ``adaptation.json`` (the check, the training
    summary) and ``training-set/`` (the rows that trained it). Work in progress lives in
    ``work_dir``: a run interrupted after its training data was made (or, with
    ``config.train.save_steps``, after a checkpoint) resumes there when it is run again with
    the same recipe and corpus (another recipe or corpus starts afresh); ``out`` appears
    only complete, and the work folder is removed when it does.

    Args:
        data: A dataset (its ``config.check.split`` questions judge the adaptation) or a
            bare corpus (then ``config.check`` must be ``None``).
        out: The encoder folder to write.
        config: The recipe.
        retriever: What negatives are mined from: a saved index, a retriever name, ...
        base_run: The base encoder's run over the dev questions, if one exists (the dev
            check then encodes only the adapted model's corpus).
        work_dir: Where work in progress lives (default: ``.<out name>.work`` beside it).
        overwrite: Replace an existing ``out``.

    Raises:
        InvalidInputError: a dev check without a dataset that has its split.
        OutputExistsError: ``out`` exists and ``overwrite`` is not set.
    """
    from polyret.io.artifact import META_FILE
    from polyret.train import train_bi_encoder

    out = Path(out)
    corpus = data.corpus if isinstance(data, Dataset) else data
    if config.check is not None and (
        not isinstance(data, Dataset) or config.check.split not in data.qrels
    ):
        raise InvalidInputError(
            f"the dev check needs a dataset with a {config.check.split!r} split "
            "(or check: null to keep the adapted encoder unchecked)",
            field="check",
        )
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    work = Path(work_dir) if work_dir is not None else out.with_name(f".{out.name}.work")
    claim_work_dir(work, {"recipe": config.model_dump(mode="json"), "corpus": corpus.fingerprint()})
    rows = training_rows(corpus, config, retriever, work / TRAINING_SET_DIR)
    candidate = work / "candidate"
    if not (candidate / META_FILE).is_file():
        train_config = config.train.model_copy(update={"seed": config.seed})
        train_bi_encoder(rows, config.base, candidate, train_config, resume=True)
        settle_model_folder(candidate)  # its int8 export is reused once it is ``out``
    check = None
    if config.check is not None:
        assert isinstance(data, Dataset)
        check = dev_check(config.base, candidate, data, config.check, base_run=base_run)
        log.info(
            "adapt: dev %s %.4f -> %.4f (p %.3g): %s",
            check.metric,
            check.base,
            check.adapted,
            check.p_value,
            "adopted" if check.keep_adapted else "kept the base model",
        )
    adopted = check is None or check.keep_adapted
    with atomic_directory(out, overwrite=overwrite) as tmp:
        if adopted:
            for path in candidate.iterdir():
                if path.name != "checkpoints":
                    os.replace(path, tmp / path.name)
        else:
            copy_base(config.base, tmp)
        shutil.copytree(work / TRAINING_SET_DIR, tmp / TRAINING_SET_DIR)
        summary: dict[str, Any] = {
            "adopted": adopted,
            "base": config.base,
            "examples": len(rows),
            "counts": {"/".join(key): n for key, n in rows.counts().items()},
            "check": None if check is None else check.to_dict(),
            "config": config.model_dump(mode="json"),
        }
        with atomic_write(tmp / ADAPTATION_FILE) as handle:
            json.dump(summary, handle, indent=1, sort_keys=True)
    shutil.rmtree(work, ignore_errors=True)
    return Adaptation(out, adopted, len(rows), check)


def claim_work_dir(work: Path, identity: dict[str, Any]) -> None:
    """Keep ``work`` when it holds the same run's work (``identity``), else start it afresh."""
    marker = work / "identity.json"
    if work.is_dir():
        if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == identity:
            log.info("adapt: resuming the work in %s", work)
            return
        shutil.rmtree(work)
    work.mkdir(parents=True)
    with atomic_write(marker) as handle:
        json.dump(identity, handle, sort_keys=True)


def training_rows(
    corpus: Corpus, config: AdaptConfig, retriever: RetrieverSpec | None, folder: Path
) -> TrainingSet:
    """Generated, filtered and mined rows (saved in ``folder``; reused when it is there)."""
    if folder.is_dir():
        return TrainingSet.load(folder)
    parts = []
    for method in config.generate:
        # an LLM's answers go to the shared SQLite cache: a re-run pays for none of them
        cache = answers_cache() if method.llm is not None else None
        generator = generator_from(method.model_copy(update={"seed": config.seed}), cache=cache)
        parts.append(generator.generate(method.documents(corpus)))
    pairs = TrainingSet.concat(parts)
    kept = apply_filters(pairs, filters_from(config.filters, corpus))
    mining = config.mining
    rules = MiningConfig(**mining.model_dump(exclude={"retriever", "k", "seed"}), seed=config.seed)
    mined = mine_negatives(
        kept, corpus, retriever if retriever is not None else mining.retriever, rules, k=mining.k
    )
    log.info("adapt: %d pairs, %d after filters, %d mined", len(pairs), len(kept), len(mined))
    mined.save(folder, overwrite=True)
    return mined


def copy_base(base: str, target: Path) -> None:
    """The base encoder's files into ``target`` (a hub model is saved there)."""
    resolved = resolve_model(base)
    if resolved.folder is not None:
        shutil.copytree(resolved.folder, target, dirs_exist_ok=True)
        return
    from sentence_transformers import SentenceTransformer

    SentenceTransformer(resolved.ref, device="cpu").save(str(target))
