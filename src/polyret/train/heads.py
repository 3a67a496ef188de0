"""Train the late-interaction head (BGE-M3's ``colbert_linear``) over a frozen encoder.

The encoder stays as it is, so every training text's token vectors are computed once (the
packaged int8 ONNX path, :class:`~polyret.encode.tokens.TokenEncoder`) and each step only
runs the linear head: a few minutes on two CPU cores, where fine-tuning the encoder costs
seconds per step. The head maps each token vector (without bias: on normalized inputs a
bias-free map gives the same direction as on the raw states, so the head trained here is
exactly the one :class:`~polyret.encode.tokens.TokenEncoder` applies) and starts as the
identity, i.e. from the zero-shot MaxSim.

Loss, per batch of (query, positive, hard negatives): InfoNCE over MaxSim scores against
every positive and negative of the batch, plus optionally M3's self-knowledge distillation
term, a KL divergence toward the softmax of the frozen teacher score (the zero-shot MaxSim
plus the cosine of the mean-pooled token vectors), which keeps the trained head from drifting far
from what the encoder already knew.

The output folder is the base model's files plus ``colbert_linear.pt``: every polyret
entry point that takes an encoder folder (the ``late-interaction`` reranker, the
multi-vector index, dense retrieval) loads it.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from polyret.encode.tokens import PROJECTION_FILE, TokenEncoder, TokenVectors
from polyret.errors import InvalidInputError
from polyret.io.artifact import write_meta
from polyret.io.atomic import atomic_directory
from polyret.io.manifest import write_provenance
from polyret.optional import require
from polyret.train.common import base_identity, resolve_base, training_set_summary
from polyret.train.config import HeadsConfig
from polyret.types import Dataset, TrainingSet

log = logging.getLogger(__name__)
MODEL_FORMAT = 1


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
    """Train ``colbert_linear.pt`` on ``training_set`` over the frozen ``base`` encoder.

    Args:
        training_set: Rows of (query, positive, negatives), e.g. crops with mined negatives.
        base: The encoder: a packaged name or a model folder.
        out: The model folder to write (the base's files plus the head).
        config: The head's size, the schedule and the loss.
        dev: Not used during training (the head trains in minutes; compare systems with
            ``benchmarks/bench_late_interaction.py`` or a pipeline's dev-tuned ensemble).
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
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    encoder = TokenEncoder(
        base_ref, layers=config.layers, projection=None, max_length=config.max_seq_length
    )
    rows = _rows(training_set, config.num_negatives)
    texts = list(dict.fromkeys(t for _, pos, negs in rows for t in (pos, *negs)))
    log.info("heads: token vectors of %d queries and %d documents", len(rows), len(texts))
    queries = encoder.encode_queries([q for q, _, _ in rows], show_progress=config.show_progress)
    docs = encoder.encode_documents(texts, show_progress=config.show_progress)
    dense_q, dense_d = _pooled(queries), _pooled(docs)
    position = {t: i for i, t in enumerate(texts)}
    head = torch.nn.Linear(encoder.dim, config.dim or encoder.dim, bias=False)
    if config.dim is None:
        with torch.no_grad():
            head.weight.copy_(torch.eye(encoder.dim))
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=0.0)
    losses: list[float] = []
    order = list(range(len(rows)))
    batch = min(config.batch_size, len(rows))
    for _ in tqdm(range(config.max_steps), disable=not config.show_progress, desc="heads"):
        picked = rng.sample(order, batch)
        doc_rows = [position[rows[i][1]] for i in picked]
        doc_rows += [position[n] for i in picked for n in rows[i][2]]
        q, q_mask = _padded(torch, queries, picked)
        d, d_mask = _padded(torch, docs, doc_rows)
        scores = _maxsim(torch, head(q), q_mask, head(d), d_mask)
        logits = scores / config.temperature
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(batch))
        if config.distill > 0:
            with torch.no_grad():
                teacher = _maxsim(torch, q, q_mask, d, d_mask)
                teacher = teacher + torch.from_numpy(dense_q[picked] @ dense_d[doc_rows].T)
                target = torch.softmax(teacher / config.temperature, dim=-1)
            kl = torch.nn.functional.kl_div(
                torch.log_softmax(logits, dim=-1), target, reduction="batchmean"
            )
            loss = loss + config.distill * kl
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
        "runtime_s": round(time.perf_counter() - started, 1),
    }
    return _save(head.state_dict(), base_ref, Path(out), config, training_set, summary, overwrite)


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


def _pooled(tokens: TokenVectors) -> np.ndarray:
    """Normalized mean of each text's (content) token vectors: the teacher's dense side."""
    vectors = tokens.as_float32()
    sums = np.add.reduceat(vectors, tokens.offsets[:-1], axis=0)
    return (sums / np.linalg.norm(sums, axis=1, keepdims=True)).astype(np.float32)


def _padded(torch: Any, tokens: TokenVectors, rows: list[int]) -> tuple[Any, Any]:
    width = int(tokens.lengths[rows].max())
    values = torch.zeros(len(rows), width, tokens.vectors.shape[1])
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, row in enumerate(rows):
        part = torch.from_numpy(tokens[row])
        values[i, : len(part)] = part
        mask[i, : len(part)] = True
    return values, mask


def _maxsim(torch: Any, q: Any, q_mask: Any, d: Any, d_mask: Any) -> Any:
    """``[queries, documents]`` mean over query tokens of the best cosine per document."""
    q = torch.nn.functional.normalize(q, dim=-1)
    d = torch.nn.functional.normalize(d, dim=-1)
    sims = torch.einsum("aqh,bdh->abqd", q, d).masked_fill(~d_mask[None, :, None, :], -2.0)
    best = sims.max(dim=-1).values * q_mask[:, None, :]
    return best.sum(-1) / q_mask.sum(-1)[:, None]


def _save(
    state: dict[str, Any],
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
        (tmp / PROJECTION_FILE).unlink(missing_ok=True)
        torch.save(state, tmp / PROJECTION_FILE)
        provenance: dict[str, Any] = {
            "kind": "bi-encoder",
            "heads": ["colbert"],
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
