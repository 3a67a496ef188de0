"""First-stage retrieval: BM25, dense (FAISS), multi-vector (MUVERA + MaxSim), learned sparse,
fusion."""

from polyret.retrieve.bm25 import BM25, BM25Config
from polyret.retrieve.dense import Dense, DenseConfig
from polyret.retrieve.fusion import FuseConfig, combiners, fuse, normalizers
from polyret.retrieve.fusion_tuning import FusionTuning, simplex_grid, tune_fusion
from polyret.retrieve.loading import load_index
from polyret.retrieve.multivector import MultiVector, MultiVectorConfig
from polyret.retrieve.searching import SearchConfig, search
from polyret.retrieve.sparse import LearnedSparse, LearnedSparseConfig

__all__ = [
    "BM25",
    "BM25Config",
    "Dense",
    "DenseConfig",
    "FuseConfig",
    "FusionTuning",
    "LearnedSparse",
    "LearnedSparseConfig",
    "MultiVector",
    "MultiVectorConfig",
    "SearchConfig",
    "combiners",
    "fuse",
    "load_index",
    "normalizers",
    "search",
    "simplex_grid",
    "tune_fusion",
]
