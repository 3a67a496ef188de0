"""Parameters of the training stages: the trainers' configs plus ``base``, ``dev_eval``, ``seed``.

Kept apart from :mod:`polyret.pipeline.schema` because :mod:`polyret.train` imports torch
and sentence-transformers: only a config with a training stage loads this module.
"""

from __future__ import annotations

from polyret.adapt.config import AdaptConfig
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.train.config import BiEncoderConfig, CrossEncoderConfig, HeadsConfig

_EXTRA = {"base", "dev_eval", "seed"}


class TrainBiEncoderParams(BiEncoderConfig):
    """:class:`~polyret.train.BiEncoderConfig` fields, plus:

    Args:
        base: The model to start from: a packaged name (``multilingual-e5-small``) or a
            sentence-transformers folder (relative to the config file).
        dev_eval: Evaluate on the dataset's dev split every ``eval_steps`` (and at the end).
        seed: Default: the config's seed.
    """

    base: str = DEFAULT_MODEL
    dev_eval: bool = False
    seed: int | None = None  # type: ignore[assignment]

    def train_config(self, seed: int) -> BiEncoderConfig:
        """The trainer's config with the effective seed."""
        return BiEncoderConfig(**self.model_dump(exclude=_EXTRA), seed=seed)


class TrainCrossEncoderParams(CrossEncoderConfig):
    """:class:`~polyret.train.CrossEncoderConfig` fields plus ``base``, ``dev_eval`` and
    ``seed`` (see :class:`TrainBiEncoderParams`)."""

    base: str = DEFAULT_MODEL
    dev_eval: bool = False
    seed: int | None = None  # type: ignore[assignment]

    def train_config(self, seed: int) -> CrossEncoderConfig:
        """The trainer's config with the effective seed."""
        return CrossEncoderConfig(**self.model_dump(exclude=_EXTRA), seed=seed)


class TrainHeadsParams(HeadsConfig):
    """:class:`~polyret.train.HeadsConfig` fields, plus ``base`` (the frozen encoder, unless
    the stage's ``encoder`` input names one) and ``seed`` (default: the config's)."""

    base: str = DEFAULT_MODEL
    seed: int | None = None  # type: ignore[assignment]

    def train_config(self, seed: int) -> HeadsConfig:
        """The trainer's config with the effective seed."""
        return HeadsConfig(**self.model_dump(exclude={"base", "seed"}), seed=seed)


class AdaptParams(AdaptConfig):
    """:class:`~polyret.adapt.AdaptConfig` fields; ``seed`` defaults to the config's seed."""

    seed: int | None = None  # type: ignore[assignment]
