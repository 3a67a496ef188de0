"""Late-interaction rescoring: exact MaxSim over token vectors (ColBERT, BGE-M3 multi-vector).

Each candidate's score is the mean over the query's content tokens of the best cosine
with any of the document's tokens (:func:`polyret.encode.tokens.maxsim`). With the
packaged multilingual-e5-small and no training (the raw last-layer token states), this
already reorders the hybrid's top 30 better than the dense score does, and fused with the
hybrid on dev it adds to it (``benchmarks/bench_late_interaction.py``). A folder with a
trained ``colbert_linear.pt`` projection (BGE-M3's, or one ``polyret train m3`` writes)
uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from polyret.encode.tokens import TokenEncoder, maxsim
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.rerank.base import PairReranker, ScoreCache


class LateInteractionReranker(PairReranker):
    """MaxSim of query and document token vectors.

    Args:
        encoder: A :class:`~polyret.encode.tokens.TokenEncoder`, or a model name/folder
            for one (default: the packaged multilingual-e5-small).
        cache: Score cache (or its path).
        show_progress: Progress bars while encoding.
        **encoder_options: Options of :class:`~polyret.encode.tokens.TokenEncoder`
            (``layers``, ``projection``, ``storage``, ``mask_punctuation`` ...).

    Example:
        >>> from polyret.types import Corpus, Queries, Run
        >>> reranker = LateInteractionReranker()
        >>> corpus = Corpus.from_dict({"a": "Paris is in France.", "b": "Rivers of Europe."})
        >>> run = Run.from_dict({"q": {"a": 2.0, "b": 1.0}})
        >>> queries = Queries.from_dict({"q": "european rivers"})
        >>> list(reranker.rerank(queries, run, corpus, k=2)["q"])
        ['b', 'a']
    """

    def __init__(
        self,
        encoder: TokenEncoder | str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        cache: ScoreCache | str | os.PathLike[str] | None = None,
        show_progress: bool = False,
        **encoder_options: Any,
    ) -> None:
        super().__init__(cache=cache, show_progress=show_progress)
        if not isinstance(encoder, TokenEncoder):
            encoder = TokenEncoder(encoder, **encoder_options)
        self.encoder = encoder
        identity = {"reranker": "late-interaction", "encoder": encoder.fingerprint}
        self.fingerprint = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def score_pairs(self, query_texts: list[str], doc_texts: list[str]) -> np.ndarray:
        unique_queries = list(dict.fromkeys(query_texts))
        unique_docs = list(dict.fromkeys(doc_texts))
        queries = self.encoder.encode_queries(unique_queries, show_progress=self.show_progress)
        docs = self.encoder.encode_documents(unique_docs, show_progress=self.show_progress)
        q_row = {t: i for i, t in enumerate(unique_queries)}
        d_row = {t: i for i, t in enumerate(unique_docs)}
        scores = np.empty(len(query_texts))
        by_query: dict[int, list[int]] = {}
        for pair, text in enumerate(query_texts):
            by_query.setdefault(q_row[text], []).append(pair)
        for row, pairs in by_query.items():
            scores[pairs] = maxsim(queries[row], docs, _rows(d_row, doc_texts, pairs))
        return scores


def _rows(d_row: dict[str, int], doc_texts: list[str], pairs: Sequence[int]) -> list[int]:
    return [d_row[doc_texts[p]] for p in pairs]
