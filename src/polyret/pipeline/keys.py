"""Stage keys: what makes a stage's output the same output.

``key = sha256(stage type, params, seed, polyret major.minor, the keys of its inputs, the
content identity of the files it reads)``. Input keys are keys of the same kind, so a key
transitively covers every upstream config and file: a finished stage whose key is unchanged
is reused, and changing one stage changes its key and the keys of everything downstream.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from polyret._version import __version__
from polyret.pipeline.schema import PipelineConfig, StageBase

_SMALL = 16 << 20  # files up to 16 MiB are hashed by content, larger ones by size and mtime


def polyret_series() -> str:
    """``major.minor`` of the installed polyret (a new patch release keeps every key)."""
    return ".".join(__version__.split(".")[:2])


def stage_keys(config: PipelineConfig) -> dict[str, str]:
    """The key of every stage, in config order."""
    keys: dict[str, str] = {}
    for stage in config.stages:
        keys[stage.name] = stage_key(stage, keys, config.seed)
    return keys


def stage_key(stage: StageBase, upstream: dict[str, str], default_seed: int) -> str:
    """The key of ``stage`` given the keys of the stages before it."""
    payload = {
        "type": stage.type,
        "params": stage.params.model_dump(mode="json"),
        "seed": stage.seed(default_seed),
        "polyret": polyret_series(),
        "inputs": input_keys(stage, upstream),
        "content": content_identity(stage),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_keys(stage: StageBase, keys: dict[str, str]) -> dict[str, Any]:
    """``{role: key | [keys] | {label: key}}`` mirroring the stage's ``inputs``."""
    out: dict[str, Any] = {}
    for role, value in stage.inputs:
        if value is None:
            continue
        if isinstance(value, str):
            out[role] = keys[value]
        elif isinstance(value, dict):
            out[role] = {label: keys[name] for label, name in value.items()}
        else:
            out[role] = [keys[name] for name in value]
    return out


def content_identity(stage: StageBase) -> dict[str, str]:
    """Fingerprints of the files a stage reads from outside the run (datasets, models)."""
    p = stage.params
    refs: dict[str, str] = {}
    if stage.type == "dataset":
        from polyret.datasets import list_datasets

        folder = next((i.path for i in list_datasets() if i.name == p.source), Path(p.source))
        if folder.is_dir():  # a URI (irds:, hf:) is identified by itself
            refs["source"] = folder_fingerprint(folder)
    for field in ("base", "encoder", "model"):
        value = getattr(p, field, None)
        if isinstance(value, str) and Path(value).is_absolute() and Path(value).is_dir():
            refs[field] = folder_fingerprint(Path(value))
    return refs


def folder_fingerprint(folder: Path) -> str:
    """sha256 over a folder's files: content up to 16 MiB, size and mtime above."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(folder)).encode("utf-8") + b"\0")
        stat = file.stat()
        if stat.st_size <= _SMALL:
            digest.update(file.read_bytes())
        else:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()
