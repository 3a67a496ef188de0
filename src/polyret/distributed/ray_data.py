"""One Ray Data job shape shared by every stage: shards in, one actor call per shard.

Each row of the dataset describes one shard (its number and its payload) and is its own
block, so shards spread over the actor pool. Actors are callable classes: the model is
loaded once in ``__init__`` and reused for every shard the actor receives. A worker that
dies is restarted and its shard retried (``max_restarts`` / ``max_task_retries``); results
come back with their shard number and are put back in shard order.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

from polyret.distributed.backend import Backend, actor_pool, ray_session

log = logging.getLogger(__name__)


def run_shards(
    backend: Backend,
    rows: Sequence[dict[str, Any]],
    actor: type,
    constructor: dict[str, Any],
    *,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Apply ``actor`` to every shard row on Ray; the output rows, in shard order.

    Args:
        backend: The ray backend (address, workers, retries).
        rows: One dict per shard with at least ``"shard"`` (its number).
        actor: A callable class taking ``constructor`` keywords and a numpy batch.
        constructor: Constructor keywords (large values: pass ``ray.put`` references).
        workers: Actor pool size (default: ``backend.workers``, capped at the shards).

    Returns:
        The rows the actors returned, sorted by ``"shard"``.
    """
    if not rows:
        return []
    with ray_session(backend) as ray:
        refs = {k: ray.put(v) if _large(v) else v for k, v in constructor.items()}
        size = min(len(rows), workers or backend.workers)
        dataset = ray.data.from_items(list(rows), override_num_blocks=len(rows))
        with warnings.catch_warnings():  # max_restarts/max_task_retries: ray_remote_args
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
            mapped = dataset.map_batches(
                actor, fn_constructor_kwargs=refs, **actor_pool(backend, size)
            )
        log.info("%s: %d shards on %d actors", actor.__name__, len(rows), size)
        out = mapped.take_all()
    return sorted(out, key=lambda row: int(row["shard"]))


def _large(value: Any) -> bool:
    """Whether a constructor argument is big enough to go through the object store once."""
    return not isinstance(value, str | int | float | bool | type(None))


def resolve(value: Any) -> Any:
    """``value``, fetched from the object store when it is a reference (inside an actor)."""
    import ray

    return ray.get(value) if isinstance(value, ray.ObjectRef) else value
