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
from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from polyret.config import Config
from polyret.errors import InvalidInputError
from polyret.optional import require

log = logging.getLogger(__name__)

BackendName = Literal["local", "ray"]


class Backend(Config):
    """Where to run encode, BM25 analysis, rerank, mining and generation: the pipeline's
    ``backend:`` section, the ``--backend``/``--address``/``--workers`` options of the heavy
    commands, and the argument of :mod:`polyret.distributed`'s functions.

    Example:
        >>> Backend("ray", address="auto").is_ray
        True
    """

    name: BackendName = Field(
        default="local",
        description="local, or ray: the heavy part as Ray Data jobs (docs/scaling.md).",
    )
    address: str | None = Field(
        default=None,
        description="Ray cluster: auto, host:port or ray://host:port; unset: a local Ray "
        "instance (ray only).",
    )
    workers: int = Field(
        default=2,
        ge=1,
        description="Ray actors per stage, each holding one copy of the model (ray only).",
    )
    batch_size: int = Field(
        default=256,
        ge=1,
        description="Documents (queries, examples) per shard; for dense indexes the shard is "
        "the index's encode_batch, so every text is batched exactly as locally.",
    )
    num_cpus: float = Field(default=1.0, gt=0, description="CPUs Ray reserves per actor.")
    max_retries: int = Field(
        default=3, ge=0, description="Times a failed shard is retried before the stage fails."
    )
    endpoint_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="LLM generation: at most this many actors call one endpoint (unset: workers).",
    )

    def __init__(self, name: BackendName | None = None, /, **fields: Any) -> None:
        """``Backend("ray", address="auto")``: the name may come first, unnamed."""
        super().__init__(**fields if name is None else {"name": name, **fields})

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]  # see Config

    @field_validator("name", mode="before")
    @classmethod
    def _known_name(cls, name: Any) -> Any:
        if name not in get_args(BackendName):
            raise ValueError(f"unknown backend {name!r}: use 'local' or 'ray'")
        return name

    def to_dict(self) -> dict[str, Any]:
        """The fields, as plain data (what a pipeline config's ``backend`` holds)."""
        return self.model_dump()

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
    unknown = set(fields) - set(Backend.model_fields)
    if unknown:
        raise InvalidInputError(
            f"unknown backend option(s) {sorted(unknown)}: use {', '.join(Backend.model_fields)}",
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
