""":class:`AdaptConfig`: the label-free adaptation recipe, declared once.

The pipeline's ``adapt`` stage, :func:`polyret.adapt.adapt` and ``polyret adapt`` all read
this class. Its nested parts are the configs of the packages that do the work (curation,
mining, training) with the defaults that measured best for adaptation, so a partial
override (``train: {max_steps: 300}``) keeps the adaptation defaults of every other field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from polyret.config import Config
from polyret.curate.config import FilterConfig, FilterSpec, GenerateConfig
from polyret.mine.config import MiningConfig, Retriever
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.train.config import BiEncoderConfig

CROPS = GenerateConfig(
    method="crop",
    options={"per_doc": 1, "ratio_min": 0.2, "ratio_max": 0.5, "positive": "document"},
)
"""The default source of pairs: a random 20–50 % span of each document is the query, the
document its positive (Contriever's cropping; no human query, no LLM)."""


class AdaptMining(MiningConfig):
    """:class:`~polyret.mine.MiningConfig` rules with adaptation's defaults (one negative
    drawn at random from the top 30), plus the retriever the candidates come from when the
    caller gives no index.

    Args:
        retriever: ``"bm25"``, ``"dense"`` (the packaged model) or ``"hybrid"``.
        k: Documents retrieved per query.
    """

    retriever: Retriever = "bm25"
    k: int = Field(default=100, ge=1)
    num_negatives: int = Field(default=1, ge=1)
    max_rank: int | None = Field(default=30, ge=1)
    sampling: Literal["top", "random"] = "random"


class AdaptTraining(BiEncoderConfig):
    """:class:`~polyret.train.BiEncoderConfig` with adaptation's defaults: short texts
    (crops), small batches of one language, mE5's temperature."""

    max_steps: int = 100
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float = Field(default=2e-5, gt=0)
    max_seq_length: int | None = Field(default=64, ge=8)


class DevCheck(Config):
    """The check that decides whether the adapted encoder replaces the base one.

    Both encoders retrieve ``split``'s questions from the whole corpus (the same int8 path
    as the final index); the adapted one is kept only when its ``metric`` beats the base's
    by more than ``min_gain`` (and, with ``max_p``, when the paired randomization test's
    p-value is at most ``max_p``). Dev questions only judge; they never train.

    Args:
        split: The split whose questions judge.
        metric: The metric compared (mean over the split's questions).
        k: Documents retrieved per dev question.
        min_gain: The adapted encoder must beat the base by more than this (default half
            a point of the metric).
        max_p: Also require a paired randomization p-value at most this (``None``: any).
    """

    split: str = "dev"
    metric: str = "ndcg@10"
    k: int = Field(default=100, ge=1)
    # half a point: on a few hundred dev questions a smaller difference is noise (the demo's
    # 30-step model gained +0.0009 on dev, p 0.89, and lost 0.0005 on test)
    min_gain: float = 0.005
    max_p: float | None = Field(default=None, gt=0, le=1)


class AdaptConfig(Config):
    """Label-free adaptation of an encoder to a corpus: pairs → filters → mined negatives
    → contrastive training → dev check.

    Args:
        base: The encoder adapted: a packaged name or a sentence-transformers folder.
        generate: Sources of (query, positive) pairs, concatenated: crops by default; add
            ``ict`` or ``title`` (a corpus with titles), or an LLM method (``swim-ir``,
            ``gecko``, ``promptagator``, ``inpars``) with its ``llm`` endpoint, whose
            answers are cached (:func:`polyret.curate.answers_cache`).
        filters: Filters applied to the pairs.
        mining: How hard negatives are mined.
        train: The training run.
        check: The dev check (``None``: always keep the adapted encoder).
        seed: Seeds generation, mining, sampling and training.
    """

    base: str = DEFAULT_MODEL
    generate: list[GenerateConfig] = Field(default_factory=lambda: [CROPS], min_length=1)
    filters: FilterConfig = FilterConfig(
        filters=[FilterSpec(name="length"), FilterSpec(name="dedup")]
    )
    mining: AdaptMining = AdaptMining()
    train: AdaptTraining = AdaptTraining()
    check: DevCheck | None = DevCheck()
    seed: int = 0
