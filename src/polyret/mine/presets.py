"""Named strategies: each published recipe as a :class:`MiningConfig` value.

:data:`PRESETS` is the one list of strategy names: :data:`polyret.mine.miners` registers
each of them, and the CLI and the pipeline read their names from it. The generic
strategies name one rule each; the paper presets reproduce a recipe. Every one keeps the
positives-aware dedup on (``dedup=False`` turns it off), and takes :class:`MiningConfig`
fields as overrides::

    load_miner("sfr", num_negatives=3, seed=7)

Score thresholds (``threshold``, ``arctic``) are on the mining retriever's scale: the
default ``max_score=0.86`` suits the cosine of the packaged multilingual-e5-small (on
xquad-r: positives 0.81–0.93, median 0.88; the best-ranked non-positive median 0.86, often
the positive's translation; the 100th 0.77); set ``max_score`` for any other retriever.

References:
    - ``top-k``: Karpukhin et al., "Dense Passage Retrieval", arXiv 2004.04906; Xiong et
      al., "ANCE", arXiv 2007.00808 (the best-ranked non-positives).
    - ``random-top-k``: Qu et al., "RocketQA", arXiv 2010.08191 (sampled from the top 100).
    - ``rank-window``, ``sfr``: Meng et al., "SFR-Embedding-Mistral" (Salesforce AI Research
      blog, 2024): 7 sampled from ranks 30–100, skipping the unlabeled positives on top.
    - ``perc-pos``, ``margin-pos``, ``nv-retriever``, ``dedup``: Moreira et al.,
      "NV-Retriever: Improving text embedding models with effective hard-negative mining",
      arXiv 2407.15831 (TopK-PercPos at 95%, 4 negatives; TopK-MarginPos; false negatives
      among the top candidates).
    - ``threshold``, ``arctic``: Merrick et al., "Arctic-Embed", arXiv 2405.05374 (the top
      100 under a maximum relevance score).
    - ``guide``, ``gist``: Solatorio, "GISTEmbed", arXiv 2402.16829 (drop candidates a guide
      model scores above the positive; the packaged bi-encoder by default, or
      ``guide="cross-encoder"`` with ``guide_options={"model": ...}``, or a loaded reranker
      or encoder).
    - ``netease``: NetEase Youdao, "BCEmbedding" (github.com/netease-youdao/BCEmbedding,
      2023): random negatives from the hybrid top 200 (pair it with
      ``mine_negatives(..., retriever="hybrid")``).
    - ``piccolo``: Huang et al., "Piccolo2", arXiv 2405.06932 (15 sampled from ranks 50–100).
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
