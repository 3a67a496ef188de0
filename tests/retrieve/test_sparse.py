"""Learned sparse retrieval and the BGE-M3 folder format, on real models and real sentences.

The heads of the BGE-M3-format folder (``m3_folder``) are freshly initialised, so these
tests check shapes, exact scores, loading and clear errors, not sparse quality.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from polyret.encode.sparse import (
    SPARSE_FILE,
    SparseEncoder,
    SpladeEncoder,
    load_sparse_encoder,
    sparse_rows,
)
from polyret.errors import InvalidInputError
from polyret.evaluate import evaluate
from polyret.retrieve import LearnedSparse, LearnedSparseConfig, load_index, search


@pytest.fixture(scope="module")
def german(xquad_r):
    ids = xquad_r.corpus.filter(lang="de").ids
    queries, qrels = xquad_r.split("test")
    queries = queries.filter(lang="de")
    judged = {q: dict(qrels[q]) for q in queries.ids}
    return xquad_r.corpus.filter(ids=ids), queries, judged


@pytest.fixture(scope="module")
def options(polyret_cache):
    pytest.importorskip("onnxruntime")
    return {"cache_dir": str(polyret_cache), "threads": 2}


@pytest.fixture(scope="module")
def sparse_index(german, m3_folder, options):
    corpus, _, _ = german
    config = LearnedSparseConfig(encoder=str(m3_folder), encoder_options=options)
    return LearnedSparse(config).index(corpus)


def test_sparse_rows_keep_the_largest_weight_per_token():
    texts = np.array([0, 0, 0, 1, 1, 2])
    ids = np.array([7, 3, 7, 3, 3, 9])
    weights = np.array([0.5, 0.25, 0.75, 0.0, -1.0, 2.0])
    matrix = sparse_rows(texts, ids, weights, (4, 10))
    assert matrix.shape == (4, 10) and matrix.dtype == np.float32
    assert matrix.toarray()[0].tolist() == [0, 0, 0, 0.25, 0, 0, 0, 0.75, 0, 0]
    assert matrix[1].nnz == 0 and matrix[3].nnz == 0  # zero/negative weights are dropped
    assert float(matrix[2, 9]) == 2.0


def test_sparse_head_matches_a_direct_computation(m3_folder, sample_texts):
    """BGE-M3's definition: ReLU(sparse_linear(last hidden)) per token, max per id, specials
    and the passage prefix dropped (float32 torch on both sides)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    texts = sample_texts[8:12]  # German
    encoder = SparseEncoder(m3_folder, runtime="torch", threads=2)
    weights = encoder.encode_documents(texts)
    assert weights.shape == (4, encoder.vocab_size)
    head = torch.nn.Linear(384, 1)
    head.load_state_dict(torch.load(m3_folder / SPARSE_FILE, weights_only=True))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(m3_folder))
    model = transformers.AutoModel.from_pretrained(str(m3_folder)).eval()
    for row, text in enumerate(texts):
        batch = tokenizer("passage: " + text, return_tensors="pt", return_offsets_mapping=True)
        ends = batch.pop("offset_mapping")[0, :, 1].numpy()
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state[0]
            token_weights = torch.relu(head(hidden))[:, 0].numpy()
        ids = batch["input_ids"][0].numpy()
        expected: dict[int, float] = {}
        for position in range(1, len(ids) - 1):  # <s> ... </s>
            # a prefix token ends within "passage: " (its trailing space may merge onward)
            if token_weights[position] > 0 and ends[position] > len("passage: "):
                token = int(ids[position])
                expected[token] = max(expected.get(token, 0.0), float(token_weights[position]))
        got = weights[row]
        assert dict(zip(got.indices.tolist(), got.data.tolist(), strict=True)).keys() == (
            expected.keys()
        )
        assert np.allclose([expected[i] for i in got.indices], got.data, atol=1e-4)


def test_index_scores_are_dot_products_and_survive_save_load(german, sparse_index, tmp_path: Path):
    _, queries, _ = german
    run = sparse_index.search(queries, k=5)
    q = sparse_index.encoder.encode_queries(queries.texts)
    expanded = np.zeros((q.shape[1], sparse_index.num_documents), np.float32)
    expanded[sparse_index.terms] = sparse_index.matrix.toarray()  # back to vocabulary rows
    dense_scores = q.toarray() @ expanded
    doc_row = {d: i for i, d in enumerate(sparse_index._doc_ids)}
    for i, query_id in enumerate(queries.ids[:20]):
        ranked = run.get(query_id, {})
        assert len(ranked) == min(5, int((dense_scores[i] > 0).sum()))
        for doc_id, score in ranked.items():
            assert score == pytest.approx(dense_scores[i, doc_row[doc_id]], rel=1e-5)
        if ranked:
            assert min(ranked.values()) >= np.sort(dense_scores[i])[-len(ranked)] - 1e-6
    assert sparse_index.matrix.shape == (len(sparse_index.terms), len(doc_row))
    assert 0 < sparse_index.bytes_per_document < 400
    sparse_index.save(tmp_path / "sparse")
    loaded = load_index(tmp_path / "sparse")
    assert isinstance(loaded, LearnedSparse)
    assert search(loaded, queries) == sparse_index.search(queries, k=1000)
    meta = json.loads((tmp_path / "sparse" / "polyret.json").read_text())
    assert meta["type"] == "sparse"
    meta["encoder"]["fingerprint"] = "0" * 40
    (tmp_path / "sparse" / "polyret.json").write_text(json.dumps(meta))
    with pytest.raises(InvalidInputError, match="another version"):
        LearnedSparse.load(tmp_path / "sparse")
    with pytest.raises(InvalidInputError, match="empty"):
        LearnedSparse(sparse_index.config).search(queries, k=5)


def test_a_folder_without_a_sparse_head_names_the_folder_and_the_file(e5_folder, options):
    with pytest.raises(InvalidInputError, match=SPARSE_FILE) as error:
        LearnedSparse(LearnedSparseConfig(encoder=str(e5_folder), encoder_options=options))
    assert str(e5_folder) in str(error.value)


@pytest.mark.slow  # exports the folder's token graph and runs sentence-transformers: ~80 s
def test_m3_folder_loads_and_searches_in_all_three_modes(german, m3_folder, options, sparse_index):
    """Dense (CLS pooling: the sentence-transformers backend), multi-vector (the folder's
    colbert_linear.pt) and sparse (its sparse_linear.pt)."""
    from polyret.encode import load_encoder
    from polyret.encode.fast import FastEncoder
    from polyret.retrieve import Dense, MultiVector, MultiVectorConfig

    corpus, queries, qrels = german
    encoder = load_encoder(m3_folder)
    assert not isinstance(encoder, FastEncoder)  # the fast path is mean pooling only
    dense = Dense(encoder).index(corpus)
    multi = MultiVector(MultiVectorConfig(encoder=str(m3_folder), encoder_options=options))
    assert multi.encoder.projection is not None  # colbert_linear.pt, read from the folder
    multi.index(corpus)
    scores = {
        name: evaluate(index.search(queries, k=10), qrels, ["ndcg@10"]).mean["ndcg@10"]
        for name, index in (("dense", dense), ("multivector", multi), ("sparse", sparse_index))
    }
    # e5 was trained with mean pooling and the heads are random: loose floors, no quality claim
    assert scores["dense"] > 0.3 and scores["multivector"] > 0.5, scores
    assert scores["sparse"] > 0.0, scores


@pytest.fixture(scope="module")
def splade_folder(e5_folder, tmp_path_factory) -> Path:
    """A tiny random BERT masked-LM folder with e5's tokenizer (a SPLADE-style model)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    vocab = json.loads((e5_folder / "config.json").read_text())["vocab_size"]
    config = transformers.BertConfig(
        vocab_size=vocab,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        pad_token_id=1,
    )
    folder = tmp_path_factory.mktemp("splade") / "tiny-splade"
    transformers.BertForMaskedLM(config).save_pretrained(str(folder))
    shutil.copy(e5_folder / "tokenizer.json", folder / "tokenizer.json")
    return folder


def test_splade_folder_weights_and_index(splade_folder, german):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    encoder = load_sparse_encoder(splade_folder, threads=2)
    assert isinstance(encoder, SpladeEncoder)
    corpus, queries, _ = german
    texts = corpus.texts[:3]
    weights = encoder.encode_documents(texts)
    model = transformers.AutoModelForMaskedLM.from_pretrained(str(splade_folder)).eval()
    for row, text in enumerate(texts):
        ids = torch.tensor([encoder._tokenizer.encode(text).ids])
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0]
        expected = torch.log1p(torch.relu(logits)).amax(dim=0).numpy()
        assert np.allclose(weights[row].toarray()[0], expected, atol=1e-5)
    index = LearnedSparse(encoder=str(splade_folder), encoder_options={"threads": 2})
    index.index(corpus.filter(ids=corpus.ids[:8]))
    few = queries.filter(ids=queries.ids[:4])
    assert len(index.search(few, k=3)) == len(few)


def test_cli_index_sparse_then_search(
    german, m3_folder, e5_folder, polyret_cache, tmp_path, monkeypatch
):
    """``polyret index --sparse MODEL`` writes a "sparse" index that ``polyret search`` reads;
    a folder without a head fails with the file's name."""
    from typer.testing import CliRunner

    from polyret.cli import app
    from polyret.io import read_trec_run
    from polyret.io.beir import write_corpus

    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("POLYRET_CACHE", str(polyret_cache))  # the session's ONNX graphs
    corpus, _, _ = german
    write_corpus(corpus.filter(ids=corpus.ids[:40]), tmp_path / "corpus.jsonl")
    runner = CliRunner()
    args = ["index", str(tmp_path / "corpus.jsonl"), "--out", str(tmp_path / "idx")]
    result = runner.invoke(app, [*args, "--sparse", str(m3_folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "idx" / "polyret.json").read_text())["type"] == "sparse"
    search_args = ["search", str(tmp_path / "idx"), "xquad-r", "--lang", "de", "--split", "test"]
    result = runner.invoke(app, [*search_args, "-o", str(tmp_path / "run.trec"), "-k", "5"])
    assert result.exit_code == 0, result.output
    assert len(read_trec_run(tmp_path / "run.trec")) > 0
    result = runner.invoke(app, [*args, "--sparse", str(e5_folder), "--overwrite"])
    assert result.exit_code != 0 and SPARSE_FILE in str(result.exception)
