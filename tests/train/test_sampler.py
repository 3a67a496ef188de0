"""Same-language batches: never two languages in a batch, never a text twice, every row once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyret.errors import InvalidInputError
from polyret.train import SameLanguageBatchSampler, group_keys, language_batches

rows = st.lists(
    st.tuples(st.sampled_from(["de", "th", "zh", "sw"]), st.integers(0, 30)),
    min_size=1,
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows, batch_size=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_batches_are_one_language_without_repeated_texts(rows, batch_size, seed):
    langs = [lang for lang, _ in rows]
    keys = [frozenset({text}) for _, text in rows]
    batches = language_batches(langs, keys, batch_size, np.random.default_rng(seed))
    assert sorted(i for batch in batches for i in batch) == list(range(len(rows)))
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        assert len({langs[i] for i in batch}) == 1
        texts = [rows[i][1] for i in batch]
        assert len(texts) == len(set(texts))


@settings(max_examples=30, deadline=None)
@given(rows=rows, batch_size=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_mixed_batches_keep_the_no_duplicates_rule(rows, batch_size, seed):
    langs = [lang for lang, _ in rows]
    keys = [frozenset({text}) for _, text in rows]
    batches = language_batches(
        langs, keys, batch_size, np.random.default_rng(seed), mix_languages=True
    )
    assert sorted(i for batch in batches for i in batch) == list(range(len(rows)))
    for batch in batches:
        texts = [rows[i][1] for i in batch]
        assert len(texts) == len(set(texts))


def test_groups_are_dealt_together():
    langs = ["de"] * 12
    keys = [frozenset({i}) for i in range(12)]
    groups = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    batches = language_batches(langs, keys, 4, np.random.default_rng(0), groups=groups)
    assert sorted(len({groups[i] for i in batch}) for batch in batches) == [1, 1, 1]


def test_drop_last_drops_short_batches():
    keys = [frozenset({i}) for i in range(5)]
    batches = language_batches(["de"] * 5, keys, 2, np.random.default_rng(0), drop_last=True)
    assert [len(b) for b in batches] == [2, 2]


def test_sampler_order_depends_on_seed_and_epoch_only(crops):
    from polyret.train.common import to_dataset

    dataset = to_dataset(crops.to_sentence_transformers())
    langs = crops.column("lang")

    def make(seed):
        return SameLanguageBatchSampler(dataset, 8, False, seed=seed, langs=langs)

    first, again = make(3), make(3)
    assert list(first) == list(again)
    first.set_epoch(1)
    assert list(first) != list(again)
    again.set_epoch(1)
    assert list(first) == list(again) and len(first) == len(list(first))
    for batch in first:
        assert len({langs[i] for i in batch}) == 1


def test_sampler_needs_one_language_per_row(crops):
    from polyret.train.common import to_dataset

    dataset = to_dataset(crops.to_sentence_transformers())
    with pytest.raises(InvalidInputError, match="languages"):
        SameLanguageBatchSampler(dataset, 8, False, langs=["de"])


def test_group_keys_need_a_capturing_group(crops):
    assert group_keys(crops, r"^([a-z]+_a\d+)_")[0] == crops.column("positive_id")[0][:6]
    with pytest.raises(InvalidInputError, match="capturing group"):
        group_keys(crops, r"_a\d+")
