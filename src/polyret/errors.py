"""Typed exceptions raised by polyret.

Every error a user can cause by bad input is an :class:`InvalidInputError` that names
the file, the line and the field, so the message alone is enough to fix the input.
"""

from __future__ import annotations

from os import PathLike


class PolyretError(Exception):
    """Base class of every error polyret raises on purpose."""


class InvalidInputError(PolyretError, ValueError):
    """Bad input data: a malformed file, record or argument.

    Args:
        message: What is wrong, in words.
        path: The file the bad record came from, when there is one.
        line: 1-based line number inside ``path``.
        field: The record field (JSON key, TSV column) at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = message
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        where = []
        if self.path is not None:
            where.append(self.path if line is None else f"{self.path}:{line}")
        elif line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class MissingExtraError(PolyretError, ImportError):
    """An optional dependency is not installed.

    Args:
        package: The import name that failed.
        extra: The polyret extra that installs it (``pip install 'polyret[extra]'``).
        purpose: What the package is needed for.
    """

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the package {package!r}, which is not installed: "
            f"pip install 'polyret[{extra}]'"
        )


class OutputExistsError(PolyretError, FileExistsError):
    """The output path exists and the caller did not ask to overwrite it."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = str(path)
        super().__init__(
            f"{self.path} already exists (pass overwrite=True / --overwrite to replace it)"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownNameError(PolyretError, KeyError):
    """A name that no registry entry carries, with the valid names and close matches."""

    def __init__(self, kind: str, name: str, valid: list[str], close: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = valid
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Valid names: {', '.join(valid)}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])
