"""Command-line options derived from a stage's config model: one declaration, one default.

``@config_options(BM25Config)`` replaces a command's ``config: BM25Config`` parameter by one
typer option per scalar field of the model (``k1`` → ``--k1``, ``rrf_k`` → ``--rrf-k``, a
``bool`` → ``--flag/--no-flag``, a list or tuple of scalars → one comma-separated value),
with the model's default and description (else the field's entry in the class docstring's
``Args:``), and hands the command a validated instance built from the options given on the
command line (so ``model_fields_set`` says which were). So the CLI, the pipeline's
``params`` and the Python API share one class and one set of defaults
(``tests/test_config_unity.py`` checks every stage).

Written here rather than taken from a library: typer derives options from a signature only,
and the pydantic ↔ typer bridges on PyPI do not keep typer's help panels, short flags and
our error type.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from polyret.config import config_error
from polyret.errors import InvalidInputError

F = TypeVar("F", bound=Callable[..., Any])

_SCALARS = (str, int, float, bool)

_CONTEXT = "_polyret_context"
"""A parameter the decorator adds: typer passes the click context (which options were given)."""

CONFIG_ATTRIBUTE = "__polyret_configs__"
"""Each decorated command lists ``{parameter: (config class, option prefix)}`` here."""


def _scalar_type(annotation: Any) -> type | None:
    """The CLI type of a field: str/int/float/bool, a Literal of strings (→ str), a list or
    tuple of scalars (→ str, comma-separated), or None."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        values = typing.get_args(annotation)
        return str if all(isinstance(v, str) for v in values) else None
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _scalar_type(members[0]) if len(members) == 1 else None
    if _is_sequence(annotation):
        return str
    return annotation if annotation in _SCALARS else None


def _is_sequence(annotation: Any) -> bool:
    """A ``list[scalar]`` or ``tuple[scalar, ...]`` (also inside ``X | None``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(a) for a in typing.get_args(annotation))
    items = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    return origin in (list, tuple) and len(items) == 1 and _scalar_type(items[0]) in _SCALARS


def _choices(annotation: Any) -> tuple[str, ...]:
    """The allowed values of a Literal field (also inside ``X | None``), else ()."""
    if typing.get_origin(annotation) is Literal:
        return tuple(str(v) for v in typing.get_args(annotation))
    for member in typing.get_args(annotation):
        if typing.get_origin(member) is Literal:
            return _choices(member)
    return ()


def cli_fields(
    config: type[BaseModel], exclude: Iterable[str] = ()
) -> dict[str, tuple[type, FieldInfo]]:
    """``{field: (CLI type, field info)}`` for the fields a command line can set."""
    skipped = set(exclude)
    fields = {}
    for name, info in config.model_fields.items():
        kind = _scalar_type(info.annotation)
        if kind is not None and name not in skipped:
            fields[name] = (kind, info)
    return fields


def option_name(prefix: str, field: str) -> str:
    """``--<prefix><field>`` with underscores as hyphens."""
    return "--" + (prefix + field).replace("_", "-")


def parameter_name(prefix: str, field: str) -> str:
    """The command's Python parameter for a field (``dense-`` + ``index`` → ``dense_index``)."""
    return (prefix + field).replace("-", "_")


def _docstring_args(config: type[BaseModel]) -> dict[str, str]:
    """``{field: first sentence}`` from the ``Args:`` sections of the class and its bases."""
    described: dict[str, str] = {}
    for cls in reversed(config.__mro__):
        lines = (cls.__doc__ or "").splitlines()
        inside, name = False, ""
        for line in lines:
            stripped = line.strip()
            if stripped in ("Args:", "Attributes:"):
                inside = True
                continue
            if inside and stripped.endswith(":") and " " not in stripped:
                inside = False  # the next section
            match = re.match(r"^(\w+): (.*)$", stripped) if inside else None
            if match and line.startswith(" " * 8) and not line.startswith(" " * 9):
                name = match.group(1)
                described[name] = match.group(2)
            elif inside and name and stripped and line.startswith(" " * 12):
                described[name] += " " + stripped
            elif not stripped:
                name = ""
    return {name: text.split(". ")[0].rstrip(".") + "." for name, text in described.items()}


def _help(info: FieldInfo, fallback: str = "") -> str:
    text = info.description or fallback
    choices = _choices(info.annotation)
    return f"{text} ({', '.join(choices)})" if choices else text


def _parameter(
    key: str,
    flag: str,
    kind: type,
    info: FieldInfo,
    panel: str | None,
    show_default: bool,
    fallback: str,
) -> inspect.Parameter:
    """The typer option of one config field (required fields get no default here: the
    model's validation names them)."""
    default = None if info.is_required() else info.default
    annotation = kind if default is not None else kind | None  # type: ignore[operator]
    if not flag:  # a positional argument
        argument = typer.Argument(default, help=_help(info, fallback), show_default=False)
        return inspect.Parameter(
            key, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=argument
        )
    if kind is bool and "/" not in flag:
        flag = f"{flag}/--no-{flag[2:]}"
    shown: bool | str = show_default
    if show_default and _is_sequence(info.annotation):
        shown = ",".join(map(str, default)) if default else "none"
    return inspect.Parameter(
        key,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=annotation,
        default=typer.Option(
            default,
            *flag.split(),
            help=_help(info, fallback),
            rich_help_panel=panel,
            show_default=shown,
        ),
    )


def config_options(
    config: type[BaseModel],
    *,
    param: str = "config",
    prefix: str = "",
    exclude: Iterable[str] = (),
    panel: str | None = None,
    names: Mapping[str, str] | None = None,
    file: str | None = None,
    show_default: bool = True,
    include: Iterable[str] | None = None,
    arguments: Iterable[str] = (),
) -> Callable[[F], F]:
    """Expose ``config``'s scalar fields as options of the decorated typer command.

    Only the options given on the command line are passed to the model (so its
    ``model_fields_set`` names them); the others keep the model's default.

    Args:
        config: The stage's frozen pydantic config.
        param: The command's parameter that receives the built config.
        prefix: Prepended to every option name (``dense-`` → ``--dense-index``).
        exclude: Fields the command does not expose (they keep the model's default).
        panel: A ``--help`` panel that groups these options.
        names: Flags spelled otherwise than the field (``{"learning_rate": "--lr"}``;
            several separated by spaces: ``"--method -m"``; a ``bool`` may name both
            sides: ``"--symmetric/--one-way"``).
        file: A command parameter holding a JSON file of field values, beneath the options
            given on the command line.
        show_default: Show the model's defaults in ``--help`` (off where an unset option
            means "keep another source's value").
        include: Expose only these fields.
        arguments: Fields that are positional arguments, not options (``SOURCE``).
    """
    fields = cli_fields(config, exclude)
    if include is not None:
        fields = {name: fields[name] for name in include}
    spelled = dict(names or {}) | {name: "" for name in arguments}
    documented = _docstring_args(config)

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)  # Annotated[..., typer.Option]
        stacked = _CONTEXT in signature.parameters
        kept = [p for p in signature.parameters.values() if p.name != param]
        keyword = {parameter_name(prefix, name): name for name in fields}
        clash = set(keyword) & {p.name for p in kept}
        if clash:
            raise TypeError(f"{command.__name__}: parameters {sorted(clash)} exist already")
        added = [
            _parameter(
                key,
                spelled.get(name, option_name(prefix, name)),
                *fields[name],
                panel,
                show_default,
                documented.get(name, ""),
            )
            for key, name in keyword.items()
        ]
        positional = [p for p in kept if p.kind != inspect.Parameter.KEYWORD_ONLY]
        keyword_only = [p for p in kept if p.kind == inspect.Parameter.KEYWORD_ONLY]
        params = [
            p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
            if p.kind == inspect.Parameter.POSITIONAL_ONLY
            else p
            for p in positional
        ]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # stacked decorators share one context parameter: the innermost one removes it
            given = _given(kwargs.get(_CONTEXT) if stacked else kwargs.pop(_CONTEXT, None))
            values = {name: kwargs.pop(key) for key, name in keyword.items()}
            values = {name: values[name] for key, name in keyword.items() if given(key)}
            for name, value in values.items():
                if isinstance(value, str) and _is_sequence(config.model_fields[name].annotation):
                    values[name] = [item.strip() for item in value.split(",") if item.strip()]
            path = kwargs.get(file) if file is not None else None
            flags = {name: spelled.get(name, option_name(prefix, name)) for name in fields}
            kwargs[param] = build_config(config, values, path, flags)
            return command(*args, **kwargs)

        context = (
            []
            if stacked
            else [
                inspect.Parameter(
                    _CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
                )
            ]
        )
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*params, *keyword_only, *added, *context]
        )
        # typer resolves hints through __annotations__: the config parameter is gone there too
        hints = {k: v for k, v in command.__annotations__.items() if k != param}
        wrapper.__annotations__ = hints | {p.name: p.annotation for p in [*added, *context]}
        registered = dict(getattr(command, CONFIG_ATTRIBUTE, {}))
        registered[param] = (config, prefix)
        setattr(wrapper, CONFIG_ATTRIBUTE, registered)
        return wrapper  # type: ignore[return-value]

    return decorate


def _given(context: typer.Context | None) -> Callable[[str], bool]:
    """Whether an option was given (not left at its default); every option when the
    command is called directly, with no click context."""
    if context is None:
        return lambda key: True
    return lambda key: getattr(context.get_parameter_source(key), "name", "") != "DEFAULT"


def build_config(
    config: type[BaseModel],
    values: dict[str, Any],
    file: str | Path | None = None,
    flags: Mapping[str, str] | None = None,
) -> Any:
    """``config(**values)`` over the fields of a JSON ``file`` (if any), leaving out options
    not given (``None``); a bad value gets the Python API's message and names its option
    (``flags``: the option of each field, ``""`` for an argument).

    Raises:
        InvalidInputError: an unreadable file or a value the model rejects.
    """
    fields: dict[str, Any] = {}
    if file is not None:
        try:
            fields = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InvalidInputError(f"cannot read the config: {error}", path=file) from None
    fields.update({name: value for name, value in values.items() if value is not None})
    try:
        return config.model_validate(fields)
    except ValidationError as error:
        loc = error.errors()[0]["loc"]
        field = str(loc[0]) if loc else ""
        flag = (flags or {}).get(field, option_name("", field)) or field.upper()
        reason = f"bad config: {config_error(config, error).reason}"
        raise InvalidInputError(reason, path=file, field=flag.split()[0].split("/")[0]) from None


G = TypeVar("G")


def option_group(group: type[G], *, param: str) -> Callable[[F], F]:
    """Expose the fields of a keyword-only dataclass as options of the decorated command,
    in place of its keyword-only parameter ``param``, and hand the command one ``group``
    instance.

    For options that several commands share but that are not a stage's config (where the
    data comes from, where the result goes): each field is declared once, as
    ``Annotated[type, typer.Option(...)]`` with its default, instead of once per command.
    """
    hints = typing.get_type_hints(group, include_extras=True)
    names = [field.name for field in dataclasses.fields(group)]  # type: ignore[arg-type]
    added = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=hints[field.name],
            default=inspect.Parameter.empty
            if field.default is dataclasses.MISSING
            else field.default,
        )
        for field in dataclasses.fields(group)  # type: ignore[arg-type]
    ]

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        clash = set(names) & set(signature.parameters)
        if clash:
            raise TypeError(f"{command.__name__}: parameters {sorted(clash)} exist already")
        params = []
        for p in signature.parameters.values():
            params.extend(added if p.name == param else [p])

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[param] = group(**{name: kwargs.pop(name) for name in names})
            return command(*args, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        kept = {k: v for k, v in command.__annotations__.items() if k != param}
        wrapper.__annotations__ = kept | {p.name: p.annotation for p in added}
        return wrapper  # type: ignore[return-value]

    return decorate
