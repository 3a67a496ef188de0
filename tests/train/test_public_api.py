"""polyret.train exports a sorted ``__all__`` whose names resolve."""

from __future__ import annotations

import polyret.train


def test_all_is_sorted_and_resolves():
    names = list(polyret.train.__all__)
    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    assert all(hasattr(polyret.train, n) for n in names)
    assert set(names) == set(polyret.train._EXPORTS)


def test_configs_load_without_torch():
    """Validating a pipeline config reads polyret.train.config: that must not import torch."""
    import subprocess
    import sys

    code = "import sys, polyret.train.config, polyret.train; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
