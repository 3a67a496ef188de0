"""Mining strategies by name, and :func:`load_miner`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polyret.mine.miner import Miner
from polyret.registry import Registry

miners: Registry[Callable[..., Miner]] = Registry("miner")
"""Miner factories by name; each takes :class:`~polyret.mine.MiningConfig` fields as options.

Third parties add a strategy with ``@miners.register("name")`` or the entry-point group
``polyret.miners``; anything with ``name`` and ``mine(training_set, run, corpus)`` works.
"""

for _name, _factory in [
    ("top-k", "top_k"),
    ("random-top-k", "random_top_k"),
    ("rank-window", "rank_window"),
    ("perc-pos", "perc_pos"),
    ("margin-pos", "margin_pos"),
    ("threshold", "threshold"),
    ("guide", "guide"),
    ("dedup", "dedup"),
    ("netease", "netease"),
    ("sfr", "sfr"),
    ("piccolo", "piccolo"),
    ("nv-retriever", "nv_retriever"),
    ("arctic", "arctic"),
    ("gist", "gist"),
]:
    miners.add_lazy(_name, f"polyret.mine.presets:{_factory}")

DEFAULT_STRATEGY = "nv-retriever"
"""The strategy :func:`~polyret.mine.mine_negatives` uses unless told otherwise."""


def load_miner(name: str, **options: Any) -> Miner:
    """A mining strategy by registered name.

    Example:
        >>> load_miner("sfr", num_negatives=3).config.max_rank
        100
    """
    return miners.get(name)(**options)
