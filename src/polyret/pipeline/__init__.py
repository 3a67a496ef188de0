"""Pipelines: a config of stages, run once, resumed after a kill, recomputed only where changed.

Example:
    >>> from polyret.pipeline import load_config
    >>> config = load_config({"name": "small", "stages": [
    ...     {"name": "data", "type": "dataset", "params": {"source": "xquad-r"}},
    ...     {"name": "bm25-index", "type": "index-bm25"},
    ...     {"name": "bm25", "type": "retrieve", "inputs": {"index": "bm25-index"}}]})
    >>> config.stages[2].inputs.dataset  # filled in: the only dataset stage before it
    'data'
"""

from polyret.pipeline.loading import ConfigError, ConfigIssue, load_config
from polyret.pipeline.registry import StageAdapter, stage_types
from polyret.pipeline.runner import (
    RunResult,
    StageResult,
    default_run_dir,
    run_pipeline,
)
from polyret.pipeline.schema import STAGE_MODELS, PipelineConfig, StageBase
from polyret.pipeline.tables import systems_table

__all__ = [
    "STAGE_MODELS",
    "ConfigError",
    "ConfigIssue",
    "PipelineConfig",
    "RunResult",
    "StageAdapter",
    "StageBase",
    "StageResult",
    "default_run_dir",
    "load_config",
    "run_pipeline",
    "stage_types",
    "systems_table",
]
