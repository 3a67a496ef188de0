"""A saved index holds the config that made it: ``polyret.json`` → the same config object."""

from __future__ import annotations

import pytest

from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta
from polyret.retrieve import BM25, BM25Config, Dense, DenseConfig, load_index
from polyret.types import Corpus

CORPUS = Corpus.from_records(
    [
        {"id": "rhein", "text": "Der Rhein fließt nach Norden.", "lang": "de"},
        {"id": "nil", "text": "نهر النيل أطول نهر في أفريقيا.", "lang": "ar"},
    ]
)


def test_bm25_config_round_trips_through_the_saved_index(tmp_path):
    config = BM25Config(k1=1.2, b=0.75, variant="bm25+", analyzer={"stemmer": None})
    BM25(config).index(CORPUS).save(tmp_path / "bm25")
    assert read_meta(tmp_path / "bm25")["config"] == config.model_dump(mode="json")
    assert BM25.load(tmp_path / "bm25").config == config


def test_dense_config_round_trips_with_its_encoder(tmp_path):
    config = DenseConfig(encoder="hashing", encoder_options={"dim": 32}, index="hnsw", hnsw_m=8)
    dense = Dense(config=config).index(CORPUS)
    assert dense.encoder.dim == 32
    dense.save(tmp_path / "dense")
    assert read_meta(tmp_path / "dense")["config"] == config.model_dump(mode="json")
    loaded = load_index(tmp_path / "dense")
    assert isinstance(loaded, Dense) and loaded.config == config
    # a name given to Dense replaces the config's encoder, as the config records
    assert Dense("hashing", DenseConfig(), dim=16).config.encoder_options == {"dim": 16}


def test_options_are_validated_once_with_their_range():
    with pytest.raises(InvalidInputError, match="need 2 <= hnsw_m, got 1"):
        DenseConfig(hnsw_m=1)
    with pytest.raises(InvalidInputError, match="'index'"):
        DenseConfig(index="lsh")
    with pytest.raises(InvalidInputError, match=r"k_1.*Extra inputs"):
        BM25Config(k_1=1.0)
