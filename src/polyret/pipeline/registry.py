"""Stage types by name: each maps to the adapter function that runs it.

An adapter is ``adapter(stage, ctx, out) -> dict``: it reads its inputs through the
:class:`~polyret.pipeline.context.StageContext`, writes its artifact into the empty folder
``out`` (which becomes the stage folder once the adapter returns) and returns a small
summary that goes into the stage's ``provenance.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyret.pipeline.schema import STAGE_SPECS
from polyret.registry import Registry

StageAdapter = Callable[[Any, Any, Path], dict[str, Any]]

stage_types: Registry[StageAdapter] = Registry(
    "stage type", {spec.type: spec.adapter for spec in STAGE_SPECS.values()}
)
"""Adapters by stage type (the ``type`` of a config stage), as :data:`STAGE_SPECS` names them."""
