"""``polyret.json`` and ``polyret.load``: what every saved folder says about itself, and
the one registry that reopens it.

``polyret.json`` is ``{"type", "format", "version", "config"?, "provenance"?, **fields}``:
the type lets :func:`load` dispatch, the format lets a reader refuse folders written by an
incompatible release, ``config`` is the (JSON-able) config that made the artifact, so it
can be written back as that config. Every type a writer may use is declared in
:data:`ArtifactType`, and each has a loader in :data:`artifact_types` (a test keeps them
equal); a model folder's ``kind`` picks its loader in :data:`model_kinds`.

Loaders are registered by import path (as PyTerrier's artifact entry points are), so
nothing heavy is imported until a type is opened and this module imports nothing above
``polyret.io``; a loader whose optional dependency is missing raises an error naming the
extra to install. A single file is a TREC run: what ``polyret search``, ``fuse`` and
``rerank`` write (a pipeline stage's run is its ``run.trec``). Third parties add types
through the entry-point groups ``polyret.artifact_types`` and ``polyret.model_kinds``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from polyret._version import __version__
from polyret.errors import InvalidInputError, MissingExtraError, UnknownNameError
from polyret.io.atomic import atomic_write
from polyret.registry import Registry

META_FILE = "polyret.json"

ArtifactType = Literal[
    "bm25",
    "dense",
    "multivector",
    "sparse",
    "dataset",
    "training-set",
    "model",
    "embeddings",
    "embedding-cache",
    "pipeline-run",
]
ARTIFACT_TYPES: tuple[str, ...] = get_args(ArtifactType)
RUN_FILE_TYPE = "run"
"""What :func:`load` opens a single file as: a TREC run."""

Loader = Callable[..., Any]

# type: (loader, the extra its dependencies come with; None: core dependencies)
_TYPES: dict[str, tuple[str, str | None]] = {
    "bm25": ("polyret.retrieve.bm25:BM25.load", None),
    "dense": ("polyret.retrieve.dense:Dense.load", "dense"),
    "multivector": ("polyret.retrieve.multivector:MultiVector.load", "dense"),
    "sparse": ("polyret.retrieve.sparse:LearnedSparse.load", "dense"),
    "dataset": ("polyret.io.beir:read_beir", None),
    "training-set": ("polyret.types.training:TrainingSet.load", None),
    "model": ("polyret.io.artifact:load_model", None),
    "embeddings": ("polyret.encode.embeddings:Embeddings.load", None),
    "embedding-cache": ("polyret.encode.cache:EmbeddingCache.open", None),
    "pipeline-run": ("polyret.io.manifest:read_manifest", None),
    RUN_FILE_TYPE: ("polyret.io.trec:read_trec_run", None),
}
# a model folder's kind: (what opens it, its extra)
_MODEL_KINDS: dict[str, tuple[str, str | None]] = {
    "bi-encoder": ("polyret.encode.registry:load_encoder", "dense"),
    "distilled-bi-encoder": ("polyret.encode.registry:load_encoder", "dense"),
    "cross-encoder": ("polyret.rerank.cross_encoder:CrossEncoderReranker", "dense"),
    "causal-lm": ("polyret.llm.local:TransformersClient", "dense"),
}
ModelKind = Literal["bi-encoder", "distilled-bi-encoder", "cross-encoder", "causal-lm"]
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)

artifact_types = Registry[Loader]("artifact type")
model_kinds = Registry[Loader]("model kind")
for _name, (_target, _) in _TYPES.items():
    artifact_types.add_lazy(_name, _target)
for _name, (_target, _) in _MODEL_KINDS.items():
    model_kinds.add_lazy(_name, _target)


def write_meta(
    folder: str | os.PathLike[str],
    type: ArtifactType,
    format: int,
    *,
    config: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    **fields: Any,
) -> None:
    """Write ``folder/polyret.json`` atomically.

    Args:
        folder: The artifact folder.
        type: One of :data:`ARTIFACT_TYPES`.
        format: The version of this type's on-disk layout its reader checks.
        config: The JSON-able config that made the artifact (written when given).
        provenance: Where the artifact came from (written when given).
        **fields: Further type-specific fields.

    Raises:
        ValueError: ``type`` is not a declared artifact type, or a model's ``kind`` is not a
            declared model kind (a polyret bug: declare it, with its loader).
    """
    if type not in ARTIFACT_TYPES:
        raise ValueError(f"undeclared artifact type {type!r}: add it to ArtifactType")
    if type == "model" and fields.get("kind") not in (*MODEL_KINDS, None):
        raise ValueError(f"undeclared model kind {fields.get('kind')!r}: add it to ModelKind")
    meta: dict[str, Any] = {"type": type, "format": format, "version": __version__}
    if config is not None:
        meta["config"] = dict(config)
    meta |= fields
    if provenance is not None:
        meta["provenance"] = dict(provenance)
    with atomic_write(Path(folder) / META_FILE) as handle:
        json.dump(meta, handle, indent=1, ensure_ascii=False)


def read_meta(
    folder: str | os.PathLike[str], type: str | None = None, format: int | None = None
) -> dict[str, Any]:
    """Read ``folder/polyret.json``, checking its type and format when given.

    Raises:
        InvalidInputError: when the file is missing or malformed, or another type/format.
    """
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise InvalidInputError(f"not a polyret folder (no {META_FILE})", path=folder)
    meta = read_json_object(path)
    if type is not None and meta.get("type") != type:
        raise InvalidInputError(
            f"expected a {type!r} folder, found {meta.get('type')!r}", path=path, field="type"
        )
    if format is not None and meta.get("format") != format:
        raise InvalidInputError(
            f"{type} folder of format {meta.get('format')!r}; this polyret reads format {format}",
            path=path,
            field="format",
        )
    return meta


def read_json_object(path: str | Path) -> dict[str, Any]:
    """A JSON file that must hold an object.

    Raises:
        FileNotFoundError: the file is missing.
        InvalidInputError: not JSON (with the line), or not an object.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"not valid JSON ({error.msg})", path=path, line=error.lineno
        ) from None
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"not UTF-8 text: {error}", path=path) from None
    if not isinstance(data, dict):
        raise InvalidInputError("expected a JSON object", path=path)
    return data


def load(path: str | os.PathLike[str], **options: Any) -> Any:
    """Open a folder (or TREC run file) that polyret wrote, by the type it records.

    ======================  ==========================================================
    type                    returns
    ======================  ==========================================================
    ``bm25``, ``dense``     :class:`~polyret.retrieve.BM25`, :class:`~polyret.retrieve.Dense`
    ``dataset``             :class:`~polyret.types.Dataset` (a BEIR folder)
    ``training-set``        :class:`~polyret.types.TrainingSet`
    ``model``               by its kind: an encoder (bi-encoders), a
                            :class:`~polyret.rerank.CrossEncoderReranker` or a
                            :class:`~polyret.llm.local.TransformersClient` (causal LM)
    ``embeddings``          :class:`~polyret.encode.Embeddings` (``polyret encode``)
    ``embedding-cache``     :class:`~polyret.encode.EmbeddingCache`
    ``pipeline-run``        :class:`~polyret.io.manifest.Manifest` (a run directory)
    a file                  :class:`~polyret.types.Run` (a TREC run)
    ======================  ==========================================================

    Args:
        path: A folder with a ``polyret.json``, or a TREC run file.
        **options: Passed to the loader (e.g. ``encoder=`` for a dense index).

    Raises:
        InvalidInputError: not a polyret folder, or a type (model kind) without a loader;
            the message lists the valid ones.
        MissingExtraError: the loader needs an extra that is not installed.
    """
    path = Path(path)
    if path.is_file():
        return _loader(artifact_types, _TYPES, RUN_FILE_TYPE, path, "type")(path, **options)
    kind = str(read_meta(path).get("type"))
    return _loader(artifact_types, _TYPES, kind, path, "type")(path, **options)


def load_model(path: str | os.PathLike[str], **options: Any) -> Any:
    """Open a model folder as what its ``kind`` says (see :func:`load`)."""
    kind = str(read_meta(path, "model").get("kind"))
    return _loader(model_kinds, _MODEL_KINDS, kind, path, "kind")(str(path), **options)


def _loader(
    registry: Registry[Loader],
    extras: dict[str, tuple[str, str | None]],
    name: str,
    path: str | os.PathLike[str],
    field: str,
) -> Loader:
    """``registry.get(name)``; an unknown name and a failed import name the folder and field,
    and an import failure the extra to install."""
    try:
        return registry.get(name)
    except UnknownNameError as error:
        raise InvalidInputError(f"polyret.load: {error}", path=path, field=field) from None
    except MissingExtraError:
        raise
    except ImportError as error:
        extra = extras.get(name, ("", None))[1]
        if extra is None:
            raise
        missing = error.name or str(error)
        raise MissingExtraError(missing, extra, f"opening a {name!r} artifact") from error
