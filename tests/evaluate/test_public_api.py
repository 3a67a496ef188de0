"""polyret.evaluate exports exactly its public names, sorted."""

from __future__ import annotations

import polyret.evaluate as evaluate_pkg


def test_all_is_sorted_and_resolves():
    names = evaluate_pkg.__all__
    constants = [n for n in names if n.isupper()]
    rest = sorted(set(names) - set(constants), key=lambda n: (n[0].islower(), n))
    assert names == constants + rest
    assert all(hasattr(evaluate_pkg, name) for name in names)
