"""Text encoders: the :class:`Encoder` protocol, backends by name, an on-disk cache.

Example:
    >>> from polyret.encode import load_encoder
    >>> enc = load_encoder("hashing", dim=32)
    >>> enc.encode_documents(["Der Zug fährt nach Berlin."]).shape
    (1, 32)
"""

from polyret.encode.base import BaseEncoder, Encoder, EncoderConfig, finalize, length_batches
from polyret.encode.cache import CachedEncoder, EmbeddingCache
from polyret.encode.embeddings import Embeddings
from polyret.encode.hashing import HashingEncoder
from polyret.encode.registry import DEFAULT_ENCODER, encoders, load_encoder

__all__ = [
    "DEFAULT_ENCODER",
    "BaseEncoder",
    "CachedEncoder",
    "EmbeddingCache",
    "Embeddings",
    "Encoder",
    "EncoderConfig",
    "HashingEncoder",
    "encoders",
    "finalize",
    "length_batches",
    "load_encoder",
]
