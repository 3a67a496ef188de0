"""``polyret generate`` and ``polyret filter``: label-free training data and its funnel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from polyret.cli.app import (
    OverwriteOption,
    TrainingSetOut,
    app,
    backend_options,
    console,
    refuse_existing,
)
from polyret.cli.options import config_options
from polyret.curate import (
    DEFAULT_FILTERS,
    FilterConfig,
    FilterSpec,
    GenerateConfig,
    answers_cache,
    apply_filters,
    filters_from,
    generate,
    generator_from,
)
from polyret.curate.summary import funnel_table
from polyret.datasets import corpus_from
from polyret.distributed.backend import Backend
from polyret.errors import InvalidInputError
from polyret.types import TrainingSet


def parse_options(pairs: list[str] | None, prefix: str = "") -> dict[str, Any]:
    """``["k=v", ...]`` → ``{k: v}`` with JSON values (``3``, ``true``, ``[1,2]``) or strings.

    With ``prefix`` (``"dedup."``) only keys that start with it are taken, prefix removed.

    Example:
        >>> parse_options(["k=10", "lang=de", "dedup.threshold=0.8"], "dedup.")
        {'threshold': 0.8}
    """
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"expected KEY=VALUE, got {pair!r}", field="option")
        if prefix and not key.startswith(prefix):
            continue
        if not prefix and "." in key:
            continue
        try:
            parsed: Any = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        options[key[len(prefix) :]] = parsed
    return options


@app.command("generate")
@backend_options
@config_options(
    GenerateConfig,
    panel="Generation",
    names={"method": "--method -m", "llm_model": "--model", "langs": "--docs-lang"},
)
def generate_command(
    corpus: Annotated[str, typer.Argument(help="corpus.jsonl, .parquet, BEIR folder or name.")],
    out: TrainingSetOut,
    query_langs: str = typer.Option(
        None, "--langs", help="Target query languages, e.g. 'de,sw' (LLM methods)."
    ),
    option: list[str] = typer.Option(None, "--option", "-O", help="Method option KEY=VALUE."),
    concurrency: int = typer.Option(4, help="LLM requests in flight."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Env variable with the API key."),
    cache: Path = typer.Option(None, help="LLM answer cache (default: in $POLYRET_CACHE)."),
    overwrite: OverwriteOption = False,
    *,
    backend: Backend,
    config: GenerateConfig,
) -> None:
    """Generate (query, positive) training examples from documents; resumable."""
    from polyret.distributed import GeneratorSpec
    from polyret.distributed import generate as generate_on

    refuse_existing(out, overwrite)
    options = {**config.options, **parse_options(option)}
    if query_langs:
        options["langs"] = [lang.strip() for lang in query_langs.split(",") if lang.strip()]
    config = config.model_copy(update={"options": options})
    cache_path = str(cache or answers_cache())
    llm_options: dict[str, Any] = {"api_key_env": api_key_env, "max_concurrency": concurrency}
    generator = generator_from(config, cache=cache_path, llm_options=llm_options)  # bad options
    documents = config.documents(corpus_from(corpus))  # fail before the corpus is read
    if backend.is_ray:  # each actor builds the generator (and its LLM client) once
        spec = GeneratorSpec(config, cache_path, llm_options)
        examples = generate_on(
            spec, documents, out, backend, chunk_size=config.chunk_size, overwrite=overwrite
        )
    else:
        examples = generate(
            generator, documents, out, chunk_size=config.chunk_size, overwrite=overwrite,
            show_progress=True,
        )  # fmt: skip
    title = f"{config.method}: {len(examples)} examples → {out}"
    console.print(funnel_table(examples, title=title))


@app.command("filter")
@config_options(FilterConfig)
def filter_command(
    training_set: Path = typer.Argument(..., help="Training-set folder, .parquet or .jsonl."),
    out: Path = typer.Option(..., "--out", "-o", help="Filtered training-set folder."),
    steps: str = typer.Option(
        ",".join(DEFAULT_FILTERS), "--filters", help="Filters to apply, in order."
    ),
    corpus: str = typer.Option(
        None, help="Corpus for the consistency filter's BM25 (its round-trip retrieval)."
    ),
    option: list[str] = typer.Option(
        None, "--option", "-O", help="Filter option FILTER.KEY=VALUE, e.g. dedup.threshold=0.8."
    ),
    overwrite: OverwriteOption = False,
    *,
    config: FilterConfig,
) -> None:
    """Drop bad training examples; prints what each filter dropped, per language."""
    refuse_existing(out, overwrite)
    names = [name.strip() for name in steps.split(",") if name.strip()]
    specs = [FilterSpec(name=name, options=parse_options(option, f"{name}.")) for name in names]
    chosen = FilterConfig(filters=specs) if specs else config
    chain = filters_from(chosen, None if corpus is None else lambda: corpus_from(corpus))
    examples = apply_filters(TrainingSet.load(training_set), chain)
    examples.save(out, overwrite=overwrite)
    console.print(funnel_table(examples, title=f"{len(examples)} examples kept → {out}"))
