"""The :class:`Filter` contract and :func:`apply_filters`, which records the funnel.

Every filter looks at a whole :class:`~polyret.types.TrainingSet` at once (so it can batch
retrieval or compare rows with each other) and returns a keep-mask plus, for each dropped
row, the reason. :func:`apply_filters` turns that into one funnel step per filter: rows
before, kept, dropped per reason and per language, so the curation funnel
(generated → kept by each filter) can be reported.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from polyret.types import TrainingSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What a filter decided: ``keep[i]`` and, for dropped rows, ``reasons[i]``."""

    keep: np.ndarray
    reasons: list[str]

    @classmethod
    def from_reasons(cls, reasons: Sequence[str]) -> Verdict:
        """Rows with an empty reason are kept."""
        reasons = list(reasons)
        return cls(np.array([not r for r in reasons], dtype=bool), reasons)

    @classmethod
    def by_row(cls, reason: Callable[..., str], examples: TrainingSet, *columns: str) -> Verdict:
        """``reason(*values)`` of each row, over the values of the named ``columns``."""
        values = zip(*(examples.column(name) for name in columns), strict=True)
        return cls.from_reasons([reason(*row) for row in values])


@runtime_checkable
class Filter(Protocol):
    """What every filter offers."""

    @property
    def name(self) -> str:
        """The registered filter name."""
        ...

    @property
    def config(self) -> dict[str, Any]:
        """Everything that changes the decision (recorded in the funnel)."""
        ...

    def judge(self, examples: TrainingSet) -> Verdict:
        """Decide for every row of ``examples``."""
        ...


class OptionsFilter:
    """A filter whose whole configuration is its frozen options dataclass.

    Subclasses set :attr:`name` and ``self.options`` and implement ``judge``; the
    recorded config is the name plus every option.
    """

    name: ClassVar[str] = "base"
    options: Any

    @property
    def config(self) -> dict[str, Any]:
        return {"filter": self.name, **asdict(self.options)}


def apply_filters(examples: TrainingSet, filters: Sequence[Filter]) -> TrainingSet:
    """Apply ``filters`` in order, each to the survivors of the previous ones.

    Returns:
        The kept rows; its ``funnel`` gains one step per filter:
        ``{"step": "filter", "filter": name, "config", "before", "kept",
        "dropped": {reason: n}, "dropped_by": {method: {lang: n}}}``; reasons are counted
        without their parenthesized per-row details.
    """
    for flt in filters:
        verdict = flt.judge(examples)
        langs = examples.column("lang")
        methods = examples.column("method")
        dropped = [int(i) for i in np.flatnonzero(~verdict.keep)]
        by_method: dict[str, Counter[str]] = {}
        for i in dropped:
            by_method.setdefault(methods[i], Counter())[langs[i]] += 1
        step = {
            "step": "filter",
            "filter": flt.name,
            "config": flt.config,
            "before": len(examples),
            "kept": int(verdict.keep.sum()),
            "dropped": dict(sorted(Counter(_kind(verdict.reasons[i]) for i in dropped).items())),
            "dropped_by": {m: dict(sorted(c.items())) for m, c in sorted(by_method.items())},
        }
        log.info("filter %s: kept %d of %d", flt.name, step["kept"], step["before"])
        examples = examples.filter(verdict.keep, step)
    return examples


def _kind(reason: str) -> str:
    """A reason without its row-specific details: ``"copied (overlap 0.93)"`` → ``"copied"``."""
    return reason.split(" (", 1)[0]
