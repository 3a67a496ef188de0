"""One registry per kind of plugin (analyzers, encoders, rerankers, ...).

Built-ins register by import path (``"polyret.text.analysis:jieba_analyzer"``) so nothing
heavy is imported until a name is used; users add their own with the :meth:`Registry.register`
decorator, and installed packages through the entry-point group ``polyret.<kind>``.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from polyret.errors import UnknownNameError

T = TypeVar("T")
R = TypeVar("R")


def import_target(target: str) -> Any:
    """The object ``"module:attribute"`` (or ``"module:Class.method"``) names, imported now.

    Example:
        >>> import_target("os.path:join")("a", "b")
        'a/b'
    """
    module_name, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module_name)
    return functools.reduce(getattr, attribute.split("."), found)


class Registry(Generic[T]):
    """Named factories of one kind, resolved lazily.

    Args:
        kind: What the names name (``"reranker"``), for errors and the entry-point group.
        builtins: ``{name: "package.module:attribute"}`` registered without importing them.

    Example:
        >>> fusions = Registry[object]("fusion method")
        >>> @fusions.register("max")
        ... def fuse_max(): ...
        >>> fusions.get("max") is fuse_max
        True
        >>> fusions.get("mx")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        polyret.errors.UnknownNameError: unknown fusion method 'mx'. Did you mean 'max'? ...
    """

    def __init__(self, kind: str, builtins: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = dict(builtins or {})
        self._entry_points_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name`` (later registrations win)."""

        def decorate(obj: T) -> T:
            self._entries[name] = obj
            return obj

        return decorate

    def add_lazy(self, name: str, target: str) -> None:
        """Register ``"package.module:attribute"`` (or ``:Class.method``) without importing."""
        self._entries.setdefault(name, target)

    def get(self, name: str) -> T:
        """Return the object registered as ``name``, importing it on first use."""
        self._load_entry_points()
        if name not in self._entries:
            valid = self.names()
            close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
            raise UnknownNameError(self.kind, name, valid, close)
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = import_target(entry)
            self._entries[name] = entry
        return entry  # type: ignore[return-value]

    def create(self: Registry[Callable[..., R]], name: str, /, *args: Any, **options: Any) -> R:
        """Call the factory registered as ``name`` with ``args`` and ``options``."""
        return self.get(name)(*args, **options)

    def names(self) -> list[str]:
        """Sorted registered names."""
        self._load_entry_points()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        group = "polyret." + self.kind.replace(" ", "_") + "s"
        for ep in entry_points(group=group):
            self._entries.setdefault(ep.name, ep.value)
