"""First-stage retrievers: BM25 (more to come: dense, fusion)."""

from polyret.retrieve.bm25 import BM25, BM25Config

__all__ = ["BM25", "BM25Config"]
