"""Second-stage reranking: bi-/cross-encoders, LLM pointwise and listwise, ensembles.

Example:
    >>> from polyret.rerank import load_reranker
    >>> from polyret.types import Corpus, Queries, Run
    >>> run = Run.from_dict({"q": {"a": 2.0, "b": 1.0}})
    >>> corpus = Corpus.from_dict({"a": "rivers of europe", "b": "rivers"})
    >>> list(load_reranker("bi-encoder", "hashing").rerank(
    ...     Queries.from_dict({"q": "rivers"}), run, corpus, k=2)["q"])
    ['b', 'a']
"""

from polyret.rerank.base import (
    Candidates,
    PairReranker,
    Reranker,
    ScoreCache,
    assemble,
    candidates,
    first_stage_fallback,
)
from polyret.rerank.bi_encoder import BiEncoderReranker
from polyret.rerank.config import RerankConfig, build_reranker
from polyret.rerank.cross_encoder import CrossEncoderReranker
from polyret.rerank.ensemble import (
    EnsembleFit,
    EnsembleReranker,
    decorrelation_prior,
    spearman_matrix,
)
from polyret.rerank.late_interaction import LateInteractionReranker
from polyret.rerank.llm_listwise import LLMListwiseReranker, parse_permutation, window_starts
from polyret.rerank.llm_pointwise import LLMPointwiseReranker, score_answer
from polyret.rerank.registry import (
    DEFAULT_RERANKER,
    FAMILIES,
    RerankerFamily,
    load_reranker,
    rerankers,
)

__all__ = [
    "DEFAULT_RERANKER",
    "FAMILIES",
    "BiEncoderReranker",
    "Candidates",
    "CrossEncoderReranker",
    "EnsembleFit",
    "EnsembleReranker",
    "LLMListwiseReranker",
    "LLMPointwiseReranker",
    "LateInteractionReranker",
    "PairReranker",
    "RerankConfig",
    "Reranker",
    "RerankerFamily",
    "ScoreCache",
    "assemble",
    "build_reranker",
    "candidates",
    "decorrelation_prior",
    "first_stage_fallback",
    "load_reranker",
    "parse_permutation",
    "rerankers",
    "score_answer",
    "spearman_matrix",
    "window_starts",
]
