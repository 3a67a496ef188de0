"""``generator_from``/``filters_from``: what ``polyret generate``/``filter`` and the pipeline
build from :class:`GenerateConfig`/:class:`FilterConfig`, on the real methods."""

from __future__ import annotations

import pytest

from polyret.curate import (
    DEFAULT_FILTERS,
    FilterConfig,
    FilterSpec,
    GenerateConfig,
    apply_filters,
    filters_from,
    generator_from,
)
from polyret.errors import InvalidInputError


def test_the_config_seed_wins_over_an_option_seed(xquad_r):
    corpus = xquad_r.corpus.take(range(12))
    config = GenerateConfig(method="crop", options={"per_doc": 2, "seed": 9}, seed=3)
    made = generator_from(config).generate(corpus)
    again = generator_from(GenerateConfig(method="crop", options={"per_doc": 2}, seed=3))
    other = generator_from(GenerateConfig(method="crop", options={"per_doc": 2}, seed=9))
    assert made.column("query") == again.generate(corpus).column("query")
    assert made.column("query") != other.generate(corpus).column("query")


def test_an_unknown_option_names_the_method():
    with pytest.raises(InvalidInputError, match=r"generator 'crop'.*'windo'"):
        generator_from(GenerateConfig(method="crop", options={"windo": 2}))
    with pytest.raises(InvalidInputError, match=r"filter 'dedup'.*'treshold'"):
        filters_from(FilterConfig(filters=[FilterSpec(name="dedup", options={"treshold": 1})]))


def test_default_chain_reads_no_corpus():
    def unread():
        raise AssertionError("the corpus was read")

    assert [f.name for f in filters_from(FilterConfig(), unread)] == list(DEFAULT_FILTERS)


def test_consistency_retrieves_from_the_corpus_given(xquad_r):
    config = FilterConfig(filters=[FilterSpec(name="consistency", options={"k": 5})])
    with pytest.raises(InvalidInputError, match="consistency filter needs a corpus"):
        filters_from(config)
    crop = GenerateConfig(method="crop", options={"positive": "document"})
    examples = generator_from(crop).generate(xquad_r.corpus)
    german = xquad_r.corpus.filter(lang=["de"])
    reads = []
    (lazy,) = filters_from(config, lambda: reads.append(1) or german)
    (eager,) = filters_from(config, german)
    assert reads == [1] and lazy.config["k"] == 5
    kept = apply_filters(examples, [lazy])
    # only the German crops can find their document in a German-only corpus
    assert set(kept.column("lang")) == {"de"} and len(kept) > 0
    assert kept.ids == apply_filters(examples, [eager]).ids
