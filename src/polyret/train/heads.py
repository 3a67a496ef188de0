"""Train BGE-M3's heads over a frozen encoder: the multi-vector projection
(``colbert_linear.pt``) and the sparse lexical weights (``sparse_linear.pt``), alone or
together through M3's self-knowledge distillation.

The encoder stays as it is, so every training text's token states are computed once (the
packaged int8 ONNX path, :class:`~polyret.encode.tokens.TokenEncoder`) and each step only
runs the linear heads: minutes on two CPU cores, where fine-tuning the encoder costs
seconds per step. Each head scores exactly as inference does:

- ``colbert`` (:class:`ColbertHead`): MaxSim over the token states of ``layers`` through a
  bias-free linear map (on normalized inputs a bias-free map gives the same direction as on
  the raw states, so the head trained here is the one ``TokenEncoder`` applies), starting
  as the identity, i.e. from the zero-shot MaxSim;
- ``sparse`` (:class:`SparseHead`): per token, ``ReLU(linear(h))`` of its last-layer state
  (:func:`~polyret.encode.sparse.sparse_tokens`, what
  :class:`~polyret.encode.sparse.SparseEncoder` reads), the maximum per vocabulary id within
  a text, and the query · document product; the head starts fresh (seeded), as BGE-M3's.

Loss, per batch of (query, positive, hard negatives), every distinct positive and negative
of the batch a candidate of every query (temperature ``τ``): InfoNCE of each head's scores,
the sparse one weighted 0.1 (BGE-M3's weighting). With ``distill`` > 0, M3's
self-knowledge distillation: the combined score
``s_inter = w_dense · s_dense + w_sparse · s_sparse + w_colbert · s_colbert`` (the dense
cosine is the frozen encoder's pooled embedding, as dense retrieval embeds) gets its own
InfoNCE, and ``softmax(s_inter / τ)``, detached, teaches each head (KL, weighted by
``distill``, the sparse term by 0.1 again). BGE-M3 also trains the dense side; here the
encoder is frozen, so its terms would be constants and are left out.

The output folder is the base model's files plus the trained heads in BGE-M3's format:
the ``late-interaction`` reranker, the multi-vector index and ``LearnedSparse`` load it.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from polyret.encode.registry import load_encoder
from polyret.encode.sparse import sparse_tokens
from polyret.encode.tokens import TokenEncoder
from polyret.errors import InvalidInputError
from polyret.io.artifact import write_meta
from polyret.io.atomic import atomic_directory
from polyret.io.manifest import write_provenance
from polyret.models.m3 import COLBERT_FILE, SPARSE_FILE
from polyret.optional import require
from polyret.train.common import base_identity, resolve_base, training_set_summary
from polyret.train.config import HeadsConfig
from polyret.types import Dataset, TrainingSet

log = logging.getLogger(__name__)
MODEL_FORMAT = 1
_Folder = str | os.PathLike[str]
_Texts = Sequence[str]
_LOSS_SCALE = {"colbert": 1.0, "sparse": 0.1}
"""Weight of each head's InfoNCE and distillation terms (BGE-M3's: 0.1 for sparse)."""


def train_heads(
    training_set: TrainingSet,
    base: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: HeadsConfig = HeadsConfig(),  # frozen
    *,
    dev: Dataset | None = None,
    dev_split: str = "dev",
    resume: bool = False,
    overwrite: bool = False,
) -> Path:
    """Train ``config.heads`` on ``training_set`` over the frozen ``base`` encoder.

    Args:
        training_set: Rows of (query, positive, negatives), e.g. crops with mined negatives.
        base: The encoder: a packaged name or a model folder.
        out: The model folder to write (the base's files plus the trained heads).
        config: The heads, their size, the schedule and the loss.
        dev: Not used during training (the heads train in minutes; compare systems with
            ``benchmarks/bench_late_interaction.py``, ``benchmarks/bench_m3.py`` or a
            pipeline's dev-tuned ensemble).
        dev_split: Unused, accepted like the other trainers'.
        resume: Unused: a run is short and has no checkpoints.
        overwrite: Replace an existing ``out``.

    Raises:
        InvalidInputError: an empty training set, or rows without a positive.
    """
    del dev, dev_split, resume
    torch = require("torch", "dense", "head training")
    if len(training_set) == 0:
        raise InvalidInputError("the training set is empty", field="rows")
    base_ref = resolve_base(base)
    started = time.perf_counter()
    rng = random.Random(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    rows = _rows(training_set, config.num_negatives)
    queries = [q for q, _, _ in rows]
    texts = list(dict.fromkeys(t for _, pos, negs in rows for t in (pos, *negs)))
    log.info("heads: token states of %d queries and %d documents", len(rows), len(texts))
    heads = [_HEADS[name](torch, base_ref, config, queries, texts) for name in config.heads]
    dense = DenseScores(torch, base_ref, config, queries, texts) if config.distill > 0 else None
    encoded = time.perf_counter()
    position = {t: i for i, t in enumerate(texts)}
    parameters = [p for head in heads for p in head.module.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=0.0)
    losses: list[float] = []
    order = list(range(len(rows)))
    batch = min(config.batch_size, len(rows))
    for _ in tqdm(range(config.max_steps), disable=not config.show_progress, desc="heads"):
        picked = rng.sample(order, batch)
        # each text once: a mined negative is often another row's positive, and as two
        # columns it would be both the answer and a negative of that row's query
        doc_rows = list(
            dict.fromkeys(position[t] for i in picked for t in (rows[i][1], *rows[i][2]))
        )
        column = {row: j for j, row in enumerate(doc_rows)}
        labels = torch.tensor([column[position[rows[i][1]]] for i in picked])
        scores = {head.name: head.scores(picked, doc_rows) for head in heads}
        dense_scores = None if dense is None else dense.scores(picked, doc_rows)
        loss = m3_loss(torch, scores, dense_scores, labels, config)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
        if len(losses) % config.logging_steps == 0:
            log.info(
                "heads: step %d loss %.4f", len(losses), np.mean(losses[-config.logging_steps :])
            )
    summary = {
        "steps": len(losses),
        "first_loss": losses[0] if losses else None,
        "last_losses": float(np.mean(losses[-config.logging_steps :])) if losses else None,
        "queries": len(rows),
        "documents": len(texts),
        "encoding_s": round(encoded - started, 1),
        "runtime_s": round(time.perf_counter() - started, 1),
    }
    states = {head.file: head.module.state_dict() for head in heads}
    return _save(states, base_ref, Path(out), config, training_set, summary, overwrite)


def m3_loss(
    torch: Any, scores: dict[str, Any], dense: Any, labels: Any, config: HeadsConfig
) -> Any:
    """The heads' loss over ``[queries, candidates]`` score matrices (see the module
    docstring).

    Args:
        torch: The torch module.
        scores: The trained heads' scores by name (``colbert``, ``sparse``).
        dense: The frozen dense scores (needed when ``config.distill`` > 0, else unused).
        labels: Per query, the column of its positive.
        config: ``temperature``, ``distill`` and the weights of the combined score.
    """
    functional = torch.nn.functional
    tau = config.temperature
    loss = sum(
        _LOSS_SCALE[name] * functional.cross_entropy(s / tau, labels) for name, s in scores.items()
    )
    if config.distill > 0:
        weights = {"colbert": config.colbert_weight, "sparse": config.sparse_weight}
        inter = config.dense_weight * dense + sum(weights[n] * s for n, s in scores.items())
        loss = loss + functional.cross_entropy(inter / tau, labels)
        target = torch.softmax(inter.detach() / tau, dim=-1)
        for name, s in scores.items():
            kl = functional.kl_div(
                torch.log_softmax(s / tau, dim=-1), target, reduction="batchmean"
            )
            loss = loss + config.distill * _LOSS_SCALE[name] * kl
    return loss


class Scorer:
    """One side of the training scores: built once from the batch-independent texts (its
    frozen encoder's output), then scoring rows of them, step after step."""

    def __init__(
        self, torch: Any, base: _Folder, config: HeadsConfig, queries: _Texts, docs: _Texts
    ) -> None:
        self._torch = torch
        self._prepare(base, config, queries, docs)

    def _prepare(self, base: _Folder, config: HeadsConfig, queries: _Texts, docs: _Texts) -> None:
        raise NotImplementedError  # pragma: no cover

    def scores(self, queries: Sequence[int], documents: Sequence[int]) -> Any:
        """``[queries, documents]`` scores of the rows given."""
        raise NotImplementedError  # pragma: no cover


class Head(Scorer):
    """A trained head: its name in :class:`~polyret.train.HeadsConfig`, its file in a model
    folder, and its ``torch.nn.Linear``."""

    name: str
    file: str
    module: Any


class ColbertHead(Head):
    """The multi-vector head at training time: the texts' normalized token vectors (computed
    once), a bias-free ``Linear(hidden, dim)`` (identity when ``config.dim`` is ``None``),
    and MaxSim."""

    name = "colbert"
    file = COLBERT_FILE

    def _prepare(self, base: _Folder, config: HeadsConfig, queries: _Texts, docs: _Texts) -> None:
        torch = self._torch
        encoder = TokenEncoder(
            base, layers=config.layers, projection=None, max_length=config.max_seq_length
        )
        self.queries = encoder.encode_queries(queries, show_progress=config.show_progress)
        self.documents = encoder.encode_documents(docs, show_progress=config.show_progress)
        torch.manual_seed(config.seed)
        self.module = torch.nn.Linear(encoder.dim, config.dim or encoder.dim, bias=False)
        if config.dim is None:
            with torch.no_grad():
                self.module.weight.copy_(torch.eye(encoder.dim))

    def scores(self, queries: Sequence[int], documents: Sequence[int]) -> Any:
        """``[queries, documents]`` MaxSim of the rows given."""
        torch = self._torch
        q, q_mask = _padded(torch, [self.queries[r] for r in queries])
        d, d_mask = _padded(torch, [self.documents[r] for r in documents])
        return _maxsim(torch, self.module(q), q_mask, self.module(d), d_mask)


class SparseHead(Head):
    """The sparse head at training time: the texts' last-layer token states and vocabulary
    ids (computed once, as :class:`~polyret.encode.sparse.SparseEncoder` reads them), a
    fresh ``Linear(hidden, 1)`` (seeded), and the product of the per-id maxima."""

    name = "sparse"
    file = SPARSE_FILE

    def _prepare(self, base: _Folder, config: HeadsConfig, queries: _Texts, docs: _Texts) -> None:
        torch = self._torch
        encoder = sparse_tokens(base, max_length=config.max_seq_length)
        progress = config.show_progress
        self.queries = encoder.token_states(queries, "query", show_progress=progress)
        self.documents = encoder.token_states(docs, "passage", show_progress=progress)
        torch.manual_seed(config.seed)
        self.module = torch.nn.Linear(encoder.hidden, 1)

    def scores(self, queries: Sequence[int], documents: Sequence[int]) -> Any:
        """``[queries, documents]`` sparse products of the rows given.

        Each text's token weights are scattered into the batch's own vocabulary (the ids
        that occur in it, not all 250k) with a maximum per id, as inference keeps one
        weight per id.
        """
        torch = self._torch
        q, q_ids = self._weights([self.queries[r] for r in queries])
        d, d_ids = self._weights([self.documents[r] for r in documents])
        vocabulary, inverse = torch.unique(
            torch.cat([q_ids.flatten(), d_ids.flatten()]), return_inverse=True
        )
        split = q_ids.numel()
        q_rows = _per_id(torch, q, inverse[:split].view_as(q_ids), len(vocabulary))
        d_rows = _per_id(torch, d, inverse[split:].view_as(d_ids), len(vocabulary))
        return q_rows @ d_rows.T

    def _weights(self, texts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[Any, Any]:
        """Padded ``[texts, tokens]`` weights (0 on padding) and vocabulary ids."""
        states, mask = _padded(self._torch, [s for s, _ in texts])
        ids, _ = _padded(self._torch, [i for _, i in texts])
        weights = self._torch.relu(self.module(states)).squeeze(-1)
        return weights * mask, ids


_HEADS: dict[str, type[Head]] = {"colbert": ColbertHead, "sparse": SparseHead}


class DenseScores(Scorer):
    """The frozen dense side of the combined score: cosines of the encoder's pooled
    embeddings, computed once the way dense retrieval computes them
    (:func:`~polyret.encode.load_encoder` on the base folder)."""

    def _prepare(self, base: _Folder, config: HeadsConfig, queries: _Texts, docs: _Texts) -> None:
        options = {} if config.max_seq_length is None else {"max_length": config.max_seq_length}
        encoder = load_encoder(base, **options)
        self.queries = np.asarray(encoder.encode_queries(list(queries)), np.float32)
        self.documents = np.asarray(encoder.encode_documents(list(docs)), np.float32)

    def scores(self, queries: Sequence[int], documents: Sequence[int]) -> Any:
        """``[queries, documents]`` cosines of the rows given."""
        return self._torch.from_numpy(
            self.queries[list(queries)] @ self.documents[list(documents)].T
        )


def _rows(training_set: TrainingSet, negatives: int) -> list[tuple[str, str, list[str]]]:
    out = []
    for row, (query, positive, negs) in enumerate(
        zip(
            training_set.column("query"),
            training_set.column("positive"),
            training_set.column("negatives"),
            strict=True,
        )
    ):
        if not positive:
            raise InvalidInputError(f"row {row} has no positive text", field="positive")
        out.append((query, positive, list(negs or [])[:negatives]))
    return out


def _padded(torch: Any, parts: Sequence[np.ndarray]) -> tuple[Any, Any]:
    """Ragged per-text arrays (``[tokens, ...]``) as one zero-padded tensor and its mask."""
    width = max(len(part) for part in parts)
    first = torch.from_numpy(parts[0])
    values = torch.zeros(len(parts), width, *first.shape[1:], dtype=first.dtype)
    mask = torch.zeros(len(parts), width, dtype=torch.bool)
    for i, part in enumerate(parts):
        values[i, : len(part)] = torch.from_numpy(part)
        mask[i, : len(part)] = True
    return values, mask


def _per_id(torch: Any, weights: Any, index: Any, size: int) -> Any:
    """``[texts, size]``: per text, the largest weight of each (batch-local) id.

    Padding has weight 0, and weights are ≥ 0, so it changes no maximum."""
    rows = torch.zeros(weights.shape[0], size, dtype=weights.dtype)
    return rows.scatter_reduce(1, index, weights, reduce="amax")


def _maxsim(torch: Any, q: Any, q_mask: Any, d: Any, d_mask: Any) -> Any:
    """``[queries, documents]`` mean over query tokens of the best cosine per document."""
    q = torch.nn.functional.normalize(q, dim=-1)
    d = torch.nn.functional.normalize(d, dim=-1)
    sims = torch.einsum("aqh,bdh->abqd", q, d).masked_fill(~d_mask[None, :, None, :], -2.0)
    best = sims.max(dim=-1).values * q_mask[:, None, :]
    return best.sum(-1) / q_mask.sum(-1)[:, None]


def _save(
    states: dict[str, dict[str, Any]],
    base: str,
    out: Path,
    config: HeadsConfig,
    training_set: TrainingSet,
    summary: dict[str, Any],
    overwrite: bool,
) -> Path:
    torch = require("torch", "dense", "head training")
    with atomic_directory(out, overwrite=overwrite) as tmp:
        # a copy, not hard links: settling a model folder rewrites its card and the
        # weights' mtimes, which must not reach the base model's files
        shutil.copytree(base, tmp, dirs_exist_ok=True)
        for file, state in states.items():
            (tmp / file).unlink(missing_ok=True)  # the base's own head may be a symlink
            torch.save(state, tmp / file)
        provenance: dict[str, Any] = {
            "kind": "bi-encoder",
            "heads": list(config.heads),
            "base": base_identity(base),
            "config": config.model_dump(mode="json"),
            "config_class": type(config).__name__,
            "training_set": training_set_summary(training_set),
            "training": summary,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        write_provenance(tmp, provenance)
        write_meta(
            tmp,
            "model",
            MODEL_FORMAT,
            kind="bi-encoder",
            base=provenance["base"],
            config=provenance["config"],
        )
    log.info("heads: %s (%s)", out, summary)
    return out
