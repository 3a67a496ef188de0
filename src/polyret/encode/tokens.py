"""Token vectors for late interaction (ColBERT, BGE-M3's multi-vector function).

:class:`TokenEncoder` runs any transformer folder polyret can load (the packaged
multilingual-e5-small, an adapted or fine-tuned copy, a BGE-M3-style folder) through the
same int8 ONNX path as the dense encoder, but keeps one vector per token: the hidden
states of the chosen layers, optionally through a trained linear projection
(``colbert_linear.pt``, BGE-M3's file name and format), each L2-normalized. Special
tokens, the ``query: ``/``passage: `` prefix and punctuation are masked out: they carry
the instruction and the sentence shape, not the content MaxSim should match.

:func:`maxsim` is the late-interaction score: the mean over query tokens of the best
cosine with any document token (BGE-M3 averages where ColBERT sums; the mean keeps scores
in [-1, 1] for fusion).
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm.auto import tqdm

from polyret.encode.base import check_texts, padded_batches
from polyret.encode.fast import (
    Runtime,
    _load_tokenizer,
    _onnx_available,
    model_folder_fingerprint,
    onnx_model,
    onnx_session,
    read_transformer_folder,
)
from polyret.errors import InvalidInputError
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.models.m3 import COLBERT_FILE
from polyret.optional import require

Storage = Literal["float16", "int8"]
TextKind = Literal["query", "passage"]
PROJECTION_FILE = COLBERT_FILE
"""A trained token projection in a model folder (BGE-M3's name: ``weight`` [out, hidden]
and ``bias`` [out] of a ``torch.nn.Linear``)."""
_INT8_SCALE = 0.5 / 127  # a normalized 384-dim token vector's components stay within ±0.5


@dataclass(frozen=True)
class TokenVectors:
    """Ragged token vectors of several texts: text ``i`` owns rows ``offsets[i]:offsets[i+1]``.

    Attributes:
        vectors: ``[tokens, dim]`` float16, or int8 (value × ``scale``).
        offsets: ``[texts + 1]`` row offsets.
        scale: Multiplier from stored to real values (1 for float16).
    """

    vectors: np.ndarray
    offsets: np.ndarray
    scale: float = 1.0
    _float: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> np.ndarray:
        """Text ``row``'s token vectors as float32 ``[tokens, dim]``."""
        part = self.vectors[self.offsets[row] : self.offsets[row + 1]]
        return part.astype(np.float32) * np.float32(self.scale)

    @property
    def lengths(self) -> np.ndarray:
        """Tokens kept per text."""
        return np.diff(self.offsets)

    @property
    def nbytes(self) -> int:
        """Bytes of vectors and offsets."""
        return int(self.vectors.nbytes + self.offsets.nbytes)

    def take(self, rows: Sequence[int] | np.ndarray) -> TokenVectors:
        """The texts at ``rows``, in that order."""
        rows = np.asarray(rows, np.int64)
        lengths = self.lengths[rows]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        index = np.repeat(self.offsets[rows] - offsets[:-1], lengths) + np.arange(offsets[-1])
        return TokenVectors(self.vectors[index], offsets, self.scale)

    def as_float32(self) -> np.ndarray:
        """All vectors as float32 real values (converted once, then kept)."""
        if "all" not in self._float:
            self._float["all"] = self.vectors.astype(np.float32) * np.float32(self.scale)
        return self._float["all"]


def maxsim(
    query: np.ndarray, documents: TokenVectors, rows: Sequence[int] | np.ndarray | None = None
) -> np.ndarray:
    """Late-interaction scores of one query against the documents at ``rows`` (all: ``None``).

    Args:
        query: ``[query tokens, dim]`` float32 (normalized rows).
        documents: Token vectors of the documents.
        rows: Which documents to score (``None``: every one, in order).

    Returns:
        Per document, the mean over query tokens of the best cosine with any of its tokens.

    Example:
        >>> docs = TokenVectors(np.eye(3, dtype=np.float16), np.array([0, 1, 3]))
        >>> maxsim(np.eye(3, dtype=np.float32)[[1, 2]], docs, [0, 1]).tolist()
        [0.0, 1.0]
    """
    picked = documents if rows is None else documents.take(rows)
    if not len(picked):
        return np.zeros(0)
    vectors = (
        documents.as_float32()
        if rows is None
        else picked.vectors.astype(np.float32) * np.float32(picked.scale)
    )
    # one matrix product for all candidates, then the max within each document's columns
    sims = query @ vectors.T
    best = np.maximum.reduceat(sims, picked.offsets[:-1], axis=1)
    return best.mean(axis=0).astype(np.float64)


def read_linear(file: Path, hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """``(weight [out, hidden], bias [out])`` of a saved ``torch.nn.Linear`` state dict (the
    format of BGE-M3's ``colbert_linear.pt`` and ``sparse_linear.pt``), as float32.

    Raises:
        InvalidInputError: not such a state dict, or one whose input size is not ``hidden``.
    """
    torch = require("torch", "dense", f"a model head ({file.name})")
    state = torch.load(file, map_location="cpu", weights_only=True)
    weight = state.get("weight") if isinstance(state, dict) else None
    if weight is None or weight.ndim != 2 or weight.shape[1] != hidden:
        raise InvalidInputError(
            f"expected a torch.nn.Linear state dict with weight [out, {hidden}]",
            path=file,
            field="weight",
        )
    bias = state.get("bias")
    return (
        weight.float().numpy(),
        np.zeros(weight.shape[0], np.float32) if bias is None else bias.float().numpy(),
    )


class TokenEncoder:
    """Per-token, L2-normalized vectors of a transformer model folder.

    Args:
        model: A packaged model name, or a model folder (``config.json`` + ``tokenizer.json``).
        layers: Hidden layers summed into each token state (default: the last two; as a
            reranker of the hybrid they beat the last layer alone in 14 of 17 shared
            collections, ``benchmarks/bench_late_interaction.py``).
        projection: A ``colbert_linear.pt`` file; ``"auto"`` uses the folder's own when it has
            one; ``None`` uses the raw token states (zero-shot).
        mask_punctuation: Drop punctuation tokens (specials and the prefix are always dropped).
        storage: ``"float16"`` or ``"int8"`` (fixed range ±0.5).
        runtime: ``"onnx"`` (int8 weights, as the dense encoder), ``"torch"`` or ``"auto"``.
        quantize: int8 ONNX weights.
        max_length: Tokens per text (``None``: the model's limit).
        batch_size: Texts per forward pass (upper bound).
        max_tokens: Padded tokens per forward pass.
        threads: CPU threads (``None``: all).
        cache_dir: The polyret cache root (exports, ONNX graphs).

    Raises:
        InvalidInputError: not a model folder, or a projection that does not fit it.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        layers: Sequence[int] = (-1, -2),
        projection: str | os.PathLike[str] | None = "auto",
        mask_punctuation: bool = True,
        storage: Storage = "float16",
        runtime: Runtime = "auto",
        quantize: bool = True,
        max_length: int | None = None,
        batch_size: int = 32,
        max_tokens: int = 4096,
        threads: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        from polyret.models.resolve import resolve_model

        folder = resolve_model(model, cache_dir=cache_dir, hub=False, needs="config.json").folder
        if folder is None:
            raise InvalidInputError(f"{model!r} has no model folder", field="model")
        if storage not in ("float16", "int8"):
            raise InvalidInputError("storage must be 'float16' or 'int8'", field="storage")
        self.path = Path(folder)
        self.name = Path(str(model)).name
        spec = read_transformer_folder(self.path)
        self.max_length = min(max_length or spec["max_length"], spec["max_length"])
        self.query_prefix = spec["prompts"].get("query", "")
        self.passage_prefix = spec["prompts"].get("passage", spec["prompts"].get("document", ""))
        self._pad_id = spec["pad_id"]
        self.layers = tuple(int(layer) for layer in layers)
        if not self.layers:
            raise InvalidInputError("layers must name at least one layer", field="layers")
        self.mask_punctuation = mask_punctuation
        self.storage: Storage = storage
        self.hidden = spec["dim"]
        self.projection = self._load_projection(projection, self.hidden)
        self.dim = self.hidden if self.projection is None else self.projection[0].shape[0]
        if runtime == "auto":
            runtime = "onnx" if _onnx_available() else "torch"
        self.runtime = runtime
        self.quantize = bool(quantize and runtime == "onnx")
        self.batch_size, self.max_tokens, self.threads = batch_size, max_tokens, threads
        self._cache_dir = cache_dir
        self._tokenizer = _load_tokenizer(self.path / "tokenizer.json", self.max_length)
        self._session: Any = None
        self._torch_model: Any = None

    # -- public -----------------------------------------------------------------------
    @cached_property
    def fingerprint(self) -> str:
        """sha1 of the model folder, the projection and every output-changing option."""
        identity = {
            "model": model_folder_fingerprint(self.path),
            "layers": self.layers,
            "projection": None
            if self.projection is None
            else hashlib.sha1(self.projection[0].tobytes()).hexdigest(),
            "punctuation": self.mask_punctuation,
            "storage": self.storage,
            "runtime": self.runtime,
            "quantize": self.quantize,
            "max_length": self.max_length,
        }
        return hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> TokenVectors:
        """Token vectors of queries (query prefix added, then masked)."""
        return self._encode(texts, "query", show_progress)

    def encode_documents(
        self, texts: Sequence[str], *, show_progress: bool = False
    ) -> TokenVectors:
        """Token vectors of documents (passage prefix added, then masked)."""
        return self._encode(texts, "passage", show_progress)

    def token_states(
        self, texts: Sequence[str], kind: TextKind, *, show_progress: bool = False
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, the raw states (float32 ``[tokens, hidden]``: summed layers, no projection,
        not normalized) and vocabulary ids (int64 ``[tokens]``) of its content tokens.

        ``kind`` picks the prefix (``"query"`` or ``"passage"``); specials, the prefix and
        (with ``mask_punctuation``) punctuation are dropped. The sparse head reads these.
        """
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        encodings = self._tokenizer.encode_batch([prefix + t for t in check_texts(texts)])
        out: list[tuple[np.ndarray, np.ndarray]] = [
            (np.zeros((0, self.hidden), np.float32), np.zeros(0, np.int64))
        ] * len(encodings)
        forward = self._onnx_forward if self.runtime == "onnx" else self._torch_forward
        batches = padded_batches(
            encodings, self._pad_id, max_tokens=self.max_tokens, batch_size=self.batch_size
        )
        with tqdm(total=len(texts), disable=not show_progress, desc=f"tokens {kind}") as bar:
            for rows, ids, mask in batches:
                states = forward(ids, mask)
                for r, row in enumerate(rows):
                    keep = self._content(encodings[row], len(prefix))
                    out[row] = (np.asarray(states[r, keep], np.float32), ids[r, keep])
                bar.update(len(rows))
        return out

    # -- internals --------------------------------------------------------------------
    def _encode(self, texts: Sequence[str], kind: TextKind, show_progress: bool) -> TokenVectors:
        kept = [
            self._finish(states)
            for states, _ in self.token_states(texts, kind, show_progress=show_progress)
        ]
        offsets = np.concatenate([[0], np.cumsum([len(k) for k in kept])]).astype(np.int64)
        stacked = np.concatenate(kept) if kept else np.zeros((0, self.dim), np.float32)
        if self.storage == "int8":
            stored = np.clip(np.rint(stacked / _INT8_SCALE), -127, 127).astype(np.int8)
            return TokenVectors(stored, offsets, _INT8_SCALE)
        return TokenVectors(stacked.astype(np.float16), offsets)

    def _content(self, encoding: Any, prefix_chars: int) -> np.ndarray:
        """Positions of content tokens: not special, not the prefix, not punctuation.

        A prefix token is one that ends within the prefix's characters (token counts of a
        prefix alone and in context differ: SentencePiece merges its trailing space). A
        text with no content token keeps all its tokens (a query of only punctuation still
        gets a score).
        """
        drop = np.asarray(encoding.special_tokens_mask, bool)
        ends = np.fromiter((end for _, end in encoding.offsets), np.int64, len(drop))
        drop |= ends <= prefix_chars
        if self.mask_punctuation:
            drop |= np.isin(np.asarray(encoding.ids), self._punctuation_ids)
        keep = np.flatnonzero(~drop)
        return keep if len(keep) else np.arange(len(drop))

    @cached_property
    def _punctuation_ids(self) -> np.ndarray:
        """Vocabulary ids whose text (word-start markers removed) is punctuation or nothing."""
        out = []
        for piece, token_id in self._tokenizer.get_vocab().items():
            text = piece.replace("\u2581", "").removeprefix("##").strip()
            if all(unicodedata.category(c).startswith("P") for c in text):
                out.append(token_id)
        return np.asarray(sorted(out), np.int64)

    def _finish(self, states: np.ndarray) -> np.ndarray:
        states = np.asarray(states, np.float32)
        if self.projection is not None:
            weight, bias = self.projection
            states = states @ weight.T + bias
        norms = np.linalg.norm(states, axis=1, keepdims=True)
        return states / np.maximum(norms, 1e-12)

    def _load_projection(
        self, projection: str | os.PathLike[str] | None, hidden: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        if projection is None:
            return None
        file = self.path / PROJECTION_FILE if projection == "auto" else Path(projection)
        if projection == "auto" and not file.is_file():
            return None
        if not file.is_file():
            raise InvalidInputError("no projection file here", path=file)
        return read_linear(file, hidden)

    def _onnx_forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self._session is None:
            graph = onnx_model(
                self.path,
                quantize=self.quantize,
                cache_dir=self._cache_dir,
                token_layers=self.layers,
            )
            self._session = onnx_session(graph, self.threads)
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def _torch_forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from polyret.encode.fast import _Headed, _load_transformer

        torch = require("torch", "dense", "the token encoder")
        if self._torch_model is None:
            if self.threads:
                torch.set_num_threads(self.threads)
            self._torch_model = _Headed(_load_transformer(self.path), self.layers).eval()
        with torch.inference_mode():
            return self._torch_model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
