"""First-stage retrieval: BM25, fusion of several runs."""

from polyret.retrieve.bm25 import BM25, BM25Config
from polyret.retrieve.fusion import fuse, fusion_methods
from polyret.retrieve.fusion_tuning import FusionTuning, simplex_grid, tune_fusion

__all__ = [
    "BM25",
    "BM25Config",
    "FusionTuning",
    "fuse",
    "fusion_methods",
    "simplex_grid",
    "tune_fusion",
]
