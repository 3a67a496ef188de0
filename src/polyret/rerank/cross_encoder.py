"""Cross-encoders: sentence-transformers ``CrossEncoder`` or any sequence-classification model.

No multilingual cross-encoder ships with weights in an installable package (see
``MODELS.md``): pass a folder or hub id of a trained one (e.g. a fine-tuned
``BAAI/bge-reranker-v2-m3`` or ``cross-encoder/mmarco-mMiniLMv2-L12-H384-v1``). Offline,
:class:`~polyret.rerank.BiEncoderReranker` is the default.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from polyret.errors import InvalidInputError, MissingExtraError
from polyret.rerank.base import PairReranker, ScoreCache

log = logging.getLogger(__name__)


class CrossEncoderReranker(PairReranker):
    """Scores (query, document) pairs jointly with a cross-encoder.

    Pairs longer than the model's maximum length keep the whole query and lose the end of
    the document (not the ``longest_first`` cut of both sides that tokenizers apply).

    Args:
        model: Folder or hub id of a ``CrossEncoder`` / sequence-classification model.
        max_length: Tokens per pair (default: the model's own, at most 512).
        batch_size: Pairs per forward pass.
        device: torch device.
        cache: Score cache (or its path).
        show_progress: Progress bar while scoring.
        **model_options: Passed to ``sentence_transformers.CrossEncoder``.

    Raises:
        MissingExtraError: sentence-transformers is not installed.
        InvalidInputError: the model cannot be loaded (no folder, no network).
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        max_length: int | None = None,
        batch_size: int = 32,
        device: str = "cpu",
        cache: ScoreCache | str | os.PathLike[str] | None = None,
        show_progress: bool = False,
        **model_options: Any,
    ) -> None:
        super().__init__(cache=cache, show_progress=show_progress)
        try:
            from sentence_transformers import CrossEncoder
        except ImportError:
            raise MissingExtraError(
                "sentence_transformers", "dense", "the cross-encoder reranker"
            ) from None
        try:
            self.model = CrossEncoder(
                str(model), max_length=max_length, device=device, **model_options
            )
        except (OSError, ValueError) as error:
            raise InvalidInputError(
                f"cannot load cross-encoder {str(model)!r}: {error}", field="model"
            ) from None
        self.tokenizer = self.model.tokenizer
        limit = max_length or getattr(self.model, "max_length", None)
        limit = limit or getattr(self.tokenizer, "model_max_length", 512)
        if limit is None:
            raise InvalidInputError(
                f"cannot tell the maximum length of {str(model)!r}: pass max_length",
                field="max_length",
            )
        self.max_length = int(min(limit, 512) if max_length is None else limit)
        self.batch_size = batch_size
        self.name = str(model)
        identity = {
            "reranker": "cross-encoder",
            "model": self.name,
            "max_length": self.max_length,
            "weights": _weights_identity(Path(model)),
        }
        self.fingerprint = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        self.truncated = 0

    def truncate_pair(self, query: str, document: str) -> tuple[str, str]:
        """``(query, document)`` with the document cut so the pair fits ``max_length``."""
        specials = self.tokenizer.num_special_tokens_to_add(pair=True)
        query_len = len(self.tokenizer(query, add_special_tokens=False)["input_ids"])
        budget = self.max_length - specials - query_len
        if budget < 1:
            log.warning(
                "a query alone has %d tokens, over max_length %d", query_len, self.max_length
            )
            return query, ""
        encoded = self.tokenizer(document, add_special_tokens=False, return_offsets_mapping=True)
        if len(encoded["input_ids"]) <= budget:
            return query, document
        self.truncated += 1
        return query, document[: encoded["offset_mapping"][budget - 1][1]]

    def score_pairs(self, query_texts: list[str], doc_texts: list[str]) -> np.ndarray:
        pairs = [self.truncate_pair(q, d) for q, d in zip(query_texts, doc_texts, strict=True)]
        scores = self.model.predict(
            pairs,
            batch_size=self.batch_size,
            show_progress_bar=self.show_progress,
            convert_to_numpy=True,
        )
        scores = np.asarray(scores, dtype=np.float64)
        return scores[:, -1] if scores.ndim == 2 else scores


def _weights_identity(path: Path) -> list[Any]:
    """Names and sizes of a local model folder's weight files (empty for hub ids)."""
    if not path.is_dir():
        return []
    return sorted(
        (p.name, p.stat().st_size)
        for p in path.iterdir()
        if p.suffix in (".safetensors", ".bin", ".onnx")
    )
