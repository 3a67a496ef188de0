"""Learned sparse lexical weights: BGE-M3's sparse head, and SPLADE's masked-LM head.

Both turn a text into one weight per vocabulary id (a row of a scipy CSR matrix
``[texts × vocab]``); a query and a document score the dot product of their rows, the sum
over shared token ids of ``w_q · w_d``.

- :class:`SparseEncoder` (BGE-M3): ``ReLU(sparse_linear(h))`` of each content token's last
  hidden state ``h``, the maximum over repeats of the same id. The head is a
  ``torch.nn.Linear(hidden, 1)`` state dict in ``sparse_linear.pt`` (BGE-M3's file name and
  format). The token states come from :class:`~polyret.encode.tokens.TokenEncoder` (the
  int8 ONNX path, its batching, its special-token and prefix masks).
- :class:`SpladeEncoder`: ``max over tokens of log(1 + ReLU(MLM logits))`` of a masked-LM
  folder (``AutoModelForMaskedLM``, through torch).

:func:`load_sparse_encoder` picks one for a folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from polyret.encode.base import check_texts, padded_batches
from polyret.encode.fast import (
    _load_tokenizer,
    _read_json,
    model_folder_fingerprint,
    read_transformer_folder,
)
from polyret.encode.tokens import TextKind, TokenEncoder, read_linear
from polyret.errors import InvalidInputError
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.models.m3 import SPARSE_FILE
from polyret.optional import require


def sparse_rows(
    texts: np.ndarray, ids: np.ndarray, weights: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """A CSR matrix from ``(text, token id, weight)`` triples: the maximum per (text, id),
    zero and negative weights dropped.

    Example:
        >>> ids, weights = np.array([5, 5, 2]), np.array([0.2, 0.7, 0.0])
        >>> m = sparse_rows(np.array([0, 0, 1]), ids, weights, (2, 8))
        >>> float(m[0, 5]), m.nnz
        (0.699999988079071, 1)
    """
    keep = weights > 0
    texts, ids, weights = texts[keep], ids[keep], weights[keep].astype(np.float32)
    order = np.lexsort((-weights, ids, texts))  # per (text, id), the largest weight first
    texts, ids, weights = texts[order], ids[order], weights[order]
    first = np.ones(len(ids), bool)
    first[1:] = (texts[1:] != texts[:-1]) | (ids[1:] != ids[:-1])
    matrix = sp.csr_matrix(
        (weights[first], (texts[first], ids[first])), shape=shape, dtype=np.float32
    )
    matrix.sort_indices()
    return matrix


def sparse_tokens(
    model: str | os.PathLike[str], *, mask_punctuation: bool = False, **options: Any
) -> TokenEncoder:
    """The token states BGE-M3's sparse head reads: the last layer, no projection (the
    head trainer reads the same, so a trained head scores as it was trained).

    ``options`` are :class:`~polyret.encode.tokens.TokenEncoder`'s.
    """
    return TokenEncoder(
        model, layers=(-1,), projection=None, mask_punctuation=mask_punctuation, **options
    )


class _SparseModel:
    """What the sparse encoders share: the public encode methods over ``_weights``."""

    name: str
    vocab_size: int

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> Any:
        """CSR ``[queries × vocab]`` float32 weights (query prefix added)."""
        return self._weights(check_texts(texts), "query", show_progress)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Any:
        """CSR ``[documents × vocab]`` float32 weights (passage prefix added)."""
        return self._weights(check_texts(texts), "passage", show_progress)

    @property
    def fingerprint(self) -> str:  # pragma: no cover (every subclass defines it)
        raise NotImplementedError

    def _weights(self, texts: list[str], kind: TextKind, show_progress: bool) -> Any:
        raise NotImplementedError  # pragma: no cover


class SparseEncoder(_SparseModel):
    """BGE-M3's sparse function over a transformer folder with a ``sparse_linear.pt``.

    Args:
        model: A packaged model name, or a model folder.
        head: The sparse head file; ``"auto"``: the folder's ``sparse_linear.pt``.
        mask_punctuation: Also drop punctuation tokens (BGE-M3 keeps them; specials and the
            ``query: ``/``passage: `` prefix are always dropped).
        **options: :class:`~polyret.encode.tokens.TokenEncoder` options (``runtime``,
            ``quantize``, ``max_length``, ``batch_size``, ``max_tokens``, ``threads``,
            ``cache_dir``).

    Raises:
        InvalidInputError: no head file (the error names the folder and the file), or a head
            that is not a ``Linear(hidden, 1)``.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        head: str | os.PathLike[str] = "auto",
        mask_punctuation: bool = False,
        **options: Any,
    ) -> None:
        self.tokens = sparse_tokens(model, mask_punctuation=mask_punctuation, **options)
        self.name = self.tokens.name
        file = self.tokens.path / SPARSE_FILE if head == "auto" else Path(head)
        if not file.is_file():
            raise InvalidInputError(
                f"no sparse head: the sparse mode needs {SPARSE_FILE} (BGE-M3's sparse_linear, "
                f"a torch.nn.Linear(hidden, 1) state dict) in the model folder "
                f"{self.tokens.path}, or a SPLADE (masked-LM) folder",
                path=file,
            )
        self.head = read_linear(file, self.tokens.hidden)
        if self.head[0].shape[0] != 1:
            raise InvalidInputError(
                f"a sparse head maps to one weight, this one to {self.head[0].shape[0]}",
                path=file,
                field="weight",
            )
        self.vocab_size = int(self.tokens._tokenizer.get_vocab_size())

    @cached_property
    def fingerprint(self) -> str:  # type: ignore[override]
        """sha1 of the token encoder's identity and the head."""
        head = hashlib.sha1(self.head[0].tobytes() + self.head[1].tobytes()).hexdigest()
        payload = {"tokens": self.tokens.fingerprint, "head": head}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _weights(self, texts: list[str], kind: TextKind, show_progress: bool) -> Any:
        states = self.tokens.token_states(texts, kind, show_progress=show_progress)
        weight, bias = self.head
        rows = np.repeat(np.arange(len(states)), [len(ids) for _, ids in states])
        ids = np.concatenate([ids for _, ids in states]) if states else np.zeros(0, np.int64)
        hidden = (
            np.concatenate([s for s, _ in states])
            if states
            else np.zeros((0, self.tokens.hidden), np.float32)
        )
        weights = np.maximum(hidden @ weight[0] + bias[0], 0.0)
        return sparse_rows(rows, ids, weights, (len(texts), self.vocab_size))


class SpladeEncoder(_SparseModel):
    """A SPLADE-style masked-LM folder: per vocabulary id, the maximum over the text's tokens
    of ``log(1 + ReLU(logit))`` (through torch, float32).

    Args:
        model: A model folder whose ``config.json`` names a ``*ForMaskedLM`` architecture.
        max_length: Tokens per text (``None``: the model's limit).
        batch_size: Texts per forward pass (upper bound).
        max_tokens: Padded tokens per forward pass.
        threads: torch CPU threads (``None``: torch's default).
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        max_length: int | None = None,
        batch_size: int = 16,
        max_tokens: int = 2048,
        threads: int | None = None,
    ) -> None:
        self.path = Path(model)
        self.name = self.path.name
        spec = read_transformer_folder(self.path)
        self.max_length = min(max_length or spec["max_length"], spec["max_length"])
        self.prompts = spec["prompts"]
        self._pad_id = spec["pad_id"]
        self.batch_size, self.max_tokens, self.threads = batch_size, max_tokens, threads
        self._tokenizer = _load_tokenizer(self.path / "tokenizer.json", self.max_length)
        self.vocab_size = int(_read_json(self.path / "config.json")["vocab_size"])
        self._model: Any = None

    @cached_property
    def fingerprint(self) -> str:  # type: ignore[override]
        """sha1 of the folder and the token limit."""
        payload = {"model": model_folder_fingerprint(self.path), "max_length": self.max_length}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _weights(self, texts: list[str], kind: TextKind, show_progress: bool) -> Any:
        torch = require("torch", "dense", "a SPLADE model")
        if self._model is None:
            transformers = require("transformers", "dense", "a SPLADE model")
            if self.threads:
                torch.set_num_threads(self.threads)
            self._model = transformers.AutoModelForMaskedLM.from_pretrained(str(self.path))
            self._model.eval()
        fallback = self.prompts.get("document", "") if kind == "passage" else ""
        prefix = self.prompts.get(kind, fallback)
        encodings = self._tokenizer.encode_batch([prefix + t for t in texts])
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        batches = padded_batches(
            encodings, self._pad_id, max_tokens=self.max_tokens, batch_size=self.batch_size
        )
        with (
            tqdm(total=len(texts), disable=not show_progress, desc=f"splade {kind}") as bar,
            torch.inference_mode(),
        ):
            for rows, ids, mask in batches:
                logits = self._model(
                    input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)
                ).logits
                weights = torch.log1p(torch.relu(logits)) * torch.from_numpy(mask)[..., None]
                pooled = weights.amax(dim=1).numpy()  # [batch, vocab]
                r, v = np.nonzero(pooled)
                parts.append((rows[r], v, pooled[r, v]))
                bar.update(len(rows))
        if not parts:
            return sparse_rows(*(np.zeros(0),) * 3, (len(texts), self.vocab_size))
        texts_, ids_, weights_ = (np.concatenate(p) for p in zip(*parts, strict=True))
        return sparse_rows(texts_, ids_, weights_, (len(texts), self.vocab_size))


def load_sparse_encoder(
    model: str | os.PathLike[str] = DEFAULT_MODEL, **options: Any
) -> SparseEncoder | SpladeEncoder:
    """The sparse encoder of a folder: BGE-M3's head when it has ``sparse_linear.pt``, SPLADE
    when its ``config.json`` names a masked-LM architecture, else a clear error.

    ``options`` go to the chosen encoder.
    """
    from polyret.models.resolve import resolve_model

    cache_dir = options.get("cache_dir")
    folder = resolve_model(model, cache_dir=cache_dir, hub=False, needs="config.json").folder
    if folder is not None and not (Path(folder) / SPARSE_FILE).is_file():
        architectures = _read_json(Path(folder) / "config.json").get("architectures") or []
        if any(str(a).endswith("ForMaskedLM") for a in architectures):
            splade_options = {k: v for k, v in options.items() if k != "cache_dir"}
            return SpladeEncoder(folder, **splade_options)
    return SparseEncoder(model, **options)
