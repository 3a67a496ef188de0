"""What the LLM generation methods share: prompt templates, the LLM client, malformed answers.

Templates are plain text files shipped in ``polyret/curate/prompts/<method>/`` and read with
:mod:`importlib.resources`; a user folder (``prompts_dir=``) replaces them file by file, so
a prompt can be edited without touching the package. ``<step>.txt`` is a step's template,
``<step>.<lang>.txt`` its variant for one target language, ``<step>_example.txt`` the format
of one few-shot exemplar and ``exemplars/<lang>.json`` the exemplars (English fallback).
Every file's sha256 goes into the generator's config (hence the provenance and the resume
key) and each row's ``prompt_id`` names its template and a hash of all prompt text used.

An answer that cannot be used (the request failed after the client's retries, no JSON, a
missing field, an empty query) is not dropped silently: it becomes a row whose ``query`` is
:data:`MALFORMED_QUERY` and whose ``meta`` holds ``{"error": kind, "detail": ...}`` next to
the raw answer, and :class:`MalformedFilter` drops such rows with the kind as the reason, so
the funnel counts them per language.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass, replace
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, ClassVar

from polyret.curate.base import BaseGenerator, example_id, target_langs
from polyret.curate.filtering import Verdict
from polyret.errors import InvalidInputError
from polyret.llm.base import LLMClient, LLMError, LLMResponse, UnsupportedError
from polyret.llm.parsing import parse_json
from polyret.text.langcodes import normalize_lang_code
from polyret.types import UNKNOWN_LANG, Document, TrainingSet

__all__ = [
    "MALFORMED_QUERY",
    "LLMGenerator",
    "LLMOptions",
    "MalformedFilter",
    "PromptSet",
    "Target",
    "Template",
    "language_name",
    "llm_identity",
    "parse_query",
    "render",
    "resolve_llm",
    "score_continuations",
]

log = logging.getLogger(__name__)

MALFORMED_QUERY = "<malformed>"
"""The ``query`` of a row whose LLM answer was unusable (its ``meta["error"]`` says why)."""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LABEL = re.compile(r"^[\w ()'-]{0,40}?(?:query|question)\s*[:：]\s*", re.IGNORECASE)


def render(template: str, **fields: Any) -> str:
    """Fill ``{name}`` placeholders; braces around anything else stay as they are.

    Example:
        >>> render('Passage: {passage}\\nJSON: {"query": "..."} {unknown}', passage="x")
        'Passage: x\\nJSON: {"query": "..."} {unknown}'
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(fields[name]) if name in fields else match.group(0)

    return _PLACEHOLDER.sub(fill, template)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Template:
    """One prompt template file.

    Attributes:
        id: Its path below the prompts root (``"swim-ir/ask.txt"``).
        text: Its content.
    """

    id: str
    text: str

    def render(self, **fields: Any) -> str:
        """The filled template, trailing whitespace removed."""
        return render(self.text, **fields).rstrip()


class PromptSet:
    """Templates and exemplars of one method: a user folder over the packaged files.

    Args:
        method: The method's folder name (``"swim-ir"``).
        prompts_dir: A folder holding ``<method>/`` (or the method's files directly); its
            files replace the packaged ones of the same name.

    Example:
        >>> prompts = PromptSet("swim-ir")
        >>> prompts.template("ask", "de").id
        'swim-ir/ask.txt'
        >>> prompts.exemplars("sw")[1], prompts.exemplars("de")[1]
        ('en', 'de')
    """

    def __init__(self, method: str, prompts_dir: str | Path | None = None) -> None:
        self.method = method
        self._package = resources.files("polyret.curate").joinpath("prompts")
        self.user: Path | None = None
        if prompts_dir is not None:
            root = Path(prompts_dir).expanduser()
            if not root.is_dir():
                raise InvalidInputError("prompts_dir is not a folder", path=root)
            self.user = root / method if (root / method).is_dir() else root
        self._files = self._collect()
        if not self._files:
            raise InvalidInputError(f"no prompt templates for method {method!r}", field="method")

    def _collect(self) -> dict[str, str]:
        """Relative path (inside the method folder) → text of every effective file."""
        files: dict[str, str] = {}
        package = self._package.joinpath(self.method)
        if package.is_dir():
            for relative, item in _walk(package):
                files[relative] = item.read_text(encoding="utf-8")
        if self.user is not None:
            for path in sorted(self.user.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files[path.relative_to(self.user).as_posix()] = path.read_text(encoding="utf-8")
        return {k: v for k, v in sorted(files.items()) if not k.endswith(".md")}

    def has(self, relative: str) -> bool:
        """Whether ``relative`` (e.g. ``"exemplars/de.json"``) exists."""
        return relative in self._files

    def template(self, step: str, lang: str | None = None) -> Template:
        """``<step>.<lang>.txt`` when there is one, else ``<step>.txt``.

        Raises:
            InvalidInputError: neither exists.
        """
        names = ([f"{step}.{lang}.txt"] if lang else []) + [f"{step}.txt"]
        for name in names:
            if name in self._files:
                return Template(f"{self.method}/{name}", self._files[name])
        raise InvalidInputError(
            f"no template {names[-1]!r} for method {self.method!r}", field="prompts_dir"
        )

    def exemplars(self, lang: str) -> tuple[list[dict[str, Any]], str]:
        """The few-shot exemplars for ``lang`` and the language of the file used
        (``exemplars/<lang>.json``, else ``exemplars/en.json``; none: ``([], "")``).

        Raises:
            InvalidInputError: the file is not a JSON list of objects.
        """
        for code in (lang, "en"):
            name = f"exemplars/{code}.json"
            if name in self._files:
                return _exemplar_list(self._files[name], f"{self.method}/{name}"), code
        return [], ""

    def identity(self) -> dict[str, Any]:
        """``{"files": {path: sha256[:16]}, "sha256": of all}``: goes into the config."""
        files = {f"{self.method}/{k}": _sha(v)[:16] for k, v in self._files.items()}
        overall = _sha(json.dumps(files, sort_keys=True))[:16]
        return {"files": files, "sha256": overall, "user_dir": self.user is not None}

    def languages(self) -> dict[str, str]:
        """Language code → English name (``languages.json`` of the user folder or package)."""
        if self.user is not None:
            for path in (self.user / "languages.json", self.user.parent / "languages.json"):
                if path.is_file():
                    return _names(path.read_text(encoding="utf-8"))
        return _package_languages()


def _walk(folder: Traversable, prefix: str = "") -> Iterable[tuple[str, Traversable]]:
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.startswith((".", "__")):
            continue
        if item.is_dir():
            yield from _walk(item, f"{prefix}{item.name}/")
        else:
            yield f"{prefix}{item.name}", item


def _exemplar_list(text: str, where: str) -> list[dict[str, Any]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"malformed JSON: {error.msg}", path=where) from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidInputError("expected a JSON list of objects", path=where)
    return rows


def _names(text: str) -> dict[str, str]:
    table = json.loads(text)
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


_LANGUAGES: dict[str, str] = {}


def _package_languages() -> dict[str, str]:
    if not _LANGUAGES:
        path = resources.files("polyret.curate").joinpath("prompts", "languages.json")
        _LANGUAGES.update(_names(path.read_text(encoding="utf-8")))
    return _LANGUAGES


def language_name(code: str, names: Mapping[str, str] | None = None) -> str:
    """English name of a language code (the code itself when unknown).

    Example:
        >>> language_name("de"), language_name("zh-Hant"), language_name("xx")
        ('German', 'Chinese', 'xx')
    """
    table = _package_languages() if names is None else names
    return table.get(code) or table.get(code.split("-")[0].lower()) or code


# --------------------------------------------------------------------------- the LLM client
def resolve_llm(llm: LLMClient | Mapping[str, Any] | str) -> LLMClient:
    """An LLM client from a client object, a spec dict or a ``"backend:model"`` string.

    A dict is passed to :func:`polyret.llm.load_llm` (``{"backend": "openai", "model": ...,
    "base_url": ..., "cache": ...}``); a string names ``backend:model`` when its prefix is a
    registered backend, else an ``openai`` model.

    Raises:
        InvalidInputError: ``llm`` is none of these.
    """
    from polyret.llm import llm_backends, load_llm

    if hasattr(llm, "chat_many") and hasattr(llm, "model"):
        return llm  # type: ignore[return-value]
    if isinstance(llm, Mapping):
        return load_llm(**dict(llm))
    if isinstance(llm, str) and llm:
        backend, _, model = llm.partition(":")
        if model and backend in llm_backends.names():
            return load_llm(backend, model)
        return load_llm("openai", llm)
    raise InvalidInputError(
        "llm must be an LLM client, a dict of load_llm options or 'backend:model'", field="llm"
    )


def llm_identity(client: LLMClient) -> dict[str, Any]:
    """What of a client changes the answers: its class, kind, model and default params
    (never its address, cache path or key, so moving the server keeps the resume key)."""
    config = getattr(client, "config", None)
    params = getattr(config, "params", None)
    return {
        "class": type(client).__name__,
        "kind": str(getattr(client, "kind", "")),
        "model": str(client.model),
        "params": dict(params) if isinstance(params, Mapping) else {},
    }


def score_continuations(
    client: LLMClient, pairs: Sequence[tuple[str, str]]
) -> tuple[list[float], str]:
    """``log P(continuation | context)`` of each pair and a status.

    Returns:
        The scores (``nan`` where a request failed) and ``"ok"``, ``"partial"`` (some
        failed) or ``"unavailable: <why>"`` (the backend cannot score text: every score is
        ``nan``).
    """
    if not pairs:
        return [], "ok"
    many = getattr(client, "loglikelihood_many", None)
    one = getattr(client, "loglikelihood", None)
    try:
        if many is not None:
            scores = [float(s) for s in many(list(pairs), raise_on_error=False)]
        elif one is not None:
            scores = []
            for context, continuation in pairs:
                try:
                    scores.append(float(one(context, continuation)))
                except UnsupportedError:
                    raise
                except LLMError:
                    scores.append(math.nan)
        else:
            return [math.nan] * len(pairs), f"unavailable: {type(client).__name__} has none"
    except (LLMError, InvalidInputError, NotImplementedError) as error:
        # InvalidInputError: e.g. a local encoder-decoder model, which cannot score text
        return [math.nan] * len(pairs), f"unavailable: {error}"
    failed = sum(math.isnan(s) for s in scores)
    if failed == len(scores):
        return scores, "unavailable: every request failed"
    return scores, "partial" if failed else "ok"


# ------------------------------------------------------------------------------- parsing
def parse_query(text: str) -> tuple[str, str | None, str]:
    """A query from a plain-text (or ``{"query": ...}``) answer.

    The first non-empty line, without a leading ``Query:``-style label, quotes or markdown.

    Returns:
        ``(query, None, "")`` or ``("", error_kind, detail)`` with kind ``"empty-query"``.

    Example:
        >>> parse_query('  \\nGerman query: "wo liegt Berlin"\\nExplanation: ...')
        ('wo liegt Berlin', None, '')
        >>> parse_query('{"query": "¿dónde?"}'), parse_query("  ")[1]
        (('¿dónde?', None, ''), 'empty-query')
    """
    stripped = (text or "").strip()
    if stripped.startswith(("{", "```")):
        value, _ = parse_json(stripped)
        if isinstance(value, dict) and isinstance(value.get("query"), str):
            stripped = value["query"].strip()
    line = next((ln.strip() for ln in stripped.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line, count=1).strip().strip("*`\"'“”«»").strip()
    if not line:
        return "", "empty-query", "no query in the answer"
    return line, None, ""


# ---------------------------------------------------------------------------- generators
@dataclass(frozen=True)
class LLMOptions:
    """Options every LLM generation method has.

    Args:
        num_queries: Queries per (document, target language); more than one needs
            ``temperature > 0`` (each sample is a request with its own ``seed``).
        langs_per_doc: Target languages drawn per document from ``langs`` (``None``: all).
        temperature: Sampling temperature of the query-writing call.
        max_tokens: Most tokens of a query-writing answer.
        max_chars: Passage characters put in a prompt.
        max_failed_fraction: A chunk whose share of failed requests (after the client's
            retries) exceeds this raises :class:`~polyret.llm.LLMError` instead of being
            checkpointed, so a resumed run asks again; below it, failures become
            ``"request-failed"`` rows.
    """

    num_queries: int = 1
    langs_per_doc: int | None = None
    temperature: float = 0.0
    max_tokens: int = 128
    max_chars: int = 2000
    max_failed_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.num_queries < 1:
            raise InvalidInputError("num_queries must be ≥ 1", field="num_queries")
        if self.num_queries > 1 and self.temperature <= 0:
            raise InvalidInputError(
                "num_queries > 1 needs temperature > 0 (greedy answers would repeat)",
                field="temperature",
            )
        if self.langs_per_doc is not None and self.langs_per_doc < 1:
            raise InvalidInputError("langs_per_doc must be ≥ 1", field="langs_per_doc")
        if not 0 <= self.max_failed_fraction <= 1:
            raise InvalidInputError(
                "max_failed_fraction must lie in [0, 1]", field="max_failed_fraction"
            )


@dataclass(frozen=True)
class Target:
    """One query to write: a document, the query's language and the sample number."""

    doc: Document
    lang: str
    number: int

    def id(self, method: str) -> str:
        return example_id(method, self.doc.id, self.lang, self.number)


class LLMGenerator(BaseGenerator):
    """Base of the LLM generation methods: client, prompts, targets and row assembly.

    Args:
        llm: An :class:`~polyret.llm.LLMClient`, a dict of :func:`~polyret.llm.load_llm`
            options or a ``"backend:model"`` string.
        langs: Query languages (``"de,es"`` or a list); ``None``: each document's language.
        seed: Seed of the per-document random streams (and request seeds when sampling).
        prompts_dir: A folder whose files replace the packaged prompt templates.
        options: The method's options dataclass; ``**overrides`` replace its fields.
    """

    options_type: ClassVar[type[LLMOptions]] = LLMOptions

    def __init__(
        self,
        *,
        llm: LLMClient | Mapping[str, Any] | str,
        langs: Iterable[str] | str | None = None,
        seed: int = 0,
        prompts_dir: str | Path | None = None,
        options: LLMOptions | None = None,
        **overrides: Any,
    ) -> None:
        base = options if options is not None else self.options_type()
        if not isinstance(base, self.options_type):
            raise InvalidInputError(
                f"options must be {self.options_type.__name__}", field="options"
            )
        unknown = sorted(set(overrides) - {f for f in asdict(base)})
        if unknown:
            raise InvalidInputError(
                f"unknown option(s) {unknown} of {self.name}; valid: {sorted(asdict(base))}",
                field=unknown[0],
            )
        super().__init__(replace(base, **overrides) if overrides else base, seed=seed)
        self.client = resolve_llm(llm)
        given = target_langs(langs)
        self.langs = tuple(dict.fromkeys(normalize_lang_code(g) for g in given)) if given else None
        self.prompts = PromptSet(self.name, prompts_dir)
        self._language_names = self.prompts.languages()

    # configuration ------------------------------------------------------------------------
    def extra_config(self) -> dict[str, Any]:
        return {
            "langs": list(self.langs) if self.langs else None,
            "llm": llm_identity(self.client),
            "prompts": self.prompts.identity(),
        }

    def language(self, code: str) -> str:
        """The English name of a language code, as prompts name it (an undetermined
        language is "the passage's language")."""
        if code == UNKNOWN_LANG:
            return "the passage's language"
        return language_name(code, self._language_names)

    # targets ------------------------------------------------------------------------------
    def candidate_langs(self, doc: Document) -> list[str]:
        """The languages ``doc`` may get queries in (before ``langs_per_doc`` sampling)."""
        return list(self.langs) if self.langs else [doc.lang]

    def targets(self, docs: Sequence[Document]) -> list[Target]:
        """Every query to write for ``docs``; language draws come from each document's
        own random stream, so they do not depend on chunking."""
        out: list[Target] = []
        per_doc = self.options.langs_per_doc
        for doc in docs:
            langs = self.candidate_langs(doc)
            if per_doc is not None and per_doc < len(langs):
                picked = self.rng(doc.id).choice(len(langs), size=per_doc, replace=False)
                langs = [langs[i] for i in sorted(picked.tolist())]
            out.extend(
                Target(doc, lang, n) for lang in langs for n in range(self.options.num_queries)
            )
        return out

    def params(self, number: int = 0) -> dict[str, Any]:
        """Generation parameters of the query-writing call of sample ``number``."""
        params: dict[str, Any] = {
            "temperature": self.options.temperature,
            "max_tokens": self.options.max_tokens,
        }
        if self.options.temperature > 0:
            params["seed"] = self.seed * 1000 + number
        return params

    def ask(
        self, prompts: Sequence[str], targets: Sequence[Target], **params: Any
    ) -> list[LLMResponse]:
        """Send one user prompt per target, batched per sample number (each has its own
        ``seed`` when sampling) through ``chat_many``; answers in input order."""
        answers: list[LLMResponse | None] = [None] * len(prompts)
        for number in sorted({t.number for t in targets}):
            rows = [i for i, t in enumerate(targets) if t.number == number]
            batch = self.client.chat_many(
                [[{"role": "user", "content": prompts[i]}] for i in rows],
                raise_on_error=False,
                **{**self.params(number), **params},
            )
            for i, answer in zip(rows, batch, strict=True):
                answers[i] = answer
        return answers  # type: ignore[return-value]

    def passage(self, doc: Document) -> str:
        """The passage as prompts show it: title and text, cut to ``max_chars``."""
        text = f"{doc.title}\n{doc.text}" if doc.title else doc.text
        return text[: self.options.max_chars]

    # rows ---------------------------------------------------------------------------------
    def row(
        self,
        target: Target,
        query: str,
        *,
        prompt_id: str,
        raw: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
        **columns: Any,
    ) -> dict[str, Any]:
        """One example row (the source document is the positive unless overridden)."""
        doc = target.doc
        row: dict[str, Any] = {
            "id": target.id(self.name),
            "query": query,
            "lang": target.lang,
            "positive_id": doc.id,
            "positive": doc.text,
            "positive_lang": doc.lang,
            "source_id": doc.id,
            "method": self.name,
            "prompt_id": prompt_id,
            "model": str(self.client.model),
            "raw": json.dumps(dict(raw), ensure_ascii=False, sort_keys=True),
            "meta": _clean(dict(meta or {})),
        }
        row.update(columns)
        return row

    def failed_row(
        self,
        target: Target,
        kind: str,
        detail: str,
        *,
        prompt_id: str,
        raw: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A row recording an unusable answer (query :data:`MALFORMED_QUERY`)."""
        info = {**(meta or {}), "error": kind, "detail": detail[:300]}
        return self.row(target, MALFORMED_QUERY, prompt_id=prompt_id, raw=raw, meta=info)

    def check_failures(self, answers: Sequence[LLMResponse], step: str) -> None:
        """Raise when more than ``max_failed_fraction`` of a chunk's requests failed.

        Raises:
            LLMError: the chunk is not checkpointed; a re-run resumes it.
        """
        failed = [a for a in answers if not a.ok]
        if failed and len(failed) > self.options.max_failed_fraction * len(answers):
            raise LLMError(
                f"{self.name} {step}: {len(failed)} of {len(answers)} requests failed "
                f"(first: {failed[0].error}); re-run to resume"
            )
        if failed:
            log.warning(
                "%s %s: %d of %d requests failed", self.name, step, len(failed), len(answers)
            )


def _clean(value: Any) -> Any:
    """JSON-safe meta: nan/inf → None, tuples → lists, dataclasses → dicts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _clean(asdict(value))
    return value


def prompt_id(template: Template, *parts: str) -> str:
    """``"<template id>@<sha256[:12] of the template and every other prompt text used>"``.

    Example:
        >>> prompt_id(Template("swim-ir/ask.txt", "Q: {passage}"), "exemplars")[:16]
        'swim-ir/ask.txt@'
    """
    return f"{template.id}@{_sha(chr(31).join([template.text, *parts]))[:12]}"


# -------------------------------------------------------------------------------- filter
class MalformedFilter:
    """Drops rows whose LLM answer was unusable, with the error kind as the reason.

    Such rows (query :data:`MALFORMED_QUERY`, ``meta["error"]`` set) keep the raw answer
    in the generated set for inspection; this filter takes them out and the funnel counts
    them (``"request-failed"``, ``"no-json"``, ``"missing-field"``, ``"empty-query"``,
    ``"empty-summary"``) per language.

    Example:
        >>> from polyret.types import TrainingSet
        >>> ts = TrainingSet.from_records([
        ...     {"id": "a", "query": "wo liegt Berlin", "positive": "p"},
        ...     {"id": "b", "query": MALFORMED_QUERY, "positive": "p",
        ...      "meta": {"error": "no-json"}}])
        >>> MalformedFilter().judge(ts).reasons
        ['', 'no-json']
    """

    name: ClassVar[str] = "malformed"

    @property
    def config(self) -> dict[str, Any]:
        return {"filter": self.name}

    def judge(self, examples: TrainingSet) -> Verdict:
        reasons = []
        for meta in examples.column("meta"):
            error = _meta(meta).get("error")
            reasons.append(str(error) if error else "")
        return Verdict.from_reasons(reasons)


def _meta(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
