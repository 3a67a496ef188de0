"""A worker killed while writing a shard: the shard is retried, nothing half-written stays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from polyret.distributed import EncoderSpec
from tests.distributed.faults import DiesWhileWriting

pytestmark = pytest.mark.ray


def test_killed_worker_shard_is_retried_whole(xquad_r, ray_backend, tmp_path):
    from polyret.distributed.encode import encode_documents

    texts = xquad_r.corpus.full_texts()[:400]
    spec = EncoderSpec("hashing", {"dim": 64})
    flag = tmp_path / "died"
    shards = tmp_path / "shards"
    got = encode_documents(
        DiesWhileWriting(spec, str(flag)), texts, ray_backend, shard_size=100, work_dir=shards
    )
    assert flag.is_file(), "no worker was killed: the test proved nothing"
    half_written = Path(flag.read_text())
    assert half_written.parent == shards and half_written.name.startswith(".shard-")
    assert not half_written.exists()  # the killed write's temporary file is gone
    assert sorted(p.name for p in shards.iterdir()) == [f"shard-00000{n}.npy" for n in range(4)]
    for n in range(4):
        assert np.load(shards / f"shard-00000{n}.npy").shape == (100, 64)
    encoder = spec()
    expected = np.concatenate(
        [encoder.encode_documents(texts[s : s + 100]) for s in range(0, 400, 100)]
    )
    assert np.array_equal(got, expected)
