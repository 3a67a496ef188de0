"""First-stage retrieval: BM25, dense (FAISS), fusion of several runs."""

from polyret.retrieve.bm25 import BM25, BM25Config
from polyret.retrieve.dense import Dense, DenseConfig
from polyret.retrieve.fusion import fuse, fusion_methods
from polyret.retrieve.fusion_tuning import FusionTuning, simplex_grid, tune_fusion
from polyret.retrieve.loading import load_index

__all__ = [
    "BM25",
    "BM25Config",
    "Dense",
    "DenseConfig",
    "FusionTuning",
    "fuse",
    "fusion_methods",
    "load_index",
    "simplex_grid",
    "tune_fusion",
]
