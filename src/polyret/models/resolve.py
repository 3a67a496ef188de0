"""Name → model: the one place the name, alias and folder rules are implemented.

:func:`resolve_model` is what :func:`polyret.encode.load_encoder`,
:func:`polyret.train.common.resolve_base` and the local LLM loader call; the facts it
reads are the rows of :mod:`polyret.models.catalogue`.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from polyret.errors import InvalidInputError
from polyret.models.catalogue import ModelInfo, find_model, model_names
from polyret.optional import require
from polyret.registry import import_target


@dataclass(frozen=True)
class ResolvedModel:
    """What a model reference names.

    Args:
        model: The catalogue row, for a packaged model.
        folder: The model folder on disk: a packaged model's (exported on first use) or
            the caller's own; ``None`` for a hub id, or a packaged model with no folder.
        hub_id: A Hugging Face hub id (loading it needs network).
    """

    model: ModelInfo | None
    folder: Path | None
    hub_id: str | None = None

    @property
    def ref(self) -> str:
        """The folder (as a string) or the hub id, as model loaders take it."""
        return str(self.folder) if self.folder is not None else str(self.hub_id)


def resolve_model(
    name_or_path: str | os.PathLike[str],
    *,
    kind: str = "encoder",
    cache_dir: str | os.PathLike[str] | None = None,
    hub: bool = True,
    needs: str | None = None,
    field: str = "model",
) -> ResolvedModel:
    """A packaged model by name or alias, a local model folder, or a hub id.

    Rules, in order: a name or alias in the catalogue → the packaged model (its folder
    exported or located on first use); an existing folder → that folder; a path-like
    reference (``.``, ``/``, ``~`` or two slashes) → an error; anything else → a hub id
    (when ``hub`` is true, else an error).

    Args:
        name_or_path: A packaged model name or alias, a folder, or a hub id.
        kind: Which catalogue rows count: ``"encoder"`` or ``"llm"``.
        cache_dir: The polyret cache root for exports (default: ``$POLYRET_CACHE``).
        hub: Whether a hub id is acceptable.
        needs: A file a local folder must hold to count (``"config.json"``).
        field: The caller's parameter name, for error messages.

    Raises:
        InvalidInputError: no folder where a path was given (the message lists the
            packaged names and close matches).
        MissingExtraError: the package carrying a packaged model is not installed (the
            message names the extra).

    Example:
        >>> resolve_model("intfloat/multilingual-e5-base").hub_id
        'intfloat/multilingual-e5-base'
    """
    name = str(name_or_path)
    model = find_model(name, kind)
    if model is not None:
        return ResolvedModel(model, model_folder(model, cache_dir=cache_dir))
    path = Path(name).expanduser()
    if path.is_dir() and (needs is None or (path / needs).is_file()):
        return ResolvedModel(None, path)
    if not hub or name.startswith((".", "/", "~")) or name.count("/") > 1:
        valid = model_names(kind)
        close = difflib.get_close_matches(Path(name).name, valid, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        folder = f"model folder (with {needs})" if needs else "model folder"
        raise InvalidInputError(
            f"no {folder} at {name!r}, and no packaged {kind} of that name "
            f"({', '.join(valid)}){hint}",
            field=field,
        )
    return ResolvedModel(None, None, name)


def model_folder(
    model: ModelInfo, *, cache_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The folder of a packaged model, exporting it on first use (``None``: it has none).

    Raises:
        MissingExtraError: its package is not installed (and no export exists).
    """
    if model.folder is None:
        return None
    if model.folder == "package":
        purpose = f"the {model.name} model"
        package = require(model.module, model.extra, purpose, package=model.package)
        return Path(package.get_model_path())
    return Path(import_target(model.folder)(cache_dir=cache_dir))
