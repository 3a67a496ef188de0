"""Shard files: complete or absent, read back in order (no cluster needed)."""

from __future__ import annotations

import numpy as np
import pytest

from polyret.distributed.shards import read_shards, remove_leftovers, shard_path, write_shard
from polyret.errors import InvalidInputError


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("disk full")  # fails after np.save has written the header


def test_a_failed_write_leaves_no_shard(tmp_path):
    values = np.array([1.5, Unpicklable()], dtype=object)
    with pytest.raises(RuntimeError, match="disk full"):
        write_shard(tmp_path, 0, values)
    assert list(tmp_path.iterdir()) == []


def test_shards_are_read_in_order_and_leftovers_removed(tmp_path):
    for number in (1, 0):
        write_shard(tmp_path, number, np.full((2, 3), number, np.float32))
    (tmp_path / ".shard-000002.npy.abc123.tmp").write_bytes(b"\x93NUMPY half")
    assert remove_leftovers(tmp_path) == 1
    shards = read_shards(tmp_path, 2)
    assert [int(s[0, 0]) for s in shards] == [0, 1]
    with pytest.raises(InvalidInputError, match="shard 2 of 3 was never written"):
        read_shards(tmp_path, 3)
    assert shard_path(tmp_path, 7).name == "shard-000007.npy"
