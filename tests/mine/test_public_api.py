"""``polyret.mine`` exports a sorted ``__all__`` and imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import polyret.mine


def test_all_is_sorted_and_resolves():
    names = list(polyret.mine.__all__)
    constants = [n for n in names if n.isupper()]
    rest = sorted(set(names) - set(constants), key=lambda n: (n[0].islower(), n))
    assert names == constants + rest
    assert all(hasattr(polyret.mine, n) for n in names)


def test_importing_mine_stays_light():
    heavy = "('torch', 'faiss', 'onnxruntime', 'sentence_transformers')"
    code = f"import sys, polyret.mine; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
