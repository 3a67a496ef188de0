""":class:`MiningConfig`: every hard-negative rule in one frozen, serializable record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from polyret.errors import InvalidInputError

Window = Literal["run", "kept"]
Sampling = Literal["top", "random"]
ShortRows = Literal["drop", "keep"]


@dataclass(frozen=True)
class MiningConfig:
    """What makes a candidate a negative, and how negatives are picked.

    The rules compose; a candidate (a document of the query's ranked list, within the
    top ``depth``) becomes a negative only if it passes every rule that is switched on.
    They run in this order, each over the survivors of the previous ones (the funnel
    counts each rule's removals in that order):

    1. never a positive (the row's positive, or the positive of another row with the same
       query text);
    2. the rank window ``min_rank``…``max_rank`` (inclusive, 1-based) when
       ``window="run"``;
    3. the absolute score thresholds ``max_score`` / ``min_score`` (Arctic-Embed);
    4. the positive-relative thresholds ``perc_pos`` / ``margin_pos`` (NV-Retriever);
    5. ``dedup``: not the same normalized text as a positive, not a near duplicate of the
       row's positive (``near_duplicate``);
    6. the guide filter ``guide`` (GISTEmbed): dropped when a guide model scores the
       candidate above the positive (scored only for the survivors of 1–5);
    7. ``dedup``: no text twice (the best-ranked copy stays);
    8. the rank window when ``window="kept"``: positions among the survivors of 1–7;

    then ``num_negatives`` of the survivors are taken: the best ranked (``"top"``) or a
    seeded uniform sample (``"random"``), listed in rank order.

    Args:
        num_negatives: Negatives per row.
        depth: Only the run's top ``depth`` documents are candidates (``None``: all).
        min_rank: First rank of the window (1 = the top document).
        max_rank: Last rank of the window (``None``: no limit).
        window: ``"run"``: ranks are positions in the run (positives count, as in
            "ranks 30–100"); ``"kept"``: positions among the candidates that pass every
            other rule (sentence-transformers' ``range_min``/``range_max``: ``min_rank =
            range_min + 1``, ``max_rank = range_max``).
        sampling: ``"top"`` or ``"random"`` (uniform over the survivors, seeded).
        max_score: Drop candidates scoring above this (likely false negatives).
        min_score: Drop candidates scoring below this (too easy).
        perc_pos: TopK-PercPos: drop candidates scoring above ``p`` × the positive's score;
            computed as ``positive − |positive| · (1 − p)`` so it stays a lower bar than the
            positive when scores are negative (sentence-transformers' ``relative_margin``
            is ``1 − p``).
        margin_pos: TopK-MarginPos: drop candidates scoring above ``positive − margin``.
        dedup: Positives-aware text dedup (rules 5 and 7).
        near_duplicate: Character 3-gram Jaccard of normalized texts at or above which a
            candidate counts as a near duplicate of the positive (``None``: exact only).
        guide: A reranker name (:data:`polyret.rerank.rerankers`, e.g. ``"bi-encoder"``,
            ``"cross-encoder"``) that scores (query, candidate) and (query, positive).
        guide_options: Options for loading ``guide``.
        guide_margin: Drop candidates the guide scores above ``positive − guide_margin``.
        short: Rows left with fewer than ``num_negatives``: ``"drop"`` them or ``"keep"``
            them with fewer (both counted in the funnel).
        seed: Seed of the ``"random"`` sampling.

    A rule on the positive's score (``perc_pos``, ``margin_pos``) needs that score: it is
    read from the run. A row whose positive is not in the run has no known bound, so
    those rules keep none of its candidates (counted as ``no_positive_score``);
    :func:`polyret.mine.mine_negatives` scores the positives of dense runs exactly.

    Example:
        >>> MiningConfig(num_negatives=15, min_rank=50, max_rank=100, sampling="random")
        ... # doctest: +ELLIPSIS
        MiningConfig(num_negatives=15, depth=None, min_rank=50, max_rank=100, ...)
    """

    num_negatives: int = 7
    depth: int | None = None
    min_rank: int = 1
    max_rank: int | None = None
    window: Window = "run"
    sampling: Sampling = "top"
    max_score: float | None = None
    min_score: float | None = None
    perc_pos: float | None = None
    margin_pos: float | None = None
    dedup: bool = True
    near_duplicate: float | None = 0.8
    guide: str | None = None
    guide_options: dict[str, Any] = field(default_factory=dict)
    guide_margin: float = 0.0
    short: ShortRows = "drop"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.num_negatives < 1:
            raise InvalidInputError(
                f"num_negatives must be >= 1, got {self.num_negatives}", field="num_negatives"
            )
        if self.depth is not None and self.depth < 1:
            raise InvalidInputError(f"depth must be >= 1, got {self.depth}", field="depth")
        if self.min_rank < 1:
            raise InvalidInputError(f"min_rank is 1-based, got {self.min_rank}", field="min_rank")
        if self.max_rank is not None and self.max_rank < self.min_rank:
            raise InvalidInputError(
                f"max_rank {self.max_rank} is below min_rank {self.min_rank}", field="max_rank"
            )
        _choice("window", self.window, ("run", "kept"))
        _choice("sampling", self.sampling, ("top", "random"))
        _choice("short", self.short, ("drop", "keep"))
        if self.perc_pos is not None and not 0 < self.perc_pos <= 1:
            raise InvalidInputError(
                f"perc_pos must be in (0, 1], got {self.perc_pos}", field="perc_pos"
            )
        if self.margin_pos is not None and self.margin_pos < 0:
            raise InvalidInputError(
                f"margin_pos must be >= 0, got {self.margin_pos}", field="margin_pos"
            )
        if (
            self.max_score is not None
            and self.min_score is not None
            and self.min_score > self.max_score
        ):
            raise InvalidInputError("min_score is above max_score", field="min_score")
        if self.near_duplicate is not None and not 0 < self.near_duplicate <= 1:
            raise InvalidInputError(
                f"near_duplicate must be in (0, 1], got {self.near_duplicate}",
                field="near_duplicate",
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (what provenance records)."""
        return asdict(self)

    @property
    def uses_positive_score(self) -> bool:
        """Whether a rule compares candidates with the positive's retrieval score."""
        return self.perc_pos is not None or self.margin_pos is not None


def _choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise InvalidInputError(
            f"{name} must be one of {', '.join(map(repr, valid))}, got {value!r}", field=name
        )
