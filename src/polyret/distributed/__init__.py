"""Ray Data backends for the heavy stages: encode, BM25 analysis, rerank, mining, generation.

Example:
    >>> from polyret.distributed import backend_from
    >>> backend = backend_from("ray", address="auto", workers=2)
    >>> backend.is_ray, backend.address, backend.workers
    (True, 'auto', 2)
"""

from polyret.distributed.backend import LOCAL, Backend, backend_from, ray_session
from polyret.distributed.dispatch import generate, index_bm25, index_dense, mine_negatives, rerank
from polyret.distributed.specs import EncoderSpec, GeneratorSpec, RerankerSpec

__all__ = [
    "LOCAL",
    "Backend",
    "EncoderSpec",
    "GeneratorSpec",
    "RerankerSpec",
    "backend_from",
    "generate",
    "index_bm25",
    "index_dense",
    "mine_negatives",
    "ray_session",
    "rerank",
]
