"""Read and validate a pipeline config before any work: every problem, with its key path.

:func:`load_config` reads YAML (line numbers in every error) or TOML, validates the schema
(:mod:`polyret.pipeline.schema`), then the rules that span stages: names unique, inputs name
earlier stages whose output fits the role, registry names exist, files exist, splits exist.
All problems are collected and raised together as one :class:`ConfigError`::

    pipeline.yaml:14: stages[3].params.num_negatives: Input should be a valid integer (got 'x')
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from polyret.errors import InvalidInputError
from polyret.pipeline import schema
from polyret.pipeline.schema import PipelineConfig, StageBase, params_model


@dataclass(frozen=True)
class ConfigIssue:
    """One problem: where (``stages[3].params.k``), what, and the config line if known."""

    loc: str
    message: str
    line: int | None = None


class ConfigError(InvalidInputError):
    """A pipeline config that cannot run; :attr:`issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue], path: str | os.PathLike[str] | None = None):
        self.issues = sorted(issues, key=lambda i: (i.line or 0, i.loc))
        first = self.issues[0]
        super().__init__(first.message, path=path, line=first.line, field=first.loc)
        self.text = "\n".join(self._where(issue) for issue in self.issues)
        if len(self.issues) > 1:
            self.text = f"invalid pipeline config ({len(self.issues)} errors):\n" + "\n".join(
                "  " + self._where(issue) for issue in self.issues
            )

    def _where(self, issue: ConfigIssue) -> str:
        place = self.path or "config"
        if issue.line is not None:
            place += f":{issue.line}"
        return f"{place}: {issue.loc}: {issue.message}"

    def __str__(self) -> str:
        return self.text


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> PipelineConfig:
    """Read and validate a pipeline config (a ``.yaml``/``.yml``/``.toml`` file or its data).

    Relative paths in the config (a dataset folder, a model folder) are relative to the
    config file's folder (``base_dir`` for data given as a mapping; default: the current
    folder) and come back absolute in the returned config.

    Raises:
        ConfigError: naming the key path (and file line, for YAML) of every problem.
    """
    if isinstance(source, Mapping):
        return validate(dict(source), base_dir=Path(base_dir or "."))
    path = Path(source)
    if not path.is_file():
        raise InvalidInputError("no such pipeline config file", path=path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError([ConfigIssue("(file)", f"not valid TOML: {error}")], path) from None
        lines = None
    else:
        data, lines = _read_yaml(text, path)
    return validate(data, path=path, base_dir=Path(base_dir or path.parent), lines=lines)


def validate(
    data: Any,
    *,
    path: Path | None = None,
    base_dir: Path = Path("."),
    lines: Any = None,
) -> PipelineConfig:
    """Validate config data (see :func:`load_config`); ``lines`` is the YAML node tree."""
    issues: list[ConfigIssue] = []

    def issue(loc: tuple[Any, ...], message: str) -> None:
        issues.append(ConfigIssue(format_loc(loc), message, _line_of(lines, loc)))

    if not isinstance(data, dict):
        issue((), "a pipeline config is a mapping with 'name' and 'stages'")
        raise ConfigError(issues, path)
    bad_types = _check_types(data, issue)
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as error:
        for e in error.errors():
            loc = _clean_loc(e["loc"], data)
            if e["type"] == "union_tag_invalid" or (len(loc) >= 2 and loc[1] in bad_types):
                continue  # reported by _check_types with close matches
            issue(loc, _message(e))
        if not issues:  # pragma: no cover - every pydantic error maps to an issue
            issue((), str(error))
        raise ConfigError(issues, path) from None
    config = _second_pass(config, issue)
    if not issues:
        config = _check_stages(config, base_dir, issue)
    if issues:
        raise ConfigError(issues, path)
    return config


# reading -----------------------------------------------------------------------------------
def _read_yaml(text: str, path: Path) -> tuple[Any, Any]:
    import yaml

    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(error, "problem", None) or str(error)
        issue = ConfigIssue("(file)", f"not valid YAML: {problem}", line)
        raise ConfigError([issue], path) from None


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node ``loc`` reaches (a key's own line)."""
    if node is None:
        return None
    import yaml

    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def format_loc(loc: Iterable[Any]) -> str:
    """``("stages", 3, "params", "k")`` → ``"stages[3].params.k"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(config)"


def _clean_loc(loc: tuple[Any, ...], data: dict[str, Any]) -> tuple[Any, ...]:
    """Drop the union tag pydantic puts after a stage index (``stages.3.mine.params``)."""
    parts = list(loc)
    if len(parts) >= 3 and parts[0] == "stages" and isinstance(parts[1], int):
        stages = data.get("stages")
        if isinstance(stages, list) and parts[1] < len(stages):
            stage = stages[parts[1]]
            if isinstance(stage, dict) and parts[2] == stage.get("type"):
                del parts[2]
    return tuple(parts)


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown key (not part of this stage's schema)"
    value = error.get("input")
    if error["type"] != "missing" and isinstance(value, str | int | float | bool):
        message += f" (got {value!r})"
    return message


# schema-level checks -------------------------------------------------------------------------
def _check_types(data: dict[str, Any], issue: Any) -> set[int]:
    """Report stages whose ``type`` is missing or unknown, with close matches."""
    from polyret.pipeline.registry import stage_types

    bad: set[int] = set()
    stages = data.get("stages")
    if not isinstance(stages, list):
        return bad
    valid = stage_types.names()
    for number, stage in enumerate(stages):
        if not isinstance(stage, dict):
            continue
        kind = stage.get("type")
        if not isinstance(kind, str):
            issue(("stages", number, "type"), f"missing stage type; valid: {', '.join(valid)}")
            bad.add(number)
        elif kind not in valid:
            close = difflib.get_close_matches(kind, valid, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            issue(
                ("stages", number, "type"),
                f"unknown stage type {kind!r}.{hint} Valid: {', '.join(valid)}",
            )
            bad.add(number)
    return bad


def _second_pass(config: PipelineConfig, issue: Any) -> PipelineConfig:
    """Validate the params declared by import path (the training stages': their models import
    torch, so only when used)."""
    stages: list[StageBase] = []
    for number, original in enumerate(config.stages):
        stage: StageBase = original
        if isinstance(stage.spec.params, str):
            try:
                params = params_model(stage.type).model_validate(stage.params)
            except ValidationError as error:
                for e in error.errors():
                    issue(("stages", number, "params", *e["loc"]), _message(e))
                stages.append(stage)
                continue
            stage = stage.model_copy(update={"params": params})
        stages.append(stage)
    return config.model_copy(update={"stages": stages})


# cross-stage checks ---------------------------------------------------------------------------
def _needs_dataset(stage: StageBase) -> bool:
    p = stage.params
    if stage.type in ("generate", "mine", "index-bm25", "index-dense"):
        return True
    if stage.type in ("index-multivector", "index-sparse"):
        return True
    if stage.type in ("retrieve", "rerank"):
        return True
    if stage.type in ("evaluate", "adapt"):
        return True
    if stage.type == "fuse":
        return p.tune_split is not None
    if stage.type in ("train-bi-encoder", "train-cross-encoder"):
        return bool(p.dev_eval)
    return False


def _check_stages(config: PipelineConfig, base_dir: Path, issue: Any) -> PipelineConfig:
    """Names, references, output kinds, registry names, files and splits."""
    kinds: dict[str, str] = {}
    splits: dict[str, list[str] | None] = {}
    stages: list[StageBase] = []
    for number, original in enumerate(config.stages):
        stage: StageBase = original
        at = ("stages", number)
        if stage.name in kinds:
            issue((*at, "name"), f"duplicate stage name {stage.name!r}")
        datasets = [name for name, kind in kinds.items() if kind == schema.DATASET]
        unset = "dataset" in type(stage.inputs).model_fields and stage.inputs.dataset is None
        if unset and _needs_dataset(stage):
            if len(datasets) == 1:
                inputs = stage.inputs.model_copy(update={"dataset": datasets[0]})
                stage = stage.model_copy(update={"inputs": inputs})
            else:
                found = "none" if not datasets else ", ".join(datasets)
                issue(
                    (*at, "inputs", "dataset"),
                    f"name the dataset stage to read (dataset stages before it: {found})",
                )
        for role, names in stage.references().items():
            allowed = stage.accepts.get(role, ())
            for position, name in enumerate(names):
                where = _ref_loc(at, role, stage, position)
                if name not in kinds:
                    earlier = list(kinds)
                    close = difflib.get_close_matches(name, earlier, n=3, cutoff=0.6)
                    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                    later = any(s.name == name for s in config.stages[number:])
                    what = (
                        "comes later (a stage reads earlier stages only)"
                        if later
                        else ("is not a stage")
                    )
                    issue(
                        where,
                        f"{name!r} {what}.{hint} Stages before it: {', '.join(earlier) or 'none'}",
                    )
                elif kinds[name] not in allowed:
                    producer = config.stage(name).type
                    issue(
                        where,
                        f"{name!r} is {_a(producer)} stage (its output is {_a(kinds[name])});"
                        f" {role} takes {' or '.join(_a(kind) for kind in allowed)}",
                    )
        stage = _check_params(stage, at, base_dir, issue)
        dataset_name = getattr(stage.inputs, "dataset", None)
        _check_splits(stage, at, splits.get(dataset_name) if dataset_name else None, issue)
        if stage.type == "dataset":
            splits[stage.name] = _dataset_splits(stage.params.source)
        kinds.setdefault(stage.name, stage.output)
        stages.append(stage)
    return config.model_copy(update={"stages": stages})


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _ref_loc(at: tuple[Any, ...], role: str, stage: StageBase, position: int) -> tuple[Any, ...]:
    value = getattr(stage.inputs, role)
    if isinstance(value, list):
        return (*at, "inputs", role, position)
    if isinstance(value, dict):
        return (*at, "inputs", role, list(value)[position])
    return (*at, "inputs", role)


def _check_params(stage: StageBase, at: tuple[Any, ...], base_dir: Path, issue: Any) -> StageBase:
    """Registry names, metric names, paths (made absolute); returns the resolved stage."""
    p = stage.params
    here = (*at, "params")
    update: dict[str, Any] = {}
    if stage.type == "dataset":
        update["source"] = _dataset_source(p.source, base_dir, (*here, "source"), issue)
    elif stage.type == "generate":
        from polyret.curate.registry import generators

        _known(generators, p.method, (*here, "method"), issue)
        for key in ("seed", "llm"):
            if key in p.options:
                issue((*here, "options", key), f"set {key} as params.{key}, not as an option")
    elif stage.type == "filter":
        from polyret.curate.registry import filters

        for n, spec in enumerate(p.filters):
            _known(filters, spec.name, (*here, "filters", n, "name"), issue)
    elif stage.type == "mine":
        from polyret.mine.registry import miners

        _known(miners, p.strategy, (*here, "strategy"), issue)
    elif stage.type == "train-heads":
        if "base" in p.model_fields_set and stage.inputs.encoder is not None:
            issue((*here, "base"), "give the encoder either here (base) or as the encoder input")
        elif stage.inputs.encoder is None:
            update["base"] = _model_ref(p.base, base_dir, (*here, "base"), issue, "base model")
    elif stage.type in ("train-bi-encoder", "train-cross-encoder"):
        update["base"] = _model_ref(p.base, base_dir, (*here, "base"), issue, "base model")
    elif stage.type == "adapt":
        from polyret.curate.registry import filters, generators

        update["base"] = _model_ref(p.base, base_dir, (*here, "base"), issue, "base model")
        for n, method in enumerate(p.generate):
            _known(generators, method.method, (*here, "generate", n, "method"), issue)
        for n, spec in enumerate(p.filters.filters):
            _known(filters, spec.name, (*here, "filters", "filters", n, "name"), issue)
        if p.check is not None:
            _check_metrics(p.check.metric, (*here, "check", "metric"), issue)
    elif stage.type in ("index-multivector", "index-sparse"):
        if "encoder" in p.model_fields_set and stage.inputs.encoder is not None:
            issue((*here, "encoder"), "give the encoder either here or as the encoder input")
        elif stage.inputs.encoder is None:
            update["encoder"] = _model_ref(p.encoder, base_dir, (*here, "encoder"), issue, "model")
    elif stage.type == "index-dense":
        given = "encoder" in p.model_fields_set
        if given and stage.inputs.encoder is not None:
            issue((*here, "encoder"), "give the encoder either here or as the encoder input")
        elif stage.inputs.encoder is None:
            from polyret.encode.registry import encoders

            ref = _model_ref(p.encoder, base_dir, (*here, "encoder"), issue, "encoder")
            if ref == p.encoder and "/" not in ref:
                _known(encoders, ref, (*here, "encoder"), issue)
            update["encoder"] = ref
    elif stage.type == "rerank":
        from polyret.rerank.registry import rerankers

        _known(rerankers, p.reranker, (*here, "reranker"), issue)
        if p.model is not None:
            if stage.inputs.model is not None:
                issue((*here, "model"), "give the model either here or as the model input")
            update["model"] = _model_ref(p.model, base_dir, (*here, "model"), issue, "model")
        _check_metrics(p.metric, (*here, "metric"), issue)
    elif stage.type == "fuse":
        _check_metrics(p.metric, (*here, "metric"), issue)
        if p.weights is not None and len(p.weights) != len(stage.inputs.runs):
            issue(
                (*here, "weights"),
                f"{len(p.weights)} weights for {len(stage.inputs.runs)} runs",
            )
    elif stage.type == "evaluate":
        _check_metrics(p.metrics, (*here, "metrics"), issue)
        labels = list(stage.inputs.labelled())
        if p.baseline is None:
            update["baseline"] = labels[0]
        elif p.baseline not in labels:
            issue((*here, "baseline"), f"{p.baseline!r} is not a label of the runs: {labels}")
    if not update:
        return stage
    return stage.model_copy(update={"params": p.model_copy(update=update)})


def _known(registry: Any, name: str, loc: tuple[Any, ...], issue: Any) -> None:
    if name not in registry:
        valid = registry.names()
        close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        issue(loc, f"unknown {registry.kind} {name!r}.{hint} Valid: {', '.join(valid)}")


def _check_metrics(metrics: str | list[str], loc: tuple[Any, ...], issue: Any) -> None:
    """A metric name (at ``loc``) or a list of them (at ``loc[n]``)."""
    from polyret.evaluate import parse_metrics

    items = (
        [(loc, metrics)]
        if isinstance(metrics, str)
        else [((*loc, n), m) for n, m in enumerate(metrics)]
    )
    for where, metric in items:
        try:
            parse_metrics([metric])
        except InvalidInputError as error:
            issue(where, error.reason)


def _is_pathlike(ref: str) -> bool:
    return ref.startswith((".", "/", "~")) or ref.count("/") > 1 or os.sep in ref


def _model_ref(ref: str, base_dir: Path, loc: tuple[Any, ...], issue: Any, what: str) -> str:
    """A registered/packaged name or hub id as given; a folder made absolute (must exist)."""
    candidate = (base_dir / Path(ref).expanduser()).resolve()
    if "/" in ref or ref.startswith((".", "~")):
        if candidate.is_dir():
            return str(candidate)
        if _is_pathlike(ref):
            issue(loc, f"no {what} folder at {str(candidate)!r}")
    return ref


def _dataset_source(ref: str, base_dir: Path, loc: tuple[Any, ...], issue: Any) -> str:
    from polyret.datasets import list_datasets
    from polyret.datasets.adapters import is_uri

    names = [info.name for info in list_datasets()]
    if ref in names or is_uri(ref):  # irds:/hf: URIs are checked when loaded
        return ref
    folder = (base_dir / Path(ref).expanduser()).resolve()
    if not folder.is_dir():
        close = difflib.get_close_matches(ref, names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        issue(
            loc,
            f"no dataset {ref!r}: not a catalogue name ({', '.join(names)}) and no folder at "
            f"{str(folder)!r}.{hint}",
        )
        return ref
    if not (folder / "qrels").is_dir():
        issue(loc, f"{str(folder)!r} is not a BEIR folder (no qrels/ folder)")
    return str(folder)


def _dataset_splits(source: str) -> list[str] | None:
    """Split names of a dataset source (``qrels/<split>.tsv``), ``None`` when unknown."""
    from polyret.datasets import list_datasets

    folder = next((i.path for i in list_datasets() if i.name == source), Path(source))
    if not (folder / "qrels").is_dir():
        return None
    return sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))


def _check_splits(
    stage: StageBase, at: tuple[Any, ...], known: list[str] | None, issue: Any
) -> None:
    if known is None:
        return
    p = stage.params
    wanted: list[tuple[tuple[Any, ...], str]] = []
    if stage.type == "retrieve":
        wanted = [((*at, "params", "splits", n), s) for n, s in enumerate(p.splits)]
    elif stage.type == "fuse" and p.tune_split is not None:
        wanted = [((*at, "params", "tune_split"), p.tune_split)]
    elif stage.type == "rerank":
        wanted = [((*at, "params", "splits", n), s) for n, s in enumerate(p.splits or [])]
        if p.ensemble:
            wanted.append(((*at, "params", "tune_split"), p.tune_split))
    elif stage.type == "evaluate":
        wanted = [((*at, "params", "split"), p.split)]
    elif stage.type == "adapt" and p.check is not None:
        wanted = [((*at, "params", "check", "split"), p.check.split)]
    for loc, split in wanted:
        if split not in known:
            issue(loc, f"unknown split {split!r}; the dataset has {', '.join(known)}")
