"""Rescoring with a bi-encoder over the full document texts (the offline default).

No multilingual cross-encoder ships with weights in any installable package
(``MODELS.md``), so the reranker that works offline is the packaged bi-encoder
(multilingual-e5-small): the cosine between the ``query: `` embedding and the
``passage: `` embedding of the *full* document (title + text). Texts longer than the
encoder's window are split into overlapping token windows whose embeddings are averaged,
where the dense first stage truncates them.

Honest note: when the first stage is polyret's own dense retriever with the same encoder,
this rescoring differs from the dense score only on documents longer than the window, so
on short passages it reorders the hybrid top-k into the dense order (measured in
``benchmarks/bench_rerank.py``). It pays off over a BM25 first stage, with another
encoder, or as one member of an :class:`~polyret.rerank.EnsembleReranker`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from polyret.encode import Encoder, load_encoder
from polyret.models.catalogue import DEFAULT_MODEL
from polyret.rerank.base import PairReranker, ScoreCache

log = logging.getLogger(__name__)


class BiEncoderReranker(PairReranker):
    """Cosine of query and full-document embeddings, long documents windowed.

    Args:
        encoder: An :class:`~polyret.encode.Encoder` or a name/folder for
            :func:`~polyret.encode.load_encoder` (default: the packaged multilingual-e5-small).
        aggregate: How window embeddings combine: ``"mean"`` (the normalized mean, one
            vector per document) or ``"max"`` (best window's cosine).
        overlap: Fraction of a window shared with the next one.
        cache: Score cache (or its path).
        show_progress: Progress bars while encoding.

    Example:
        >>> from polyret.types import Corpus, Queries, Run
        >>> reranker = BiEncoderReranker("hashing")
        >>> corpus = Corpus.from_dict({"a": "rivers of europe", "b": "rivers"})
        >>> out = reranker.rerank(Queries.from_dict({"q": "rivers"}),
        ...                       Run.from_dict({"q": {"a": 2.0, "b": 1.0}}), corpus, k=2)
        >>> list(out["q"])
        ['b', 'a']
    """

    def __init__(
        self,
        encoder: Encoder | str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        aggregate: Literal["mean", "max"] = "mean",
        overlap: float = 0.25,
        cache: ScoreCache | str | os.PathLike[str] | None = None,
        show_progress: bool = False,
        **encoder_options: Any,
    ) -> None:
        super().__init__(cache=cache, show_progress=show_progress)
        if not isinstance(encoder, Encoder):
            encoder = load_encoder(encoder, **encoder_options)
        if aggregate not in ("mean", "max") or not 0 <= overlap < 1:
            from polyret.errors import InvalidInputError

            raise InvalidInputError(
                "aggregate must be 'mean' or 'max' and 0 ≤ overlap < 1", field="aggregate"
            )
        self.encoder = encoder
        self.aggregate = aggregate
        self.overlap = overlap
        self._tokenizer = _untruncated_tokenizer(encoder)
        self.windowed = 0
        identity = {
            "reranker": "bi-encoder",
            "encoder": encoder.fingerprint,
            "aggregate": aggregate,
            "overlap": overlap,
            "windows": self._tokenizer is not None,
        }
        self.fingerprint = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    @property
    def window_tokens(self) -> int:
        """Tokens of document text per window (the encoder's limit less prefix and specials)."""
        prefix = 0
        if self._tokenizer is not None and self.encoder.passage_prefix:
            prefix = len(
                self._tokenizer.encode(self.encoder.passage_prefix, add_special_tokens=False).ids
            )
        return max(8, self.encoder.max_length - prefix - 4)

    def windows(self, text: str) -> list[str]:
        """``text`` split into overlapping windows of at most :attr:`window_tokens` tokens."""
        if self._tokenizer is None:
            return [text]
        offsets = self._tokenizer.encode(text, add_special_tokens=False).offsets
        size = self.window_tokens
        if len(offsets) <= size:
            return [text]
        step = max(1, int(size * (1 - self.overlap)))
        out = []
        for start in range(0, len(offsets), step):
            end = min(start + size, len(offsets))
            out.append(text[offsets[start][0] : offsets[end - 1][1]])
            if end == len(offsets):
                break
        return out

    def score_pairs(self, query_texts: list[str], doc_texts: list[str]) -> np.ndarray:
        unique_queries = list(dict.fromkeys(query_texts))
        unique_docs = list(dict.fromkeys(doc_texts))
        q_emb = self.encoder.encode_queries(unique_queries, show_progress=self.show_progress)
        pieces: list[str] = []
        owner: list[int] = []
        for row, text in enumerate(unique_docs):
            parts = self.windows(text)
            pieces += parts
            owner += [row] * len(parts)
        self.windowed = len(pieces) - len(unique_docs)
        if self.windowed:
            log.info(
                "bi-encoder: %d documents longer than %d tokens → %d extra windows",
                sum(np.bincount(owner) > 1),
                self.window_tokens,
                self.windowed,
            )
        w_emb = self.encoder.encode_documents(pieces, show_progress=self.show_progress)
        owner_arr = np.asarray(owner)
        q_row = {t: i for i, t in enumerate(unique_queries)}
        d_row = {t: i for i, t in enumerate(unique_docs)}
        qi = np.array([q_row[t] for t in query_texts], dtype=np.int64)
        di = np.array([d_row[t] for t in doc_texts], dtype=np.int64)
        if self.aggregate == "mean" or not self.windowed:
            doc = np.zeros((len(unique_docs), w_emb.shape[1]), np.float64)
            np.add.at(doc, owner_arr, w_emb.astype(np.float64))
            doc /= np.maximum(np.linalg.norm(doc, axis=1, keepdims=True), 1e-12)
            return np.einsum("ij,ij->i", q_emb[qi].astype(np.float64), doc[di])
        # max over windows: each pair expanded to its document's windows (contiguous rows)
        per_doc = np.bincount(owner_arr, minlength=len(unique_docs))
        first = np.concatenate([[0], np.cumsum(per_doc)[:-1]])
        n = per_doc[di]
        pair_of = np.repeat(np.arange(len(di)), n)
        piece_of = np.repeat(first[di], n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        cos = np.einsum(
            "ij,ij->i", q_emb[qi[pair_of]].astype(np.float64), w_emb[piece_of].astype(np.float64)
        )
        return np.maximum.reduceat(cos, np.cumsum(n) - n)


def _untruncated_tokenizer(encoder: Encoder) -> Any | None:
    """The encoder's tokenizer without truncation, when it exposes a tokenizer.json."""
    path = getattr(encoder, "path", None)
    if path is None or not (Path(path) / "tokenizer.json").is_file():
        return None
    try:
        import tokenizers
    except ImportError:
        return None
    tokenizer = tokenizers.Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
