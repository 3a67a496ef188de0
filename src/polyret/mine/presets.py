"""Named strategies: each published recipe as a :class:`MiningConfig`, and its factory.

The generic strategies name one rule each (``top-k``, ``random-top-k``, ``rank-window``,
``perc-pos``, ``margin-pos``, ``threshold``, ``guide``, ``dedup``); the paper presets
(``netease``, ``sfr``, ``piccolo``, ``nv-retriever``, ``arctic``, ``gist``) reproduce a
recipe. Every one keeps the positives-aware dedup on (``dedup=False`` turns it off), and
every factory takes :class:`MiningConfig` fields as overrides::

    load_miner("sfr", num_negatives=3, seed=7)

Score thresholds (``threshold``, ``arctic``) are on the mining retriever's scale: the
default ``max_score=0.86`` suits the cosine of the packaged multilingual-e5-small (on
xquad-r: positives 0.81–0.93, median 0.88; the best-ranked non-positive median 0.86, often
the positive's translation; the 100th 0.77); set ``max_score`` for any other retriever.
"""

from __future__ import annotations

from typing import Any

from polyret.mine.config import MiningConfig
from polyret.mine.miner import HardNegativeMiner

PRESETS: dict[str, MiningConfig] = {
    # generic rules
    "top-k": MiningConfig(),
    "random-top-k": MiningConfig(max_rank=100, sampling="random"),
    "rank-window": MiningConfig(min_rank=30, max_rank=100, sampling="random"),
    "perc-pos": MiningConfig(perc_pos=0.95),
    "margin-pos": MiningConfig(margin_pos=0.05),
    "threshold": MiningConfig(max_score=0.86, max_rank=100),
    "guide": MiningConfig(guide="bi-encoder", max_rank=100),
    "dedup": MiningConfig(dedup=True, near_duplicate=0.8),
    # paper recipes
    "netease": MiningConfig(max_rank=200, sampling="random"),
    "sfr": MiningConfig(num_negatives=7, min_rank=30, max_rank=100, sampling="random"),
    "piccolo": MiningConfig(num_negatives=15, min_rank=50, max_rank=100, sampling="random"),
    "nv-retriever": MiningConfig(num_negatives=4, perc_pos=0.95),
    "arctic": MiningConfig(max_score=0.86, max_rank=100),
    "gist": MiningConfig(guide="bi-encoder", max_rank=100),
}
"""The config of every built-in strategy."""


def preset(name: str, **overrides: Any) -> HardNegativeMiner:
    """The built-in strategy ``name`` (a key of :data:`PRESETS`) with overrides.

    ``guide=`` may be a loaded :class:`~polyret.rerank.Reranker` or
    :class:`~polyret.encode.Encoder` instead of a registered reranker name.

    Example:
        >>> preset("piccolo", seed=3).config.num_negatives
        15
    """
    return HardNegativeMiner(PRESETS[name], name=name, **overrides)


def top_k(**overrides: Any) -> HardNegativeMiner:
    """The best-ranked non-positive documents (the classic "BM25/dense top-k negatives").

    References:
        Karpukhin et al., "Dense Passage Retrieval for Open-Domain Question Answering",
        arXiv 2004.04906; Xiong et al., "Approximate Nearest Neighbor Negative
        Contrastive Learning for Dense Text Retrieval" (ANCE), arXiv 2007.00808.
    """
    return preset("top-k", **overrides)


def random_top_k(**overrides: Any) -> HardNegativeMiner:
    """A seeded uniform sample from the top ``max_rank`` (default 100).

    References:
        Qu et al., "RocketQA", arXiv 2010.08191 (negatives sampled from the top-k).
    """
    return preset("random-top-k", **overrides)


def rank_window(**overrides: Any) -> HardNegativeMiner:
    """A seeded sample from a rank window (default 30–100): skips the top ranks, where
    unlabeled positives sit.

    References:
        Meng et al., "SFR-Embedding-Mistral" (Salesforce AI Research blog, 2024).
    """
    return preset("rank-window", **overrides)


def perc_pos(**overrides: Any) -> HardNegativeMiner:
    """TopK-PercPos: top-k among candidates scoring at most 95% of the positive.

    References:
        Moreira et al., "NV-Retriever: Improving text embedding models with effective
        hard-negative mining", arXiv 2407.15831.
    """
    return preset("perc-pos", **overrides)


def margin_pos(**overrides: Any) -> HardNegativeMiner:
    """TopK-MarginPos: top-k among candidates scoring at most the positive − 0.05.

    References:
        Moreira et al., "NV-Retriever", arXiv 2407.15831.
    """
    return preset("margin-pos", **overrides)


def threshold(**overrides: Any) -> HardNegativeMiner:
    """Top-k below an absolute score (likely false negatives above it) in the top 100.

    References:
        Merrick et al., "Arctic-Embed: Scalable, Efficient, and Accurate Text Embedding
        Models", arXiv 2405.05374.
    """
    return preset("threshold", **overrides)


def guide(**overrides: Any) -> HardNegativeMiner:
    """Top-k of the top 100 that a guide model scores no higher than the positive.

    The guide is the packaged bi-encoder by default; pass ``guide="cross-encoder"`` with
    ``guide_options={"model": ...}``, or a loaded reranker or encoder.

    References:
        Solatorio, "GISTEmbed: Guided In-sample Selection of Training Negatives for Text
        Embedding Fine-tuning", arXiv 2402.16829.
    """
    return preset("guide", **overrides)


def dedup(**overrides: Any) -> HardNegativeMiner:
    """Top-k with positives-aware dedup spelled out: never a positive, never its text or a
    near duplicate of it (character 3-gram Jaccard ≥ 0.8), never one text twice.

    References:
        Moreira et al., "NV-Retriever", arXiv 2407.15831 (false negatives among the top
        candidates).
    """
    return preset("dedup", **overrides)


def netease(**overrides: Any) -> HardNegativeMiner:
    """NetEase Youdao's BCEmbedding recipe: random negatives from the hybrid top 200.

    Pair with a hybrid run (``mine_negatives(..., retriever="hybrid")``).

    References:
        NetEase Youdao, "BCEmbedding: Bilingual and Crosslingual Embedding for RAG"
        (github.com/netease-youdao/BCEmbedding, 2023).
    """
    return preset("netease", **overrides)


def sfr(**overrides: Any) -> HardNegativeMiner:
    """SFR-Embedding: 7 negatives sampled from ranks 30–100.

    References:
        Meng et al., "SFR-Embedding-Mistral: Enhance Text Retrieval with Transfer
        Learning" (Salesforce AI Research blog, 2024).
    """
    return preset("sfr", **overrides)


def piccolo(**overrides: Any) -> HardNegativeMiner:
    """Piccolo2: 15 negatives sampled from ranks 50–100.

    References:
        Huang et al., "Piccolo2: General Text Embedding with Multi-task Hybrid Loss
        Training", arXiv 2405.06932.
    """
    return preset("piccolo", **overrides)


def nv_retriever(**overrides: Any) -> HardNegativeMiner:
    """NV-Retriever's best method, TopK-PercPos at 95%, 4 negatives.

    References:
        Moreira et al., "NV-Retriever: Improving text embedding models with effective
        hard-negative mining", arXiv 2407.15831.
    """
    return preset("nv-retriever", **overrides)


def arctic(**overrides: Any) -> HardNegativeMiner:
    """Arctic-Embed: hard negatives from the top 100 under a maximum relevance score.

    References:
        Merrick et al., "Arctic-Embed", arXiv 2405.05374.
    """
    return preset("arctic", **overrides)


def gist(**overrides: Any) -> HardNegativeMiner:
    """GISTEmbed: drop candidates a guide model scores above the positive.

    References:
        Solatorio, "GISTEmbed", arXiv 2402.16829.
    """
    return preset("gist", **overrides)
