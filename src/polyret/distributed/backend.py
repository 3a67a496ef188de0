"""Where the heavy stages run: ``local`` (this process, the default) or ``ray``.

A :class:`Backend` is plain configuration. ``local`` is the existing in-process code path,
unchanged; ``ray`` runs the same polyret code inside Ray Data actors (one model load per
actor) on a Ray cluster: ``address="auto"`` joins the cluster this machine belongs to,
``"ray://host:10001"`` or ``"host:6379"`` a remote one, ``None`` starts a private local
Ray instance. The backend never changes results, so it is not part of a pipeline stage's
key: a run directory computed locally is reused by a Ray run and vice versa.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from polyret.errors import InvalidInputError
from polyret.optional import require

log = logging.getLogger(__name__)

BackendName = Literal["local", "ray"]


@dataclass(frozen=True)
class Backend:
    """Where to run encode, BM25 analysis, rerank, mining and generation.

    Args:
        name: ``"local"`` or ``"ray"``.
        address: Ray cluster address (``"auto"``, ``"host:port"``, ``"ray://host:port"``);
            ``None`` starts a local Ray instance (ignored by ``local``).
        workers: Actors per stage (each holds one copy of the model): the number of
            shards processed at once.
        batch_size: Documents (or queries, examples) per shard; one shard is one Ray Data
            row batch and, for encoding, one file. For dense indexes the shard size is the
            index's ``encode_batch`` so that every text is batched exactly as locally.
        num_cpus: CPUs Ray reserves per actor.
        max_retries: Times a failed shard is retried (its actor is restarted) before the
            stage fails.
        endpoint_concurrency: LLM generation only: at most this many actors call one LLM
            endpoint at once (``None``: ``workers``).
    """

    name: BackendName = "local"
    address: str | None = None
    workers: int = 2
    batch_size: int = 256
    num_cpus: float = 1.0
    max_retries: int = 3
    endpoint_concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.name not in ("local", "ray"):
            raise InvalidInputError(
                f"unknown backend {self.name!r}: use 'local' or 'ray'", field="backend"
            )
        if self.workers < 1 or self.batch_size < 1:
            raise InvalidInputError("workers and batch_size must be >= 1", field="workers")
        if self.num_cpus <= 0 or self.max_retries < 0:
            raise InvalidInputError("need num_cpus > 0 and max_retries >= 0", field="num_cpus")
        if self.endpoint_concurrency is not None and self.endpoint_concurrency < 1:
            raise InvalidInputError(
                "endpoint_concurrency must be >= 1", field="endpoint_concurrency"
            )

    def to_dict(self) -> dict[str, Any]:
        """The fields, as plain data (what a pipeline config's ``backend`` holds)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @property
    def is_ray(self) -> bool:
        """Whether stages run on Ray."""
        return self.name == "ray"


LOCAL = Backend()
"""The default backend: everything in this process."""


def backend_from(value: Backend | str | dict[str, Any] | None, **overrides: Any) -> Backend:
    """A :class:`Backend` from a name, a mapping of its fields or ``None`` (local).

    ``overrides`` that are ``None`` are ignored, so CLI options can be passed through.

    Example:
        >>> backend_from("ray", address="auto").address
        'auto'
        >>> backend_from({"name": "ray", "workers": 1}, address=None).workers
        1
    """
    fields: dict[str, Any]
    if isinstance(value, Backend):
        fields = value.to_dict()
    elif isinstance(value, str):
        fields = {"name": value}
    elif value is None:
        fields = {}
    else:
        fields = dict(value)
    fields.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(fields) - set(Backend.__dataclass_fields__)
    if unknown:
        raise InvalidInputError(
            f"unknown backend option(s) {sorted(unknown)}: use "
            f"{', '.join(Backend.__dataclass_fields__)}",
            field="backend",
        )
    return Backend(**fields)


def ray_module() -> Any:
    """``ray`` (with Ray Data), or :class:`~polyret.errors.MissingExtraError` naming ``ray``."""
    ray = require("ray", "ray", "the ray backend")
    require("ray.data", "ray", "the ray backend", package="ray[data]")
    return ray


@contextlib.contextmanager
def ray_session(backend: Backend) -> Iterator[Any]:
    """Yield ``ray`` connected to ``backend.address``.

    Joins an existing connection when there is one (a caller or a test already called
    ``ray.init``); a connection opened here is closed on exit.
    """
    ray = ray_module()
    if ray.is_initialized():
        yield ray
        return
    log.info("connecting to Ray at %s", backend.address or "a new local instance")
    ray.init(address=backend.address, logging_level=logging.WARNING, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def actor_pool(backend: Backend, workers: int | None = None) -> dict[str, Any]:
    """``map_batches`` keyword arguments for a pool of stateful actors with retries."""
    from ray.data import ActorPoolStrategy

    size = max(1, workers or backend.workers)
    return {
        "compute": ActorPoolStrategy(size=size),
        "num_cpus": backend.num_cpus,
        "batch_size": 1,
        "max_restarts": backend.max_retries,
        "max_task_retries": backend.max_retries,
    }
