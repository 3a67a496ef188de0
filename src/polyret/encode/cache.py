"""A memory-mapped embedding cache on disk, so re-encoding a corpus is free.

Layout: one folder per encoder fingerprint, holding append-only shards::

    <cache_dir>/<fingerprint>/
        polyret.json                 {type: "embedding-cache", format, version, dim, dtype, encoder}
        shard-000000.npy             [n, dim] embeddings (float32 or int8)
        shard-000000.keys.npy        [n] sha1 digests (``S20``) of "<kind>\\0<text>"
        ...

Each shard pair is written atomically (keys last, so a shard without keys is ignored); a
reader opens the embedding shards with ``mmap_mode="r"``. Concurrent writers are
serialized by a lock file; readers never need it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from polyret.encode.base import Encoder, WrappedEncoder, check_texts
from polyret.errors import InvalidInputError
from polyret.io.artifact import META_FILE, read_meta, write_meta
from polyret.io.atomic import atomic_write, file_lock

_FORMAT = 1
_SHARD = re.compile(r"^shard-(\d{6})\.keys\.npy$")


def text_key(kind: str, text: str) -> bytes:
    """The 20-byte sha1 of ``kind`` and ``text`` (queries and documents differ by prefix)."""
    return hashlib.sha1(f"{kind}\0{text}".encode()).digest()


class EmbeddingCache:
    """Append-only embeddings of one encoder, keyed by text hash.

    Args:
        folder: This encoder's cache folder (created on first write).
        dim: Embedding dimension.
        dtype: ``float32`` or ``int8``.
        meta: Written to ``polyret.json`` (encoder description).
    """

    def __init__(
        self, folder: str | os.PathLike[str], *, dim: int, dtype: Any, meta: dict[str, Any]
    ) -> None:
        self.folder = Path(folder)
        self.dim = dim
        self.dtype = np.dtype(dtype)
        self.meta = meta
        self._index: dict[bytes, tuple[int, int]] = {}
        self._shards: dict[int, np.ndarray] = {}
        self._check_marker()
        self.refresh()

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> EmbeddingCache:
        """Reopen a cache folder, with the dimension, dtype and encoder its marker records.

        Raises:
            InvalidInputError: the folder has no (valid) ``polyret.json`` of this type.
        """
        meta = read_meta(folder, "embedding-cache", _FORMAT)
        return cls(folder, dim=int(meta["dim"]), dtype=meta["dtype"], meta=meta["encoder"])

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def refresh(self) -> None:
        """Pick up shards written since opening (by this or another process)."""
        if not self.folder.is_dir():
            return
        for keys_file in sorted(self.folder.iterdir()):
            match = _SHARD.match(keys_file.name)
            if not match or int(match.group(1)) in self._shards:
                continue
            number = int(match.group(1))
            keys = np.load(keys_file)
            values = np.load(self.folder / f"shard-{number:06d}.npy", mmap_mode="r")
            if values.shape != (len(keys), self.dim) or values.dtype != self.dtype:
                raise InvalidInputError(
                    f"cache shard {values.shape} {values.dtype} does not match "
                    f"[{len(keys)}, {self.dim}] {self.dtype}",
                    path=self.folder / f"shard-{number:06d}.npy",
                )
            self._shards[number] = values
            for row, key in enumerate(keys.tolist()):
                # numpy strips trailing NUL bytes from S20 values: restore the 20-byte digest
                self._index.setdefault(key.ljust(20, b"\0"), (number, row))

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """``(found, rows)``: a mask of cached keys and their embeddings (in ``keys`` order)."""
        out = np.zeros((len(keys), self.dim), self.dtype)
        found = np.zeros(len(keys), bool)
        for i, key in enumerate(keys):
            where = self._index.get(key)
            if where is not None:
                out[i] = self._shards[where[0]][where[1]]
                found[i] = True
        return found, out

    def put(self, keys: Sequence[bytes], embeddings: np.ndarray) -> None:
        """Append new rows as one shard (keys already present are skipped)."""
        embeddings = np.asarray(embeddings)
        if embeddings.shape != (len(keys), self.dim) or embeddings.dtype != self.dtype:
            raise InvalidInputError(
                f"expected [{len(keys)}, {self.dim}] {self.dtype}, got "
                f"{embeddings.shape} {embeddings.dtype}"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        with file_lock(self.folder / ".lock"):
            self.refresh()
            seen: set[bytes] = set()
            fresh = []
            for i, key in enumerate(keys):
                if key not in self._index and key not in seen:
                    seen.add(key)
                    fresh.append(i)
            if not fresh:
                return
            self._write_marker()
            number = max(self._shards, default=-1) + 1
            values = np.ascontiguousarray(embeddings[fresh])
            digests = np.array([keys[i] for i in fresh], dtype="S20")
            with atomic_write(self.folder / f"shard-{number:06d}.npy", "wb") as handle:
                np.save(handle, values)
            with atomic_write(self.folder / f"shard-{number:06d}.keys.npy", "wb") as handle:
                np.save(handle, digests)
            self.refresh()

    def _check_marker(self) -> None:
        if not (self.folder / META_FILE).is_file():
            return
        data = read_meta(self.folder, "embedding-cache", _FORMAT)
        if data.get("dim") != self.dim or data.get("dtype") != self.dtype.name:
            raise InvalidInputError(
                f"cache folder holds dim={data.get('dim')} {data.get('dtype')}, "
                f"the encoder gives dim={self.dim} {self.dtype.name}",
                path=self.folder / META_FILE,
            )

    def _write_marker(self) -> None:
        if not (self.folder / META_FILE).is_file():
            write_meta(
                self.folder,
                "embedding-cache",
                _FORMAT,
                dim=self.dim,
                dtype=self.dtype.name,
                encoder=self.meta,
            )


class CachedEncoder(WrappedEncoder):
    """An :class:`~polyret.encode.Encoder` that remembers every embedding on disk.

    Embeddings are keyed by (the wrapped encoder's fingerprint, sha1 of the prefixed kind
    and text), so a re-run encodes only texts it has not seen; cached rows are read from
    memory-mapped shards.

    Args:
        encoder: The encoder to wrap.
        cache_dir: Root folder; this encoder's rows go into ``cache_dir/<fingerprint>``.

    Example:
        >>> import tempfile
        >>> from polyret.encode import HashingEncoder
        >>> inner = HashingEncoder(dim=8)
        >>> cached = CachedEncoder(inner, tempfile.mkdtemp())
        >>> first = cached.encode_documents(["a", "b"])
        >>> again = cached.encode_documents(["b", "a"])
        >>> bool((again[::-1] == first).all()), inner.calls
        (True, 1)
    """

    def __init__(self, encoder: Encoder, cache_dir: str | os.PathLike[str]) -> None:
        self.encoder = encoder
        self.cache_dir = Path(cache_dir)
        self.folder = self.cache_dir / encoder.fingerprint
        self._cache: EmbeddingCache | None = None
        if (self.folder / META_FILE).is_file():  # dim and dtype from the marker: no model call
            self._cache = EmbeddingCache.open(self.folder)

    def _open(self, dim: int, dtype: Any) -> EmbeddingCache:
        self._cache = EmbeddingCache(
            self.folder,
            dim=dim,
            dtype=dtype,
            meta={"name": self.encoder.name, "fingerprint": self.encoder.fingerprint},
        )
        return self._cache

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Query embeddings, from the cache where possible."""
        return self._encode(texts, "query", self.encoder.encode_queries, show_progress)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Document embeddings, from the cache where possible."""
        return self._encode(texts, "passage", self.encoder.encode_documents, show_progress)

    def _encode(
        self, texts: Sequence[str], kind: str, encode: Any, show_progress: bool
    ) -> np.ndarray:
        texts = check_texts(texts)
        keys = [text_key(kind, t) for t in texts]
        if self._cache is None:
            if not texts:
                return encode([], show_progress=False)
            fresh = encode(texts, show_progress=show_progress)
            self._open(fresh.shape[1], fresh.dtype).put(keys, fresh)
            return fresh
        found, out = self._cache.get(keys)
        missing = np.flatnonzero(~found)
        if len(missing):
            first: dict[bytes, int] = {}  # encode each distinct missing text once
            for i in missing.tolist():
                first.setdefault(keys[i], i)
            rows = list(first.values())
            fresh = encode([texts[i] for i in rows], show_progress=show_progress)
            self._cache.put([keys[i] for i in rows], fresh)
            by_key = dict(zip((keys[i] for i in rows), fresh, strict=False))
            for i in missing.tolist():
                out[i] = by_key[keys[i]]
        return out

    def __len__(self) -> int:
        """Rows in the cache."""
        return 0 if self._cache is None else len(self._cache)
