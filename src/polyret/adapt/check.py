"""The dev check of an adaptation: does the adapted encoder retrieve better than its base?"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from polyret.adapt.config import DevCheck
from polyret.errors import InvalidInputError
from polyret.evaluate import compare
from polyret.evaluate.report import ALL
from polyret.types import Dataset, Run


@dataclass(frozen=True)
class CheckResult:
    """Dev scores of the base and the adapted encoder, and the decision.

    Attributes:
        metric: The metric compared (``ndcg@10``).
        split: The split whose questions were retrieved.
        queries: How many questions.
        base: The base encoder's mean.
        adapted: The adapted encoder's mean.
        p_value: Paired randomization test of the two (per question).
        by_lang: ``{lang: {"base": mean, "adapted": mean}}``.
        keep_adapted: Whether the adapted encoder replaces the base one.
    """

    metric: str
    split: str
    queries: int
    base: float
    adapted: float
    p_value: float
    by_lang: dict[str, dict[str, float]]
    keep_adapted: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def dev_check(
    base: str | os.PathLike[str],
    adapted: str | os.PathLike[str],
    data: Dataset,
    check: DevCheck,
    *,
    base_run: Run | None = None,
    encoder_options: dict[str, Any] | None = None,
) -> CheckResult:
    """Retrieve ``check.split``'s questions over the whole corpus with both encoders (the
    int8 path :func:`polyret.encode.load_encoder` gives each) and compare ``check.metric``.

    Args:
        base: The base encoder.
        adapted: The adapted encoder's folder.
        data: The corpus and the split's questions and judgments.
        check: Split, metric, depth and the rule.
        base_run: The base encoder's run over (at least) the split's questions, when one
            exists already (a pipeline's dense run): the base is then not encoded again.
        encoder_options: Options of :func:`polyret.encode.load_encoder`.

    Raises:
        InvalidInputError: the dataset has no such split, or ``base_run`` lacks some of
            its questions.
    """
    from polyret.encode import load_encoder
    from polyret.retrieve import Dense

    queries, qrels = data.split(check.split)
    runs = {}
    if base_run is not None:
        missing = set(queries.ids) - set(base_run)
        if missing:
            raise InvalidInputError(
                f"the base run lacks {len(missing)} of the {check.split!r} questions "
                f"(e.g. {sorted(missing)[0]!r}); retrieve that split with the base encoder",
                field="baseline",
            )
        runs["base"] = base_run.select(queries.ids)
    references = {"base": base, "adapted": adapted}
    for name in ("base", "adapted"):
        if name not in runs:
            encoder = load_encoder(str(references[name]), **dict(encoder_options or {}))
            runs[name] = Dense(encoder).index(data.corpus).search(queries, k=check.k)
    # compare() evaluates both runs on the same questions and pairs them for the test
    result = compare(
        runs, qrels, [check.metric], baseline="base", correction="none", queries=queries, by="lang"
    )
    metric = result.metrics[0]
    overall = result.row("adapted", metric)
    keep = overall.delta > check.min_gain and (
        check.max_p is None or overall.p_value <= check.max_p
    )
    by_lang = {
        group: {"base": row.baseline_mean, "adapted": row.mean}
        for group in result.groups
        if group != ALL
        for row in [result.row("adapted", metric, group)]
    }
    return CheckResult(
        metric,
        check.split,
        int(result.reports["base"].num_queries[ALL]),
        overall.baseline_mean,
        overall.mean,
        overall.p_value,
        by_lang,
        keep,
    )
