"""polyret's fast CPU path for mean-pooled BERT-style sentence-transformers folders.

Three things make it faster than ``SentenceTransformer.encode`` on a small CPU, measured
on the exported multilingual-e5-small (``benchmarks/bench_encode.py``):

1. ONNX Runtime instead of eager torch: the model is exported once with ``torch.onnx``
   (mean pooling inside the graph), its MatMul weights quantized to int8 per output
   channel (``onnxruntime.quantization.quantize_dynamic``), and the ``.onnx`` file cached
   next to the model cache, keyed by the model's fingerprint.
2. Token-capped batches over texts sorted by length (:func:`length_batches`): short texts
   travel in big batches, long ones in small ones, and padding nearly vanishes.
3. One tokenizer call per encode (``tokenizers`` batch encoding in Rust).

Without onnx/onnxruntime it falls back to torch (float32, same batching).

int8 activations are quantized per batch at run time (ONNX Runtime's dynamic
quantization), so a text's vector depends slightly on the texts batched with it (cosine
≥ 0.99 between batchings). ``quantize=False`` gives batch-independent float32 vectors
identical to sentence-transformers (within 1e-4).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm.auto import tqdm

from polyret.encode.base import BaseEncoder, EncoderConfig, padded_batches
from polyret.errors import InvalidInputError
from polyret.io.atomic import file_lock
from polyret.io.manifest import ADAPTATION_FILE, PROVENANCE_FILE
from polyret.optional import require

log = logging.getLogger(__name__)

Runtime = Literal["auto", "onnx", "torch"]
_ONNX_FORMAT = 1


class FastEncoder(BaseEncoder):
    """A mean-pooling sentence-transformers folder run through ONNX Runtime (or torch).

    Args:
        path: The model folder (``modules.json``, ``tokenizer.json``, ``config.json``).
        config: Shared encoder options.
        runtime: ``"onnx"``, ``"torch"`` or ``"auto"`` (ONNX Runtime when installed).
        quantize: With ONNX Runtime, int8 weights for every MatMul (per output channel).
        name: Display name (default: the folder name).
        cache_dir: Where exported ``.onnx`` files live (default: the polyret model cache).
        **options: Overrides of ``config`` fields.

    Raises:
        InvalidInputError: the folder is not a mean-pooling transformer model.
    """

    backend = "fast"

    def __init__(
        self,
        path: str | os.PathLike[str],
        config: EncoderConfig | None = None,
        *,
        runtime: Runtime = "auto",
        quantize: bool = True,
        name: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(config, **options)
        self.path = Path(path)
        self.name = name or self.path.name
        spec = read_model_folder(self.path)
        self.native_dim = spec["dim"]
        self._max_length = spec["max_length"]
        self.set_prompts(spec["prompts"])
        self._pad_id = spec["pad_id"]
        self._tokenizer = _load_tokenizer(self.path / "tokenizer.json", self.max_length)
        if runtime == "auto":
            runtime = "onnx" if _onnx_available() else "torch"
        if runtime not in ("onnx", "torch"):
            raise InvalidInputError(f"runtime must be 'auto', 'onnx' or 'torch', got {runtime!r}")
        self.runtime = runtime
        self.quantize = bool(quantize and runtime == "onnx")
        self._cache_dir = cache_dir
        self._session: Any = None
        self._torch_model: Any = None

    def _identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": model_folder_fingerprint(self.path),
            "runtime": self.runtime,
            "quantize": self.quantize,
        }

    def token_lengths(self, texts: list[str]) -> np.ndarray:
        """Token count of each (already prefixed) text, specials included, after truncation."""
        return np.array([len(e.ids) for e in self._tokenizer.encode_batch(texts)])

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        out = np.empty((len(texts), self.native_dim), np.float32)
        batches = padded_batches(
            encodings,
            self._pad_id,
            max_tokens=self.config.max_tokens,
            batch_size=self.config.batch_size,
        )
        forward = self._onnx_forward if self.runtime == "onnx" else self._torch_forward
        with tqdm(total=len(texts), disable=not show_progress, desc=f"encode {kind}") as bar:
            for rows, ids, mask in batches:
                out[rows] = forward(ids, mask)
                bar.update(len(rows))
        return out

    # -- runtimes ---------------------------------------------------------------------
    def _onnx_forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self._session is None:
            onnx_file = onnx_model(self.path, quantize=self.quantize, cache_dir=self._cache_dir)
            self._session = onnx_session(onnx_file, self.config.threads)
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def _torch_forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = require("torch", "dense", "the fast encoder")
        if self._torch_model is None:
            if self.config.threads:
                torch.set_num_threads(self.config.threads)
            self._torch_model = _Headed(_load_transformer(self.path)).eval()
        with torch.inference_mode():
            pooled = self._torch_model(torch.from_numpy(ids), torch.from_numpy(mask))
        return pooled.numpy()


def onnx_session(graph: Path, threads: int | None) -> Any:
    """An ONNX Runtime CPU session over ``graph`` (``threads``: intra-op, default all cores)."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or _cpu_count()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def read_model_folder(path: Path) -> dict[str, Any]:
    """What the fast path needs from a mean-pooling sentence-transformers folder, checked."""
    spec = read_transformer_folder(path)
    pooling = (
        _read_json(path / "1_Pooling" / "config.json") if (path / "1_Pooling").is_dir() else {}
    )
    # sentence-transformers < 6 writes pooling_mode_mean_tokens: true, 6+ pooling_mode: "mean"
    if pooling and not (
        pooling.get("pooling_mode_mean_tokens", False) or pooling.get("pooling_mode") == "mean"
    ):
        raise InvalidInputError(
            "the fast path supports mean pooling only: use the 'sentence-transformers' backend",
            path=path / "1_Pooling" / "config.json",
        )
    return spec


def read_transformer_folder(path: Path) -> dict[str, Any]:
    """Hidden size, token limit, prompts and pad id of a transformer folder (any pooling)."""
    if not (path / "config.json").is_file() or not (path / "tokenizer.json").is_file():
        raise InvalidInputError(
            "not a transformer model folder with a fast tokenizer (config.json + tokenizer.json)",
            path=path,
        )
    config = _read_json(path / "config.json")
    st_config = _read_json(path / "config_sentence_transformers.json")
    bert_config = _read_json(path / "sentence_bert_config.json")
    max_length = int(
        bert_config.get("max_seq_length") or config.get("max_position_embeddings", 512)
    )
    return {
        "dim": int(config["hidden_size"]),
        "max_length": max_length,
        "prompts": st_config.get("prompts") or {},
        "pad_id": int(config.get("pad_token_id") or 0),
    }


_RECORDS = ("README.md", PROVENANCE_FILE, ADAPTATION_FILE)
"""Files of a model folder that record how it was made and do not change what it computes."""


def model_folder_fingerprint(path: Path) -> str:
    """sha1 over the folder's small files and the sizes/mtimes of its weight files (model
    cards, provenance and adapt's training set left out: they do not change the outputs)."""
    digest = hashlib.sha1()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = str(file.relative_to(path))
        if rel.startswith(("onnx", "training-set/")) or rel in _RECORDS:
            continue
        digest.update(rel.encode())
        stat = file.stat()
        if stat.st_size < 1 << 16:
            digest.update(file.read_bytes())
        else:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def onnx_model(
    path: str | os.PathLike[str],
    *,
    quantize: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    token_layers: tuple[int, ...] | None = None,
) -> Path:
    """The cached ONNX export of a model folder, exporting it on first use.

    The graph takes ``input_ids`` and ``attention_mask`` (int64, ``[batch, tokens]``) and
    returns the mean-pooled, unnormalized ``[batch, dim]`` embedding, or with
    ``token_layers`` the ``[batch, tokens, dim]`` token states (the sum of those hidden
    layers, ``-1`` the last) that late interaction scores.

    Args:
        path: The model folder.
        quantize: int8 per-channel weights for every MatMul (dynamic activation
            quantization at run time).
        cache_dir: The polyret cache root (default ``$POLYRET_CACHE`` or ``~/.cache/polyret``).
        token_layers: Export token states of these layers instead of the pooled embedding.
    """
    from polyret.models.export import models_cache_dir

    path = Path(path)
    key = model_folder_fingerprint(path)
    folder = models_cache_dir(cache_dir) / "onnx" / key
    stem = "model" if token_layers is None else "tokens" + "_".join(map(str, token_layers))
    target = folder / (f"{stem}.int8.onnx" if quantize else f"{stem}.onnx")
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / ".lock"):
        if target.is_file():
            return target
        fp32 = folder / f"{stem}.onnx"
        if not fp32.is_file():
            log.info("exporting %s to ONNX (once)", path)
            _export_onnx(path, fp32, token_layers)
        if quantize:
            log.info("quantizing %s to int8 (once)", fp32)
            _quantize_onnx(fp32, target)
        (folder / "source.json").write_text(
            json.dumps({"model": str(path.resolve()), "format": _ONNX_FORMAT}) + "\n"
        )
    return target


def _export_onnx(path: Path, target: Path, token_layers: tuple[int, ...] | None = None) -> None:
    torch = require("torch", "dense", "the fast encoder")
    require("onnx", "dense", "the fast encoder")
    model = _Headed(_load_transformer(path), token_layers).eval()
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes baked as constants
            torch.onnx.export(
                model,
                (ids, mask),
                str(tmp),
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"}
                    if token_layers is None
                    else {0: "batch", 1: "tokens"},
                },
                opset_version=17,
            )
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _quantize_onnx(source: Path, target: Path) -> None:
    require("onnx", "dense", "the fast encoder")
    from onnxruntime.quantization import (  # type: ignore[import-untyped]
        QuantType,
        quantize_dynamic,
    )

    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # the quantizer logs a line per tensor, and advice
    try:
        quantize_dynamic(
            str(source),
            str(tmp),
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=_activation_matmuls(source),
            per_channel=True,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": 1},  # FLOAT, where shape inference gives up
        )
        os.replace(tmp, target)
    finally:
        root.setLevel(level)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _activation_matmuls(source: Path) -> list[str]:
    """MatMul nodes with no constant input (attention scores × values): kept in float."""
    import onnx

    graph = onnx.load(str(source), load_external_data=False).graph
    constants = {init.name for init in graph.initializer}
    constants |= {n.output[0] for n in graph.node if n.op_type == "Constant"}
    return [
        n.name
        for n in graph.node
        if n.op_type == "MatMul" and not any(i in constants for i in n.input)
    ]


class _Headed:  # built lazily so importing this module does not import torch
    """The transformer with its output head: mean pooling, or token states of some layers."""

    def __new__(cls, transformer: Any, token_layers: tuple[int, ...] | None = None) -> Any:
        torch = require("torch", "dense", "the fast encoder")

        class Headed(torch.nn.Module):  # type: ignore[name-defined,misc]
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                out = self.inner(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    output_hidden_states=token_layers is not None,
                )
                if token_layers is not None:
                    return sum(out.hidden_states[layer] for layer in token_layers)
                hidden = out.last_hidden_state
                weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
                return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

        return Headed(transformer)


def _load_transformer(path: Path) -> Any:
    transformers = require("transformers", "dense", "the fast encoder")
    return transformers.AutoModel.from_pretrained(str(path))


def _load_tokenizer(file: Path, max_length: int) -> Any:
    tokenizers = require("tokenizers", "dense", "the fast encoder")
    tokenizer = tokenizers.Tokenizer.from_file(str(file))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def _onnx_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx", "torch"))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise InvalidInputError(f"invalid JSON ({error})", path=path) from None
