"""Small additions to sentence-transformers' losses.

- :class:`OwnNegativesLoss`: the cross-encoder's softmax cross-entropy restricted to each
  row's positive and its own (mined) negatives — the listwise loss, with no random
  in-batch pairs to score.
- :class:`ScaledCosine`: cosine / τ as the student's score in distillation, so a
  normalized bi-encoder can match a cross-encoder's logit scale.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from polyret.errors import MissingExtraError

try:
    from sentence_transformers.cross_encoder.losses import MultipleNegativesRankingLoss
    from sentence_transformers.util import pairwise_cos_sim
except ImportError:  # pragma: no cover
    raise MissingExtraError("sentence_transformers", "train", "training losses") from None


class OwnNegativesLoss(MultipleNegativesRankingLoss):
    """Softmax cross-entropy over each row's (positive, negative_1..n) cross-encoder logits.

    Args:
        model: A one-logit ``CrossEncoder``.

    References:
        - Localized contrastive estimation (Gao et al., arXiv 2101.08751).
    """

    def __init__(self, model: Any) -> None:
        super().__init__(model, num_negatives=None, scale=1, activation_fn=None)

    def get_in_batch_negatives(
        self, anchors: list[str], candidates: list[list[str]]
    ) -> Generator[list[str], None, None]:
        yield from ()

    def get_config_dict(self) -> dict[str, Any]:
        return {"in_batch_negatives": 0, "scale": 1.0, "activation_fn": None}


class ScaledCosine:
    """``cos(a, b) / temperature`` row by row (a picklable similarity function).

    Args:
        temperature: τ; the score range becomes ``[-1/τ, 1/τ]``.
    """

    def __init__(self, temperature: float) -> None:
        self.temperature = temperature

    def __call__(self, a: Any, b: Any) -> Any:
        return pairwise_cos_sim(a, b) / self.temperature

    def __repr__(self) -> str:
        return f"ScaledCosine(temperature={self.temperature})"
