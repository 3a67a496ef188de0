"""``polyret evaluate`` and ``polyret compare``: thin wrappers over :mod:`polyret.evaluate`."""

from __future__ import annotations

import enum
import io
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from polyret.cli.app import app, console
from polyret.cli.options import config_options
from polyret.evaluate import EvaluationConfig, compare, evaluate, run_labels
from polyret.io import atomic_write, read_qrels, read_queries, read_trec_run

_METRICS = {"metrics": "--metrics -m"}


class Format(enum.StrEnum):
    """Output formats."""

    table = "table"
    json = "json"
    markdown = "markdown"


class By(enum.StrEnum):
    """Grouping of the means."""

    lang = "lang"
    none = "none"


class Missing(enum.StrEnum):
    """Handling of queries with qrels but no ranked list."""

    zero = "zero"
    skip = "skip"


QueriesOption = Annotated[
    Path | None,
    typer.Option(
        "--queries",
        "-q",
        help="Queries file (BEIR JSONL or TSV) giving each query's language.",
        exists=True,
        dir_okay=False,
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f")]
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")
]


@app.command("evaluate")
@config_options(
    EvaluationConfig, names=_METRICS, exclude=set(EvaluationConfig.model_fields) - {"metrics"}
)
def evaluate_command(
    run: Annotated[Path, typer.Argument(help="TREC run file.", exists=True, dir_okay=False)],
    qrels: Annotated[
        Path, typer.Argument(help="TREC or BEIR qrels file.", exists=True, dir_okay=False)
    ],
    queries: QueriesOption = None,
    by: Annotated[By, typer.Option(help="Average per language too, or not.")] = By.lang,
    missing: Annotated[
        Missing, typer.Option(help="Queries with qrels that the run lacks: score 0, or skip them.")
    ] = Missing.zero,
    relevance_level: Annotated[int, typer.Option(help="Lowest relevant grade.")] = 1,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
    *,
    config: EvaluationConfig,
) -> None:
    """Score a run against qrels, overall and per query language."""
    report = evaluate(
        read_trec_run(run),
        read_qrels(qrels),
        config.metrics,
        queries=read_queries(queries) if queries else None,
        by=None if by is By.none else "lang",
        missing=missing.value,
        relevance_level=relevance_level,
    )
    if output_format is Format.json:
        _emit(report.to_json(), out)
    elif output_format is Format.markdown:
        _emit(report.to_markdown(), out)
    else:
        _emit(report.to_rich(title=f"{run.name} on {qrels.name}"), out)


@app.command("compare")
@config_options(EvaluationConfig, names=_METRICS | {"baseline": "--baseline -b"})
def compare_command(
    runs: Annotated[
        list[str],
        typer.Argument(
            help="Two or more TREC run files, each PATH or LABEL=PATH. Unlabelled runs are "
            "named by their file stem, or by their folder when stems collide "
            "(stages/hybrid-<key>/run.trec: hybrid).",
            metavar="[LABEL=]RUN...",
        ),
    ],
    qrels: Annotated[
        Path, typer.Option(help="TREC or BEIR qrels file.", exists=True, dir_okay=False)
    ],
    queries: QueriesOption = None,
    by: Annotated[By, typer.Option(help="Compare within each language too, or not.")] = By.none,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
    *,
    config: EvaluationConfig,
) -> None:
    """Compare runs to a baseline with paired significance tests (Holm-corrected)."""
    paths, fixed = run_arguments(runs)
    names = run_labels(paths, fixed)
    comparison = compare(
        {name: read_trec_run(path) for name, path in zip(names, paths, strict=True)},
        read_qrels(qrels),
        config.metrics,
        baseline=_baseline(config.baseline, runs, paths, names),
        test=config.significance_test(),
        correction=config.correction,
        alpha=config.alpha,
        queries=read_queries(queries) if queries else None,
        by=None if by is By.none else "lang",
    )
    if output_format is Format.json:
        _emit(comparison.to_json(), out)
    elif output_format is Format.markdown:
        _emit(comparison.to_markdown(), out)
    else:
        _emit(comparison.to_rich(), out)


def run_arguments(arguments: list[str]) -> tuple[list[Path], dict[int, str]]:
    """The run files of ``compare``'s arguments and the labels given as ``LABEL=PATH``.

    An argument naming an existing file is a path even when it holds ``=``.
    """
    paths, fixed = [], {}
    for i, argument in enumerate(arguments):
        label, _, rest = argument.partition("=")
        if Path(argument).is_file() or not rest:
            path = Path(argument)
        else:
            path, fixed[i] = Path(rest), label
        if not path.is_file():
            raise typer.BadParameter(f"{str(path)!r} is not a file", param_hint="RUNS")
        paths.append(path)
    return paths, fixed


def _baseline(
    baseline: str | None, arguments: list[str], paths: list[Path], names: list[str]
) -> str | None:
    """``--baseline`` as a label: it may also name a run by its argument, path or file name."""
    if baseline is None or baseline in names:
        return baseline
    for argument, path, name in zip(arguments, paths, names, strict=True):
        if baseline in (argument, str(path), path.name):
            return name
    return baseline  # compare names the labels it knows


def _emit(rendered: str | Table, out: Path | None) -> None:
    """Print ``rendered`` (text or a rich Table), or write it atomically to ``out``."""
    if out is None:
        if isinstance(rendered, str):
            typer.echo(rendered, nl=False)
        else:
            console.print(rendered)
        return
    if not isinstance(rendered, str):
        buffer = io.StringIO()
        Console(file=buffer, width=160, no_color=True, highlight=False).print(rendered)
        rendered = buffer.getvalue()
    with atomic_write(out) as handle:
        handle.write(rendered)
