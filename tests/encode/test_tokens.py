"""Token vectors for late interaction: masks, storage, projection, MaxSim, runtimes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from polyret.encode.tokens import TokenEncoder, TokenVectors, maxsim
from polyret.errors import InvalidInputError


def test_prefix_specials_and_punctuation_are_masked(token_encoder: TokenEncoder):
    tokenizer = token_encoder._tokenizer
    content = len(tokenizer.encode("european rivers", add_special_tokens=False).ids)
    queries = token_encoder.encode_queries(["european rivers!", "!!"])
    # "query: " (2 tokens), <s>, </s> and "!" dropped; a text of punctuation only keeps all
    assert queries.lengths.tolist() == [content, len(tokenizer.encode("query: !!").ids)]
    norms = np.linalg.norm(queries[0], axis=1)
    assert np.allclose(norms, 1.0, atol=2e-3) and queries.vectors.dtype == np.float16
    kept = TokenEncoder(
        token_encoder.path, mask_punctuation=False, cache_dir=token_encoder._cache_dir
    )
    assert kept.encode_queries(["european rivers!"]).lengths.tolist() == [content + 1]


def test_int8_storage_scores_like_float16(token_encoder: TokenEncoder, sample_texts: list[str]):
    int8 = TokenEncoder(token_encoder.path, storage="int8", cache_dir=token_encoder._cache_dir)
    query = sample_texts[3][:40]
    halves = token_encoder.encode_documents(sample_texts)
    bytes8 = int8.encode_documents(sample_texts)
    assert bytes8.vectors.dtype == np.int8 and bytes8.nbytes < 0.6 * halves.nbytes
    rows = np.arange(len(sample_texts))
    a = maxsim(token_encoder.encode_queries([query])[0], halves, rows)
    b = maxsim(int8.encode_queries([query])[0], bytes8, rows)
    assert np.abs(a - b).max() < 0.01 and int(np.argmax(a)) == int(np.argmax(b)) == 3
    assert int8.fingerprint != token_encoder.fingerprint


def test_maxsim_is_the_mean_of_best_token_cosines():
    rng = np.random.default_rng(0)
    lengths = [3, 1, 5]
    vectors = rng.normal(size=(sum(lengths), 8)).astype(np.float16)
    docs = TokenVectors(vectors, np.concatenate([[0], np.cumsum(lengths)]))
    query = rng.normal(size=(4, 8)).astype(np.float32)
    brute = [float((query @ docs[r].T).max(axis=1).mean()) for r in (2, 0)]
    assert np.allclose(maxsim(query, docs, [2, 0]), brute, atol=1e-5)
    assert maxsim(query, docs, []).shape == (0,)
    assert docs.take([2, 0]).lengths.tolist() == [5, 3]


def test_projection_file_changes_the_dimension(token_encoder: TokenEncoder, tmp_path: Path):
    torch = pytest.importorskip("torch")
    linear = torch.nn.Linear(token_encoder.dim, 96)
    torch.save(linear.state_dict(), tmp_path / "colbert_linear.pt")
    projected = TokenEncoder(
        token_encoder.path,
        projection=tmp_path / "colbert_linear.pt",
        cache_dir=token_encoder._cache_dir,
    )
    out = projected.encode_documents(["Der Rhein fließt durch Basel."])
    assert projected.dim == 96 and out.vectors.shape[1] == 96
    assert np.allclose(np.linalg.norm(out[0], axis=1), 1.0, atol=2e-3)
    torch.save({"weight": torch.zeros(8, 5)}, tmp_path / "bad.pt")
    with pytest.raises(InvalidInputError, match=r"bad\.pt"):
        TokenEncoder(token_encoder.path, projection=tmp_path / "bad.pt")
    with pytest.raises(InvalidInputError, match=r"missing\.pt"):
        TokenEncoder(token_encoder.path, projection=tmp_path / "missing.pt")
    assert token_encoder.projection is None  # "auto": the e5 folder has no projection


def test_torch_runtime_ranks_like_onnx(token_encoder: TokenEncoder, sample_texts: list[str]):
    """int8 weights move token vectors more than pooled ones (correlation of MaxSim scores
    ~0.96 over unrelated texts), but rank alike: as a reranker the int8 and float32 paths
    measured within noise of each other (benchmarks/bench_late_interaction.py)."""
    pytest.importorskip("torch")
    exact = TokenEncoder(token_encoder.path, runtime="torch", threads=2)
    query = " ".join(sample_texts[10].split()[:6])
    a = maxsim(
        token_encoder.encode_queries([query])[0], token_encoder.encode_documents(sample_texts)
    )
    b = maxsim(exact.encode_queries([query])[0], exact.encode_documents(sample_texts))
    assert np.corrcoef(a, b)[0, 1] > 0.9
    assert int(np.argmax(a)) == int(np.argmax(b)) == 10
