"""Batches of one language, with no text twice in a batch.

With in-batch negatives every other row's positive is a negative. On a multilingual
corpus a random batch mixes languages, and on a parallel corpus (XQuAD, MIRACL's shared
Wikipedia topics) a row in another language is often a *translation* of the positive: a
false negative that teaches the model to push translations apart. Grouping rows by
``lang`` removes those, and makes the in-batch negatives harder (same language, same
script). Within a batch no text may appear twice (two crops of one sentence, a row's
positive that is another row's hard negative), since a repeated text is a negative of
itself.

sentence-transformers 6 takes a custom sampler through ``batch_sampler=`` in its training
arguments: a class or a callable that receives ``(dataset, batch_size, drop_last,
valid_label_columns, generator, seed)``. :func:`same_language_sampler` binds the row
languages and returns such a callable.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from polyret.errors import InvalidInputError, MissingExtraError

try:
    from sentence_transformers.base.sampler import DefaultBatchSampler
except ImportError:  # pragma: no cover
    raise MissingExtraError(
        "sentence_transformers", "train", "the same-language batch sampler"
    ) from None


def language_batches(
    langs: Sequence[str],
    keys: Sequence[frozenset[int]],
    batch_size: int,
    rng: np.random.Generator,
    *,
    drop_last: bool = False,
    mix_languages: bool = False,
    groups: Sequence[str] | None = None,
) -> list[list[int]]:
    """Row indices grouped into batches of one language whose rows share no key.

    Each language's rows are shuffled and dealt greedily into batches; a row whose keys
    (hashes of its texts) clash with the batch being filled waits for the next one. The
    batches of all languages are then shuffled together. With ``groups`` (a topic per row,
    e.g. the article a positive comes from) the rows of one group are dealt one after the
    other, so a batch holds few topics and its in-batch negatives are hard ones (topic-aware
    sampling) at no extra encoding cost.

    Args:
        langs: Language of each row.
        keys: Hashes of each row's texts.
        batch_size: Rows per batch.
        rng: Source of the shuffles (seed it per epoch).
        drop_last: Drop batches shorter than ``batch_size``.
        mix_languages: Ignore ``langs`` (one group), keeping the no-duplicates rule.
        groups: Topic of each row (``None``: rows are shuffled freely within a language).

    References:
        - Topic-aware sampling (TAS-Balanced), Hofstätter et al. (arXiv 2104.06967).

    Example:
        >>> langs = ["de", "de", "th", "th"]
        >>> keys = [frozenset({1}), frozenset({1}), frozenset({2}), frozenset({3})]
        >>> batches = language_batches(langs, keys, 2, np.random.default_rng(0))
        >>> sorted(sorted(b) for b in batches)  # rows 0 and 1 share a text
        [[0], [1], [2, 3]]
    """
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be positive, got {batch_size}")
    if len(langs) != len(keys) or (groups is not None and len(groups) != len(keys)):
        raise InvalidInputError(f"{len(langs)} languages for {len(keys)} rows", field="langs")
    by_lang: dict[str, list[int]] = {}
    for row, lang in enumerate(langs):
        by_lang.setdefault("" if mix_languages else lang, []).append(row)
    batches: list[list[int]] = []
    for lang in sorted(by_lang):
        pending = deque(_shuffled(by_lang[lang], groups, rng))
        while pending:
            batch: list[int] = []
            seen: set[int] = set()
            deferred: list[int] = []
            while pending and len(batch) < batch_size:
                row = pending.popleft()
                if keys[row] & seen:
                    deferred.append(row)
                    continue
                batch.append(row)
                seen |= keys[row]
            pending.extendleft(reversed(deferred))
            if len(batch) == batch_size or not drop_last:
                batches.append(batch)
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def _shuffled(rows: list[int], groups: Sequence[str] | None, rng: np.random.Generator) -> list[int]:
    """``rows`` in random order; with ``groups``, each group's rows kept together."""
    if groups is None:
        return [rows[i] for i in rng.permutation(len(rows))]
    members: dict[str, list[int]] = {}
    for row in rows:
        members.setdefault(groups[row], []).append(row)
    names = sorted(members)
    out: list[int] = []
    for g in rng.permutation(len(names)):
        group = members[names[g]]
        out += [group[i] for i in rng.permutation(len(group))]
    return out


class SameLanguageBatchSampler(DefaultBatchSampler):
    """sentence-transformers batch sampler: one language per batch, no repeated text.

    The order depends only on ``seed`` and the epoch, so a run resumed from a checkpoint
    sees exactly the batches the interrupted run would have seen.

    Args:
        dataset: The training dataset (its text columns give the duplicate keys).
        batch_size: Rows per batch.
        drop_last: Drop short batches.
        valid_label_columns: Label columns (not texts: ignored for duplicates).
        generator: Unused (the order comes from ``seed`` + epoch).
        seed: Seed of the shuffles.
        langs: Language of each dataset row.
        mix_languages: Allow several languages in a batch (duplicates still avoided).
        groups: Topic of each row, batched together (see :func:`language_batches`).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        drop_last: bool,
        valid_label_columns: list[str] | None = None,
        generator: Any = None,
        seed: int = 0,
        *,
        langs: Sequence[str],
        mix_languages: bool = False,
        groups: Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            dataset,
            batch_size=batch_size,
            drop_last=drop_last,
            valid_label_columns=valid_label_columns,
            generator=generator,
            seed=seed,
        )
        if len(langs) != len(dataset):
            raise InvalidInputError(
                f"{len(langs)} languages for a dataset of {len(dataset)} rows", field="langs"
            )
        self.langs = list(langs)
        self.mix_languages = mix_languages
        self.groups = None if groups is None else list(groups)
        labels = set(valid_label_columns or ()) | {"label", "labels", "score", "scores"}
        columns = [c for c in dataset.column_names if c not in labels and c != "dataset_name"]
        texts = [dataset[c] for c in columns]
        self.keys = [frozenset(hash(t) for t in row) for row in zip(*texts, strict=True)]
        self._cache: tuple[int, list[list[int]]] | None = None

    def batches(self) -> list[list[int]]:
        """This epoch's batches."""
        if self._cache is None or self._cache[0] != self.epoch:
            rng = np.random.default_rng([self.seed, self.epoch])
            found = language_batches(
                self.langs,
                self.keys,
                self.batch_size,
                rng,
                drop_last=self.drop_last,
                mix_languages=self.mix_languages,
                groups=self.groups,
            )
            self._cache = (self.epoch, found)
        return self._cache[1]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.batches()

    def __len__(self) -> int:
        return len(self.batches())


def same_language_sampler(
    langs: Sequence[str],
    *,
    mix_languages: bool = False,
    groups: Sequence[str] | None = None,
) -> Callable[..., SameLanguageBatchSampler]:
    """A ``batch_sampler`` for sentence-transformers' training arguments.

    Example:
        >>> make = same_language_sampler(["de", "th"])
        >>> make.keywords["langs"]
        ('de', 'th')
    """
    return functools.partial(
        SameLanguageBatchSampler,
        langs=tuple(langs),
        mix_languages=mix_languages,
        groups=None if groups is None else tuple(groups),
    )


def group_keys(training_set: Any, pattern: str) -> list[str]:
    r"""Topic of each row: the first capturing group of ``pattern`` in its ``positive_id``
    (else ``source_id``); a row that does not match is a topic of its own.

    Example:
        >>> from polyret.types import TrainingSet
        >>> ts = TrainingSet.from_records([
        ...     {"id": "e1", "query": "q", "positive": "p", "positive_id": "de_a03_p01_s02"},
        ...     {"id": "e2", "query": "q", "positive": "p", "positive_id": "x"}])
        >>> group_keys(ts, r"^(.*_a\d+)_")
        ['de_a03', 'row:e2']
    """
    import re

    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise InvalidInputError(f"bad group_by regex: {error}", field="group_by") from None
    if regex.groups < 1:
        raise InvalidInputError("group_by needs a capturing group", field="group_by")
    keys = []
    ids = training_set.column("id")
    positives = training_set.column("positive_id")
    sources = training_set.column("source_id")
    for row_id, positive, source in zip(ids, positives, sources, strict=True):
        found = regex.search(positive or source or "")
        keys.append(found.group(1) if found else "row:" + row_id)
    return keys
