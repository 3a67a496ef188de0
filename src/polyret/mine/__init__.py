"""Hard-negative mining over any retriever's run: every published strategy, one API.

A strategy is a :class:`MiningConfig` (rank window, sampling, absolute and
positive-relative score thresholds, guide-model filter, positives-aware dedup) run by a
:class:`HardNegativeMiner`; the published recipes are registered by name in :data:`miners`
(``"nv-retriever"``, ``"sfr"``, ``"piccolo"``, ``"netease"``, ``"arctic"``, ``"gist"``, and
the generic ``"top-k"``, ``"random-top-k"``, ``"rank-window"``, ``"perc-pos"``,
``"margin-pos"``, ``"threshold"``, ``"guide"``, ``"dedup"``).

Example:
    >>> from polyret.mine import mine
    >>> from polyret.types import Corpus, TrainingSet
    >>> corpus = Corpus.from_dict({"p": "Rhein", "a": "Rhine", "b": "Main"})
    >>> examples = TrainingSet.from_records(
    ...     [{"id": "e1", "query": "river", "positive_id": "p", "positive": "Rhein"}])
    >>> mined = mine(examples, {"e1": {"a": 3.0, "p": 2.0, "b": 1.0}}, corpus,
    ...              "perc-pos", num_negatives=1)
    >>> mined.to_sentence_transformers().column_names
    ['anchor', 'positive', 'negative_1']
"""

from polyret.mine.config import DEFAULT_RETRIEVER, DEFAULT_STRATEGY, MiningConfig
from polyret.mine.miner import HardNegativeMiner, Miner, mine, resolve_miner
from polyret.mine.negatives import (
    DEFAULT_DEPTH,
    Searcher,
    dense_run,
    mine_negatives,
    missing_positives,
    retrieve,
    with_positives,
)
from polyret.mine.pairs import pairs_from_qrels
from polyret.mine.pool import CandidatePool, build_pool, positive_bound
from polyret.mine.presets import PRESETS, preset
from polyret.mine.registry import load_miner, miners
from polyret.mine.texts import NgramSets, normalize_for_dedup, text_codes

__all__ = [
    "DEFAULT_DEPTH",
    "DEFAULT_RETRIEVER",
    "DEFAULT_STRATEGY",
    "PRESETS",
    "CandidatePool",
    "HardNegativeMiner",
    "Miner",
    "MiningConfig",
    "NgramSets",
    "Searcher",
    "build_pool",
    "dense_run",
    "load_miner",
    "mine",
    "mine_negatives",
    "miners",
    "missing_positives",
    "normalize_for_dedup",
    "pairs_from_qrels",
    "positive_bound",
    "preset",
    "resolve_miner",
    "retrieve",
    "text_codes",
    "with_positives",
]
