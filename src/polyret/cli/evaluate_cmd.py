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
from polyret.evaluate import DEFAULT_METRICS, RandomizationTest, TTest, compare, evaluate
from polyret.io import atomic_write, read_qrels, read_queries, read_trec_run

_METRICS_HELP = "Comma-separated metrics: ndcg@k, recall@k, mrr@k, map@k, p@k."
_QUERIES_HELP = "Queries file (BEIR JSONL or TSV) giving each query's language."
_OUT_HELP = "Write here instead of stdout."
_DEFAULT = ",".join(DEFAULT_METRICS)


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


class PairedTest(enum.StrEnum):
    """Paired significance tests."""

    randomization = "randomization"
    t_test = "t-test"


class Correction(enum.StrEnum):
    """Multiple-comparison corrections."""

    holm = "holm"
    bonferroni = "bonferroni"
    none = "none"


@app.command("evaluate")
def evaluate_command(
    run: Annotated[Path, typer.Argument(help="TREC run file.", exists=True, dir_okay=False)],
    qrels: Annotated[
        Path, typer.Argument(help="TREC or BEIR qrels file.", exists=True, dir_okay=False)
    ],
    metrics: Annotated[str, typer.Option("--metrics", "-m", help=_METRICS_HELP)] = _DEFAULT,
    queries: Annotated[
        Path | None,
        typer.Option("--queries", "-q", help=_QUERIES_HELP, exists=True, dir_okay=False),
    ] = None,
    by: Annotated[By, typer.Option(help="Average per language too, or not.")] = By.lang,
    missing: Annotated[
        Missing, typer.Option(help="Queries with qrels that the run lacks: score 0, or skip them.")
    ] = Missing.zero,
    relevance_level: Annotated[int, typer.Option(help="Lowest relevant grade.")] = 1,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=_OUT_HELP)] = None,
) -> None:
    """Score a run against qrels, overall and per query language."""
    report = evaluate(
        read_trec_run(run),
        read_qrels(qrels),
        metrics,
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
def compare_command(
    runs: Annotated[
        list[Path], typer.Argument(help="Two or more TREC run files.", exists=True, dir_okay=False)
    ],
    qrels: Annotated[
        Path, typer.Option(help="TREC or BEIR qrels file.", exists=True, dir_okay=False)
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", "-b", help="Baseline: a run file name (default: the first run)."
        ),
    ] = None,
    test: Annotated[PairedTest, typer.Option(help="Significance test.")] = PairedTest.randomization,
    correction: Annotated[Correction, typer.Option(help="Across all tests.")] = Correction.holm,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    permutations: Annotated[int, typer.Option(help="Randomization test draws.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Randomization test seed.")] = 0,
    metrics: Annotated[str, typer.Option("--metrics", "-m", help=_METRICS_HELP)] = _DEFAULT,
    queries: Annotated[
        Path | None,
        typer.Option("--queries", "-q", help=_QUERIES_HELP, exists=True, dir_okay=False),
    ] = None,
    by: Annotated[By, typer.Option(help="Compare within each language too, or not.")] = By.none,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=_OUT_HELP)] = None,
) -> None:
    """Compare runs to a baseline with paired significance tests (Holm-corrected)."""
    names = system_names(runs)
    tester = (
        RandomizationTest(permutations=permutations, seed=seed)
        if test is PairedTest.randomization
        else TTest()
    )
    comparison = compare(
        {name: read_trec_run(path) for name, path in zip(names, runs, strict=True)},
        read_qrels(qrels),
        metrics,
        baseline=baseline,
        test=tester,
        correction=correction.value,
        alpha=alpha,
        queries=read_queries(queries) if queries else None,
        by=None if by is By.none else "lang",
    )
    if output_format is Format.json:
        _emit(comparison.to_json(), out)
    elif output_format is Format.markdown:
        _emit(comparison.to_markdown(), out)
    else:
        _emit(comparison.to_rich(), out)


def system_names(paths: list[Path]) -> list[str]:
    """Short unique names for run files: the file name, or the whole path when names repeat."""
    names = [p.name for p in paths]
    return names if len(set(names)) == len(names) else [str(p) for p in paths]


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
