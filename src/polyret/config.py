"""The base of every stage config: a frozen pydantic model whose errors are polyret's.

A stage's config is declared once, as a subclass of :class:`Config`; the pipeline uses it as
a stage's ``params`` (nested validation keeps pydantic's located errors, which the pipeline
turns into ``stages[3].params.k`` messages), the CLI derives its options from it, and a
direct construction in Python raises :class:`~polyret.errors.InvalidInputError` naming the
field.
"""

from __future__ import annotations

from typing import Any

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from polyret.errors import InvalidInputError

_BOUNDS = {
    annotated_types.Ge: ("{} <= ", "ge"),
    annotated_types.Gt: ("{} < ", "gt"),
    annotated_types.Le: (" <= {}", "le"),
    annotated_types.Lt: (" < {}", "lt"),
}


class Config(BaseModel):
    """A frozen config that rejects unknown keys; bad values raise ``InvalidInputError``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise config_error(type(self), error) from None

    # pydantic calls an overridden __init__ for nested validation too (a pipeline's stage
    # params), which would turn its located errors into one; marked as a base __init__
    # (as pydantic's RootModel does), it is used for direct construction only
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


def config_error(config: type[BaseModel], error: ValidationError) -> InvalidInputError:
    """The first problem of ``error`` as an :class:`InvalidInputError` naming its field; a
    value out of range names the whole range (``need 0 <= b <= 1, got 2.0``)."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    info = config.model_fields.get(str(first["loc"][0])) if first["loc"] else None
    message = first["msg"]
    if first["type"] == "value_error":  # a validator's own message, without pydantic's prefix
        message = str(first["ctx"]["error"])
    if info is not None and first["type"] in (
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
        "less_than",
    ):
        message = f"need {_range(str(first['loc'][0]), info)}, got {first['input']!r}"
    return InvalidInputError(message, field=field)


def _range(name: str, info: FieldInfo) -> str:
    """``0 <= b <= 1`` from a field's bounds."""
    low = high = ""
    for bound in info.metadata:
        for kind, (template, attribute) in _BOUNDS.items():
            if isinstance(bound, kind):
                text = template.format(getattr(bound, attribute))
                low, high = (text, high) if attribute in ("ge", "gt") else (low, text)
    return f"{low}{name}{high}"
