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

from polyret.registry import Registry

StageAdapter = Callable[[Any, Any, Path], dict[str, Any]]

stage_types: Registry[StageAdapter] = Registry(
    "stage type",
    {
        "dataset": "polyret.pipeline.adapters_data:run_dataset",
        "generate": "polyret.pipeline.adapters_data:run_generate",
        "filter": "polyret.pipeline.adapters_data:run_filter",
        "mine": "polyret.pipeline.adapters_data:run_mine",
        "train-bi-encoder": "polyret.pipeline.adapters_data:run_train_bi_encoder",
        "train-cross-encoder": "polyret.pipeline.adapters_data:run_train_cross_encoder",
        "index-bm25": "polyret.pipeline.adapters_retrieval:run_index_bm25",
        "index-dense": "polyret.pipeline.adapters_retrieval:run_index_dense",
        "retrieve": "polyret.pipeline.adapters_retrieval:run_retrieve",
        "fuse": "polyret.pipeline.adapters_retrieval:run_fuse",
        "rerank": "polyret.pipeline.adapters_retrieval:run_rerank",
        "evaluate": "polyret.pipeline.adapters_retrieval:run_evaluate",
    },
)
"""Adapters by stage type (the ``type`` of a config stage)."""
