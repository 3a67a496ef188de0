"""Mining strategies by name, and :func:`load_miner`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from polyret.mine.config import DEFAULT_STRATEGY
from polyret.mine.miner import Miner
from polyret.mine.presets import PRESETS, preset
from polyret.registry import Registry

__all__ = ["DEFAULT_STRATEGY", "load_miner", "miners"]

miners: Registry[Callable[..., Miner]] = Registry("miner")
"""Miner factories by name; each takes :class:`~polyret.mine.MiningConfig` fields as options.

Every :data:`~polyret.mine.PRESETS` entry is registered. Third parties add a strategy with
``@miners.register("name")`` or the entry-point group ``polyret.miners``; anything with
``name`` and ``mine(training_set, run, corpus)`` works.
"""

for _name in PRESETS:
    miners.register(_name)(functools.partial(preset, _name))


def load_miner(name: str, **options: Any) -> Miner:
    """A mining strategy by registered name.

    Example:
        >>> load_miner("sfr", num_negatives=3).config.max_rank
        100
    """
    return miners.get(name)(**options)
