"""A worker that dies half-way through writing its first shard (imported by Ray workers)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from polyret.distributed import EncoderSpec


@dataclass(frozen=True)
class DiesWhileWriting:
    """Encoder factory whose first ``np.save`` in the cluster writes half a shard and kills
    the worker process (``os._exit``: no cleanup runs). ``flag`` records the file it left."""

    spec: EncoderSpec
    flag: str

    def __call__(self) -> Any:
        original = np.save
        flag = Path(self.flag)

        def save(handle: Any, values: np.ndarray, *args: Any, **kwargs: Any) -> None:
            try:
                fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # first writer only
            except FileExistsError:
                return original(handle, values, *args, **kwargs)
            os.write(fd, os.readlink(f"/proc/self/fd/{handle.fileno()}").encode())
            os.close(fd)
            original(handle, values[: len(values) // 2], *args, **kwargs)
            handle.flush()
            os._exit(1)

        np.save = save
        return self.spec()
