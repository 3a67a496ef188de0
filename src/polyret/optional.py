"""Optional dependencies: import on first use, or say which extra installs them."""

from __future__ import annotations

import importlib
from typing import Any

from polyret.errors import MissingExtraError


def require(module: str, extra: str, purpose: str, *, package: str | None = None) -> Any:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``polyret[extra]``.

    Args:
        module: Import name (``"sentence_transformers"``).
        extra: The polyret extra that installs it (``"dense"``).
        purpose: What needs it, for the message.
        package: Distribution name when it differs from ``module`` (``"unidic-lite"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(package or module, extra, purpose) from error
