"""Checkpoint merging: weighted averages ("model soups") and SLERP of fine-tuned weights.

Written by hand on purpose: sentence-transformers' own ``merging`` module delegates to
mergekit, a large dependency that is not installed here, while these two methods are a few
lines of tensor arithmetic over the ``.safetensors`` files of sentence-transformers folders.
Models must share an architecture (same tensor names and shapes), e.g. checkpoints of one
run, or fine-tunes of one base; non-float tensors (position ids) come from the first model.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from polyret.errors import InvalidInputError
from polyret.io.artifact import META_FILE, read_meta, write_meta
from polyret.io.atomic import atomic_directory
from polyret.io.manifest import PROVENANCE_FILE, read_provenance, write_provenance
from polyret.optional import require

log = logging.getLogger(__name__)

MergeMethod = Literal["average", "slerp"]
_SKIP = ("checkpoints", PROVENANCE_FILE, META_FILE, "README.md", "onnx")


def merge_checkpoints(
    folders: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    weights: Sequence[float] | None = None,
    method: MergeMethod = "average",
    *,
    overwrite: bool = False,
) -> Path:
    """Merge the weights of sentence-transformers (or cross-encoder) folders into ``out``.

    ``"average"`` is the weighted mean of every tensor (a uniform "model soup").
    ``"slerp"`` interpolates along the great circle between two models' flattened tensors,
    which keeps their norm where a straight average of two diverging fine-tunes shrinks it;
    with more than two models it merges pairwise from the first, model ``i`` entering with
    weight ``w_i / (w_1 + … + w_i)``.

    Args:
        folders: Model folders with the same architecture (at least two for SLERP).
        out: The merged folder (configs and tokenizer copied from the first model).
        weights: One per model (normalized to sum to 1; default: equal).
        method: ``"average"`` or ``"slerp"``.
        overwrite: Replace an existing ``out``.

    Returns:
        ``out``.

    Raises:
        InvalidInputError: too few folders, bad weights, or mismatched tensors.

    References:
        - Model soups: averaging weights of fine-tuned models (arXiv 2203.05482).
        - SLERP: Shoemake, animating rotation with quaternion curves (SIGGRAPH 1985), as
          used for model merging by mergekit.
    """
    paths = [Path(f) for f in folders]
    if not paths or (method == "slerp" and len(paths) < 2):
        raise InvalidInputError(f"{method} needs at least {2 if method == 'slerp' else 1} models")
    if method not in ("average", "slerp"):
        raise InvalidInputError(f"unknown method {method!r}: average or slerp", field="method")
    w = np.ones(len(paths)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != len(paths) or (w < 0).any() or w.sum() <= 0:
        raise InvalidInputError(
            f"need {len(paths)} non-negative weights with a positive sum, got {list(w)}",
            field="weights",
        )
    w = w / w.sum()
    files = sorted(p.relative_to(paths[0]) for p in paths[0].rglob("*.safetensors"))
    files = [f for f in files if f.parts[0] not in _SKIP]
    if not files:
        raise InvalidInputError("no .safetensors weights in the first model", path=paths[0])
    safetensors = require(
        "safetensors.torch", "dense", "merging checkpoints", package="safetensors"
    )
    with atomic_directory(out, overwrite=overwrite) as tmp:
        _copy_tree(paths[0], tmp)
        for relative in files:
            states = [_load(safetensors, p / relative) for p in paths]
            merged = merge_state_dicts(states, w.tolist(), method)
            safetensors.save_file(merged, str(tmp / relative), metadata={"format": "pt"})
        sources = [
            {"model": str(p), "weight": float(x), "provenance": _provenance(p)}
            for p, x in zip(paths, w, strict=True)
        ]
        write_provenance(tmp, {"kind": "merged", "method": method, "sources": sources})
        # a merge is a model of its sources' kind (what polyret.load opens it as)
        write_meta(
            tmp, "model", 1, kind=_kind(paths[0]), merged=True, method=method, sources=sources
        )
    log.info("merged %d models (%s) → %s", len(paths), method, out)
    return Path(out)


def merge_state_dicts(
    states: Sequence[dict[str, Any]], weights: Sequence[float], method: MergeMethod = "average"
) -> dict[str, Any]:
    """Merge torch state dicts tensor by tensor (see :func:`merge_checkpoints`).

    Example:
        >>> import torch
        >>> a, b = {"w": torch.tensor([1.0, 0.0])}, {"w": torch.tensor([0.0, 1.0])}
        >>> merge_state_dicts([a, b], [0.5, 0.5])["w"].tolist()
        [0.5, 0.5]
        >>> [round(x, 4) for x in merge_state_dicts([a, b], [0.5, 0.5], "slerp")["w"].tolist()]
        [0.7071, 0.7071]
    """
    keys = list(states[0])
    for number, state in enumerate(states[1:], start=1):
        if list(state) != keys:
            raise InvalidInputError(f"model {number} has other tensors than model 0")
    merged = {}
    for key in keys:
        tensors = [state[key] for state in states]
        if any(t.shape != tensors[0].shape for t in tensors):
            raise InvalidInputError(f"tensor {key!r} has different shapes", field=key)
        if not tensors[0].is_floating_point():
            merged[key] = tensors[0].clone()
        elif method == "average":
            total = sum(float(x) * t.double() for x, t in zip(weights, tensors, strict=True))
            merged[key] = total.to(tensors[0].dtype)
        else:
            current, mass = tensors[0].double(), float(weights[0])
            for tensor, weight in zip(tensors[1:], weights[1:], strict=True):
                share = float(weight) / (mass + float(weight)) if mass + weight > 0 else 0.0
                current = slerp(current, tensor.double(), share)
                mass += float(weight)
            merged[key] = current.to(tensors[0].dtype)
    return merged


def slerp(a: Any, b: Any, t: float, *, eps: float = 1e-7) -> Any:
    """Spherical interpolation from ``a`` (t=0) to ``b`` (t=1) of two tensors.

    The angle is measured between the flattened, normalized tensors; the interpolation is
    applied to the tensors themselves. Nearly parallel (or zero) tensors are interpolated
    linearly, where SLERP and the straight line coincide.
    """
    import torch

    if t <= 0.0:
        return a.clone()
    if t >= 1.0:
        return b.clone()
    norm_a, norm_b = torch.linalg.vector_norm(a), torch.linalg.vector_norm(b)
    if norm_a < eps or norm_b < eps:
        return (1.0 - t) * a + t * b
    cosine = torch.clamp(torch.sum(a * b) / (norm_a * norm_b), -1.0, 1.0)
    omega = torch.arccos(cosine)
    if torch.sin(omega).abs() < eps:
        return (1.0 - t) * a + t * b
    sin_omega = torch.sin(omega)
    return (torch.sin((1.0 - t) * omega) / sin_omega) * a + (torch.sin(t * omega) / sin_omega) * b


def _load(safetensors: Any, path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidInputError("missing weights file (models differ)", path=path)
    return safetensors.load_file(str(path))


def _copy_tree(source: Path, target: Path) -> None:
    for item in source.iterdir():
        if item.name in _SKIP:
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target / item.name)


def _provenance(folder: Path) -> Any:
    try:
        return read_provenance(folder)
    except (OSError, ValueError):  # a model without (readable) provenance: merge it anyway
        return None


def _kind(folder: Path) -> str | None:
    """The model kind the folder's ``polyret.json`` records (``None``: a plain model folder)."""
    try:
        return read_meta(folder, "model").get("kind")
    except ValueError:
        return None
