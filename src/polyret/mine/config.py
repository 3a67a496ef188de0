""":class:`MiningConfig`: every hard-negative rule in one frozen, serializable record."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from polyret.config import Config

DEFAULT_STRATEGY = "nv-retriever"
"""The strategy of :func:`~polyret.mine.mine`, :func:`~polyret.mine.mine_negatives`,
``polyret mine`` and the pipeline's ``mine`` stage unless told otherwise: NV-Retriever's
TopK-PercPos, the best method of arXiv 2407.15831 (it needs the positives' scores, which
:func:`~polyret.mine.mine_negatives` computes exactly for dense retrievers)."""

Retriever = Literal["bm25", "dense", "hybrid"]
"""The retrievers :func:`~polyret.mine.mine_negatives` builds by name."""

DEFAULT_RETRIEVER: Retriever = "dense"
"""What :func:`~polyret.mine.mine_negatives`, ``polyret mine`` and the pipeline's ``mine``
stage retrieve candidates with unless told otherwise (the packaged encoder, exact search:
every positive's score is known, as TopK-PercPos needs)."""

Window = Literal["run", "kept"]
Sampling = Literal["top", "random"]
ShortRows = Literal["drop", "keep"]


class MiningConfig(Config):
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

    A bad value raises :class:`~polyret.errors.InvalidInputError` naming the field (inside a
    pipeline config, the usual pydantic error with its key path).

    Example:
        >>> MiningConfig(num_negatives=15, min_rank=50, max_rank=100, sampling="random")
        ... # doctest: +ELLIPSIS
        MiningConfig(num_negatives=15, depth=None, min_rank=50, max_rank=100, ...)
    """

    num_negatives: int = Field(default=7, ge=1, description="Negatives per row.")
    depth: int | None = Field(
        default=None, ge=1, description="Only the run's top N documents are candidates."
    )
    min_rank: int = Field(
        default=1, ge=1, description="First rank of the window (1 = the top document)."
    )
    max_rank: int | None = Field(
        default=None, ge=1, description="Last rank of the window (none: no limit)."
    )
    window: Window = Field(
        default="run",
        description="Ranks are positions in the run, or among the candidates kept by the "
        "other rules.",
    )
    sampling: Sampling = Field(
        default="top", description="Take the best-ranked survivors, or a seeded sample."
    )
    max_score: float | None = Field(
        default=None, description="Drop candidates scoring above this (false negatives)."
    )
    min_score: float | None = Field(
        default=None, description="Drop candidates scoring below this (too easy)."
    )
    perc_pos: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="TopK-PercPos: drop candidates above this fraction of the positive's score.",
    )
    margin_pos: float | None = Field(
        default=None,
        ge=0,
        description="TopK-MarginPos: drop candidates above the positive's score minus this.",
    )
    dedup: bool = Field(
        default=True, description="Positives-aware text dedup (no positive's text, no repeats)."
    )
    near_duplicate: float | None = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Character 3-gram Jaccard from which a candidate is a near duplicate of "
        "the positive.",
    )
    guide: str | None = Field(
        default=None, description="Guide reranker for the GISTEmbed filter (a reranker name)."
    )
    guide_options: dict[str, Any] = Field(
        default_factory=dict, description="Options for loading the guide."
    )
    guide_margin: float = Field(
        default=0.0, description="Drop candidates the guide scores above positive − margin."
    )
    short: ShortRows = Field(
        default="drop", description="Rows left with fewer negatives: drop or keep them."
    )
    seed: int = Field(default=0, description="Seed of the random sampling.")

    @model_validator(mode="after")
    def _check_ranges(self) -> MiningConfig:
        if self.max_rank is not None and self.max_rank < self.min_rank:
            raise ValueError(f"max_rank {self.max_rank} is below min_rank {self.min_rank}")
        if (
            self.max_score is not None
            and self.min_score is not None
            and self.min_score > self.max_score
        ):
            raise ValueError("min_score is above max_score")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (what provenance records)."""
        return self.model_dump(mode="json", include=set(MiningConfig.model_fields))

    def replace(self, **overrides: Any) -> MiningConfig:
        """A validated :class:`MiningConfig` with ``overrides`` (a subclass's own fields, such
        as the pipeline's ``strategy``, are left out)."""
        if not overrides and type(self) is MiningConfig:
            return self
        rules = self.model_dump(include=set(MiningConfig.model_fields))
        return MiningConfig(**{**rules, **overrides})

    def overrides(self) -> dict[str, Any]:
        """The rule fields set explicitly (given to the constructor), as plain values."""
        return self.model_dump(include=self.model_fields_set & set(MiningConfig.model_fields))

    @property
    def uses_positive_score(self) -> bool:
        """Whether a rule compares candidates with the positive's retrieval score."""
        return self.perc_pos is not None or self.margin_pos is not None
