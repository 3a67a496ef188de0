"""``polyret generate`` and ``polyret filter``: label-free training data and its funnel."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from polyret.cli.app import ADDRESS_OPTION, BACKEND_OPTION, WORKERS_OPTION, app, console
from polyret.curate import apply_filters, filters, generate, generators
from polyret.curate.summary import funnel_table
from polyret.datasets import corpus_from
from polyret.errors import InvalidInputError, OutputExistsError
from polyret.paths import cache_root
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


def build(factory: Callable[..., Any], kind: str, name: str, options: dict[str, Any]) -> Any:
    """Call a registry factory, turning an unknown keyword into an error naming the option."""
    try:
        return factory(**options)
    except TypeError as error:
        if "keyword argument" not in str(error):
            raise
        raise InvalidInputError(f"{kind} {name!r}: {error}", field="option") from None


@app.command("generate")
def generate_command(
    corpus: str = typer.Argument(..., help="corpus.jsonl, .parquet, BEIR folder or name."),
    method: str = typer.Option(..., "--method", "-m", help="Generation method (see --help)."),
    out: Path = typer.Option(..., "--out", "-o", help="Training-set folder to write."),
    llm: str = typer.Option(
        None, help="LLM methods: an OpenAI-compatible URL (with --model) or a local model."
    ),
    model: str = typer.Option(None, help="Model name served at the --llm URL."),
    langs: str = typer.Option(None, help="Target query languages, e.g. 'de,sw' (LLM methods)."),
    docs_lang: str = typer.Option(None, help="Only documents in these languages ('de,es')."),
    limit: int = typer.Option(None, help="Only the first N documents (after --docs-lang)."),
    seed: int = typer.Option(0, help="Seed of the per-document random streams."),
    option: list[str] = typer.Option(None, "--option", "-O", help="Method option KEY=VALUE."),
    chunk_size: int = typer.Option(64, help="Documents per checkpointed shard."),
    concurrency: int = typer.Option(4, help="LLM requests in flight."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Env variable with the API key."),
    cache: Path = typer.Option(None, help="LLM answer cache (default: in $POLYRET_CACHE)."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
    backend: str = BACKEND_OPTION,
    address: str = ADDRESS_OPTION,
    workers: int = WORKERS_OPTION,
) -> None:
    """Generate (query, positive) training examples from documents; resumable."""
    from polyret.distributed import GeneratorSpec, backend_from
    from polyret.distributed import generate as generate_on

    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    factory = generators.get(method)
    options = parse_options(option)
    options["seed"] = seed
    if langs:
        options["langs"] = [lang.strip() for lang in langs.split(",") if lang.strip()]
    chosen = backend_from(backend, address=address, workers=workers)
    cache_path = cache or cache_root() / "llm" / "answers.sqlite"
    llm_options = {"api_key_env": api_key_env, "max_concurrency": concurrency}
    spec = GeneratorSpec(method, dict(options), llm, model, str(cache_path), llm_options)
    if llm is not None:
        from polyret.llm import client_from

        cache_path.parent.mkdir(parents=True, exist_ok=True)
        options["llm"] = client_from(
            llm, model, api_key_env=api_key_env, cache=cache_path, max_concurrency=concurrency
        )
    generator = build(factory, "generator", method, options)
    documents = corpus_from(corpus)
    if docs_lang:
        documents = documents.filter(lang=docs_lang.split(","))
    if limit is not None:
        documents = documents.take(range(min(limit, len(documents))))
    if chosen.is_ray:  # each actor builds the generator (and its LLM client) once
        examples = generate_on(
            spec, documents, out, chosen, chunk_size=chunk_size, overwrite=overwrite
        )
    else:
        examples = generate(
            generator, documents, out, chunk_size=chunk_size, overwrite=overwrite,
            show_progress=True,
        )  # fmt: skip
    console.print(funnel_table(examples, title=f"{method}: {len(examples)} examples → {out}"))


@app.command("filter")
def filter_command(
    training_set: Path = typer.Argument(..., help="Training-set folder, .parquet or .jsonl."),
    out: Path = typer.Option(..., "--out", "-o", help="Filtered training-set folder."),
    steps: str = typer.Option(
        "malformed,length,copy,langid,dedup", "--filters", help="Filters to apply, in order."
    ),
    corpus: str = typer.Option(
        None, help="Corpus for the consistency filter's BM25 (its round-trip retrieval)."
    ),
    option: list[str] = typer.Option(
        None, "--option", "-O", help="Filter option FILTER.KEY=VALUE, e.g. dedup.threshold=0.8."
    ),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
) -> None:
    """Drop bad training examples; prints what each filter dropped, per language."""
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    names = [name.strip() for name in steps.split(",") if name.strip()]
    chain = []
    for name in names:
        factory = filters.get(name)
        options = parse_options(option, f"{name}.")
        if name == "consistency" and "corpus" not in options:
            if corpus is None:
                raise InvalidInputError("the consistency filter needs --corpus", field="corpus")
            options["corpus"] = corpus_from(corpus)
        chain.append(build(factory, "filter", name, options))
    examples = apply_filters(TrainingSet.load(training_set), chain)
    examples.save(out, overwrite=overwrite)
    console.print(funnel_table(examples, title=f"{len(examples)} examples kept → {out}"))
