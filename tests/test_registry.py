"""polyret.registry: built-ins by import path, resolved on first use; ``create`` calls them."""

from __future__ import annotations

import sys

import pytest

from polyret.errors import UnknownNameError
from polyret.registry import Registry


def test_builtins_are_imported_only_when_used() -> None:
    sys.modules.pop("colorsys", None)  # a small stdlib module nothing else imports
    converters = Registry[object]("converter", {"hsv": "colorsys:rgb_to_hsv"})
    assert converters.names() == ["hsv"] and "colorsys" not in sys.modules
    assert converters.create("hsv", 1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules


def test_registered_objects_win_and_unknown_names_list_the_valid_ones() -> None:
    makers = Registry[type]("maker", {"list": "builtins:list"})

    @makers.register("list")
    def as_tuple(*items: int) -> tuple[int, ...]:
        return items

    assert makers.create("list", 1, 2) == (1, 2)
    with pytest.raises(UnknownNameError, match=r"'lst'.*'list'"):
        makers.get("lst")


def test_the_shipped_registries_resolve_every_builtin() -> None:
    from polyret.curate.registry import filters, generators
    from polyret.llm.registry import llm_backends
    from polyret.rerank.registry import rerankers
    from polyret.text.registry import analyzers

    for registry in (filters, generators, llm_backends, rerankers, analyzers):
        for name in registry.names():
            assert callable(registry.get(name)), (registry.kind, name)
