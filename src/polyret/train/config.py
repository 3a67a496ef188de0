"""Frozen configs of the trainers: every run is written back as its config.

Each trainer takes one config object (a frozen pydantic model); the config is saved in the
model folder's ``provenance.json`` so a trained model says exactly how it was made, and
``Config.model_validate(json)`` rebuilds it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from polyret.config import Config


class TrainConfig(Config):
    """What every trainer shares: schedule, checkpoints, dev evaluation, seeds.

    Args:
        epochs: Passes over the training set (ignored when ``max_steps`` > 0).
        max_steps: Optimizer steps; > 0 overrides ``epochs``.
        batch_size: Training examples per step.
        learning_rate: Peak learning rate (linear warm-up, then linear decay).
        warmup_ratio: Fraction of the steps spent warming up.
        weight_decay: AdamW weight decay.
        seed: Seeds model initialization (a fresh head), data order and dropout.
        max_seq_length: Tokens per text (bi-encoder) or per pair (cross-encoder).
        freeze_word_embeddings: Keep the input word-embedding matrix fixed (``None``: on
            CPU, not on a GPU). On multilingual-e5-small it is 82% of the parameters:
            freezing it makes a CPU step ~12x faster and uses ~2.5x less memory with the
            same loss curve (MODELS.md), and words absent from the training data keep their
            pretrained vectors.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (a GPU when torch sees one).
        num_negatives: Hard negatives per row taken from the training set (``None``: as
            many as every row has; ``0``: in-batch negatives only).
        save_steps: Save a resumable checkpoint every this many steps (0: no checkpoints).
        save_total_limit: Checkpoints kept on disk (oldest deleted first).
        keep_checkpoints: Keep ``out/checkpoints`` after a successful run.
        eval_steps: Evaluate on the dev split every this many steps (0: only at the end
            when a dev set is given).
        eval_k: Cutoff of the dev metric (nDCG@k).
        early_stopping_patience: Stop after this many dev evaluations without improvement
            and keep the best checkpoint (needs a dev set and ``eval_steps`` > 0).
        logging_steps: Log the training loss every this many steps.
        threads: torch CPU threads (``None``: torch's default).
        show_progress: Progress bars.
    """

    epochs: float = Field(default=1.0, gt=0)
    max_steps: int = -1
    batch_size: int = Field(default=32, ge=1)
    learning_rate: float = Field(default=2e-5, gt=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    weight_decay: float = Field(default=0.01, ge=0)
    seed: int = 0
    max_seq_length: int | None = Field(default=128, ge=8)
    freeze_word_embeddings: bool | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_negatives: int | None = Field(default=None, ge=0)
    save_steps: int = Field(default=0, ge=0)
    save_total_limit: int | None = Field(default=2, ge=1)
    keep_checkpoints: bool = False
    eval_steps: int = Field(default=0, ge=0)
    eval_k: int = Field(default=10, ge=1)
    early_stopping_patience: int | None = Field(default=None, ge=1)
    logging_steps: int = Field(default=10, ge=1)
    threads: int | None = Field(default=None, ge=1)
    show_progress: bool = False

    @model_validator(mode="after")
    def _check_schedule(self) -> TrainConfig:
        if self.early_stopping_patience is not None:
            if self.eval_steps < 1:
                raise ValueError("early_stopping_patience needs eval_steps > 0")
            if self.save_steps and self.save_steps % self.eval_steps:
                raise ValueError("save_steps must be a multiple of eval_steps for early stopping")
        return self


class BiEncoderConfig(TrainConfig):
    r"""Contrastive bi-encoder training (InfoNCE over in-batch and mined hard negatives).

    Args:
        loss: ``"infonce"`` (sentence-transformers' MultipleNegativesRankingLoss) or
            ``"cached-infonce"`` (its GradCache version: the contrastive batch can be far
            larger than what fits in memory at once).
        temperature: Softmax temperature τ of InfoNCE (scale = 1/τ). The default is mE5's
            own 0.01: fine-tuning multilingual-e5-small at sentence-transformers' usual 0.05
            (scale 20) cost 0.087 test nDCG@10 on xquad-r in 100 steps where 0.01 did not
            (``benchmarks/bench_train.py``): a flatter softmax pushes the model to spread its
            narrow band of cosines, which reshapes the whole space.
        symmetric: Also score each positive against every query in the batch.
        mini_batch_size: Texts per forward pass inside the cached loss.
        matryoshka_dims: Also train truncated embeddings of these sizes (e.g. ``(384, 128,
            64)``): each prefix of the vector stays a usable embedding.
        query_prefix: Prepended to queries (``None``: the base model's ``query`` prompt,
            e.g. E5's ``"query: "``).
        passage_prefix: Prepended to positives and negatives (``None``: the model's
            ``passage``/``document`` prompt).
        same_language_batches: Fill each batch with examples of one query language, so no
            in-batch negative is in another language (on parallel corpora those are often
            translations of the positive).
        group_by: Topic-aware batches: a regex whose first group, applied to each row's
            ``positive_id`` (else ``source_id``), names its topic (e.g. ``r"^(.+_a\d+)_"``
            for the article of an XQuAD sentence id); rows of one topic are batched
            together, so in-batch negatives are hard ones at no extra encoding cost.
    """

    loss: Literal["infonce", "cached-infonce"] = "infonce"
    temperature: float = Field(default=0.01, gt=0)
    symmetric: bool = False
    mini_batch_size: int = Field(default=32, ge=1)
    matryoshka_dims: tuple[int, ...] = ()
    query_prefix: str | None = None
    passage_prefix: str | None = None
    same_language_batches: bool = True
    group_by: str | None = None

    @field_validator("matryoshka_dims")
    @classmethod
    def _dims_descending(cls, dims: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 1 for d in dims):
            raise ValueError("matryoshka_dims must be positive")
        return tuple(sorted(set(dims), reverse=True))


class CrossEncoderConfig(TrainConfig):
    """Cross-encoder training from (query, positive, negatives) rows.

    Args:
        loss: ``"listwise"``: softmax cross-entropy over (positive, negatives) of each row
            (sentence-transformers' cross-encoder MultipleNegativesRankingLoss with no
            activation); ``"bce"``: pointwise binary cross-entropy on each pair.
        positive_label: BCE target of a positive. Label-free positives are pseudo-labels
            and some are wrong, so they are trained toward 0.9, not 1 (soft labels).
        teacher_labels: With BCE, targets ``positive_label · σ(score)`` from the training
            set's ``positive_score``/``negative_scores`` (a teacher's logits) instead of the
            constant positive/negative labels.
        in_batch_negatives: Extra negatives per row drawn from other rows of the batch
            (listwise only).
        max_seq_length: Tokens per (query, document) pair.
        dev_first_stage: First stage whose top ``dev_rerank_k`` the dev evaluation reranks
            (``"bm25"``; ``"dense"`` uses multilingual-e5-small).
        dev_rerank_k: Documents per dev query reranked during evaluation.
        learning_rate: Peak learning rate (a fresh head learns faster than 2e-5 allows).
    """

    loss: Literal["listwise", "bce"] = "listwise"
    positive_label: float = Field(default=0.9, gt=0, le=1)
    teacher_labels: bool = False
    in_batch_negatives: int = Field(default=0, ge=0)
    max_seq_length: int | None = Field(default=256, ge=8)
    dev_first_stage: Literal["bm25", "dense"] = "bm25"
    dev_rerank_k: int = Field(default=20, ge=1)
    learning_rate: float = Field(default=3e-5, gt=0)


class DistillConfig(TrainConfig):
    """Distillation of a teacher's (cross-encoder) scores into a bi-encoder.

    Args:
        loss: ``"margin-mse"``: the student's score margins (positive − negative_i) regress
            onto the teacher's; ``"kl"``: KL divergence between the teacher's and the
            student's softmax over (positive, negatives).
        temperature: The student's score is cos/τ, so its range (±1/τ) can match the
            teacher's scale: ~0.05 for cross-encoder logits, 1.0 for probabilities.
        kl_temperature: Softmax temperature of the teacher's scores in the KL loss.
        query_prefix: As in :class:`BiEncoderConfig`.
        passage_prefix: As in :class:`BiEncoderConfig`.
    """

    loss: Literal["margin-mse", "kl"] = "margin-mse"
    temperature: float = Field(default=0.05, gt=0)
    kl_temperature: float = Field(default=1.0, gt=0)
    query_prefix: str | None = None
    passage_prefix: str | None = None


class RefreshConfig(Config):
    """ANCE-style rounds: train, re-encode the corpus, re-mine negatives, train on.

    Args:
        rounds: Training rounds (the negatives of round ``r > 0`` come from the model of
            round ``r − 1``).
        steps_per_round: Optimizer steps per round.
        num_negatives: Negatives re-mined per example.
        top_k: The default re-miner draws the negatives at random from each query's top
            ``top_k`` (the positive excluded).
        skip_top: Ranks ``1..skip_top`` are never drawn (likely false negatives).
        seed: Seed of the re-miner's draws.
    """

    rounds: int = Field(default=2, ge=1)
    steps_per_round: int = Field(default=100, ge=1)
    num_negatives: int = Field(default=3, ge=1)
    top_k: int = Field(default=30, ge=2)
    skip_top: int = Field(default=0, ge=0)
    seed: int = 0


HeadName = Literal["colbert", "sparse"]
"""BGE-M3's trainable heads: ``colbert_linear.pt`` (multi-vector) and ``sparse_linear.pt``."""


class HeadsConfig(Config):
    """BGE-M3's heads trained over a frozen encoder (:func:`polyret.train.heads.train_heads`).

    Args:
        heads: The heads to train: ``colbert`` (the multi-vector projection) and/or
            ``sparse`` (the lexical weights).
        layers: Hidden layers summed into each token state of the colbert head (as the
            reranker reads them; the sparse head reads the last layer, as at inference).
        dim: Output dimension of the colbert head (``None``: the encoder's, starting as
            identity).
        max_steps: Optimizer steps.
        batch_size: Queries per step (their positives and negatives are every query's
            candidates).
        learning_rate: AdamW learning rate.
        temperature: Softmax temperature of every score (MaxSim, sparse, combined).
        num_negatives: Hard negatives per row taken from the training set.
        distill: M3's self-knowledge distillation (0: off, each head learns alone): the
            weighted sum of the frozen dense score and the heads' scores is trained too
            (InfoNCE) and, detached, teaches each head (KL, weighted by this).
        dense_weight: Weight of the dense cosine in the combined score.
        sparse_weight: Weight of the sparse score in the combined score.
        colbert_weight: Weight of the MaxSim score in the combined score.
        max_seq_length: Tokens per text (``None``: the model's limit).
        seed: Seeds the head, the batches and the sampling.
        logging_steps: Log the mean loss every this many steps.
        threads: torch CPU threads (``None``: torch's default).
        show_progress: Progress bars.
    """

    heads: list[HeadName] = Field(default=["colbert"], min_length=1)
    layers: list[int] = Field(default=[-1, -2], min_length=1)
    dim: int | None = Field(default=None, ge=8)
    max_steps: int = Field(default=300, ge=1)
    batch_size: int = Field(default=32, ge=2)
    learning_rate: float = Field(default=1e-4, gt=0)
    temperature: float = Field(default=0.02, gt=0)
    num_negatives: int = Field(default=1, ge=0)
    distill: float = Field(default=0.0, ge=0)
    dense_weight: float = Field(default=1.0, ge=0)
    sparse_weight: float = Field(default=0.3, ge=0)
    colbert_weight: float = Field(default=1.0, ge=0)
    max_seq_length: int | None = Field(default=None, ge=8)
    seed: int = 0
    logging_steps: int = Field(default=50, ge=1)
    threads: int | None = Field(default=None, ge=1)
    show_progress: bool = False

    @field_validator("heads")
    @classmethod
    def _distinct_heads(cls, heads: list[str]) -> list[str]:
        if len(set(heads)) != len(heads):
            raise ValueError(f"heads are named twice: {heads}")
        return heads


class M3Config(HeadsConfig):
    """:class:`HeadsConfig` with BGE-M3's training defaults (``polyret train m3``): both
    heads, taught by M3's self-knowledge distillation.

    Args:
        heads: The heads to train (default: both).
        distill: Weight of the self-distillation term (default 1, as BGE-M3).
        learning_rate: AdamW learning rate (default 1e-3: the fresh sparse head needs
            larger steps; held-out sparse nDCG@10 0.611 against 0.552 at 1e-4,
            ``benchmarks/bench_m3.py``).
    """

    heads: list[HeadName] = Field(default=["colbert", "sparse"], min_length=1)
    distill: float = Field(default=1.0, ge=0)
    learning_rate: float = Field(default=1e-3, gt=0)
