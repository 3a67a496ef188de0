"""polyret.train exports a sorted ``__all__`` whose names resolve."""

from __future__ import annotations

import polyret.train


def test_all_is_sorted_and_resolves():
    names = list(polyret.train.__all__)
    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    assert all(hasattr(polyret.train, n) for n in names)
