"""Adapters: collections from ir_datasets and from Hugging Face datasets in BEIR layout.

Nothing is downloaded on purpose here: the adapters read what ``ir_datasets`` or
``datasets`` can open locally (their caches, or a folder on disk). With ``HF_HUB_OFFLINE=1``
a Hub dataset that is not cached fails at once with :class:`DatasetNotAvailableError`.

Both are reachable by name through :func:`polyret.datasets.load`::

    load("irds:miracl/sw/dev")                        # corpus + the dev split's queries/qrels
    load("irds:miracl/sw?splits=dev,train")           # several splits of one corpus
    load("irds:neuclir/1/fa/trec-2022?query_lang=en&query_field=title")
    load("hf:mteb/scifact")                           # configs corpus / queries / default
    load("hf:/data/my-beir-copy?subset=sw&lang=sw")   # configs sw-corpus / sw-queries / sw-qrels

Options after ``?`` are the keyword arguments of :func:`from_ir_datasets` /
:func:`from_hf` (lists comma-separated).
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from polyret.errors import InvalidInputError, PolyretError
from polyret.optional import require
from polyret.types import UNKNOWN_LANG, Corpus, Dataset, Qrels, Queries

log = logging.getLogger(__name__)

SCHEMES = ("irds", "hf")
"""URI schemes :func:`load_uri` understands."""

_BATCH = 100_000

_IRDS_LANGS = {"dt": "nl"}
"""Codes ir_datasets uses that are not language codes (mMARCO's Dutch is ``dt``)."""


class DatasetNotAvailableError(PolyretError, FileNotFoundError):
    """The collection exists in principle but cannot be read here (not downloaded or cached)."""


# ------------------------------------------------------------------------------ ir_datasets
def from_ir_datasets(
    dataset_id: str,
    *,
    splits: Sequence[str] | str | None = None,
    lang: str | None = None,
    query_lang: str | None = None,
    query_field: str | None = None,
    name: str | None = None,
    show_progress: bool = False,
) -> Dataset:
    """Read an `ir_datasets <https://ir-datasets.com>`_ collection into a :class:`Dataset`.

    The corpus comes from ``dataset_id`` (every ir_datasets sub-collection inherits its
    parent's documents); queries and qrels come from ``dataset_id`` itself, named after its
    last path part (``"miracl/sw/dev"`` → split ``"dev"``), or from ``dataset_id/<split>`` for
    each of ``splits``. ir_datasets must have the files already (``~/.ir_datasets``, or
    ``$IR_DATASETS_HOME``): reading a collection it has not downloaded makes it try to
    download, which fails offline with :class:`DatasetNotAvailableError`.

    Args:
        dataset_id: An ir_datasets id, e.g. ``"miracl/sw/dev"`` or ``"mr-tydi/sw"``.
        splits: Sub-collections holding queries and qrels (``["dev", "train"]``); default:
            ``dataset_id`` itself, which must then have qrels.
        lang: Language of the documents (default: ir_datasets' ``docs_lang()``).
        query_lang: Language of the queries (default: ``queries_lang()``, else ``lang``).
            Set it for cross-language collections whose topics ir_datasets does not label,
            e.g. ``"en"`` for NeuCLIR's English topics.
        query_field: The query attribute used as text (default ``text``, else the query
            type's ``default_text()``), e.g. ``"title"``, ``"description"`` or, for NeuCLIR's
            human translations, ``"ht_title"``.
        name: Dataset name (default ``"irds:<dataset_id>"``).
        show_progress: Progress bar while reading documents.

    Returns:
        A :class:`~polyret.types.Dataset` with one qrels table per split.

    Raises:
        MissingExtraError: when ``ir_datasets`` is not installed (``polyret[irds]``).
        UnknownNameError: for an id ir_datasets does not know (with close matches).
        DatasetNotAvailableError: when the files are not on this machine.
        InvalidInputError: when the collection has no documents, or no qrels and no splits.

    Example:
        >>> from polyret.datasets import from_ir_datasets
        >>> dataset = from_ir_datasets("miracl/sw/dev")  # doctest: +SKIP
        >>> dataset.splits, sorted(dataset.corpus.languages())  # doctest: +SKIP
        (['dev'], ['sw'])
    """
    irds = require("ir_datasets", "irds", "reading ir_datasets collections", package="ir-datasets")
    root = _irds_load(irds, dataset_id)
    if not root.has_docs():
        raise InvalidInputError(f"ir_datasets collection {dataset_id!r} has no documents")
    split_names = [splits] if isinstance(splits, str) else list(splits or [])
    if split_names:
        parts = {s: _irds_load(irds, f"{dataset_id}/{s}") for s in split_names}
    elif root.has_qrels():
        parts = {dataset_id.rstrip("/").rsplit("/", 1)[-1]: root}
    else:
        children = sorted(
            k[len(dataset_id) + 1 :]
            for k in irds.registry
            if k.startswith(dataset_id + "/") and "/" not in k[len(dataset_id) + 1 :]
        )
        raise InvalidInputError(
            f"ir_datasets collection {dataset_id!r} has no qrels: name a sub-collection "
            f"(e.g. {dataset_id}/dev) or pass splits (available: {', '.join(children) or '-'})",
            field="splits",
        )
    doc_lang = _lang(lang or _call(root, "docs_lang"))
    with _unavailable(dataset_id):
        corpus = _irds_corpus(root, doc_lang, show_progress)
        queries_tables, qrels = [], {}
        for split, part in parts.items():
            if not (part.has_queries() and part.has_qrels()):
                raise InvalidInputError(
                    f"ir_datasets collection {dataset_id}/{split} has no queries or no qrels",
                    field="splits",
                )
            q_lang = _lang(query_lang or _call(part, "queries_lang") or doc_lang)
            queries_tables.append(_irds_queries(part, q_lang, query_field))
            qrels[split] = _irds_qrels(part)
    return Dataset(
        name or f"irds:{dataset_id}",
        corpus,
        Queries(_first_of_each_id(queries_tables)),
        qrels,
        metadata={"source": "ir_datasets", "id": dataset_id, "splits": list(parts)},
    )


def _lang(code: str | None) -> str:
    """A language code in polyret's canonical form (ISO 639-1 where one exists)."""
    from polyret.text.langcodes import normalize_lang_code

    if not code:
        return UNKNOWN_LANG
    return normalize_lang_code(_IRDS_LANGS.get(code, code))


def _irds_load(irds: Any, dataset_id: str) -> Any:
    try:
        return irds.load(dataset_id)
    except KeyError:
        from polyret.errors import UnknownNameError

        known = list(irds.registry)
        raise UnknownNameError(
            "ir_datasets collection",
            dataset_id,
            [k for k in known if "/" not in k],
            difflib.get_close_matches(dataset_id, known),
        ) from None


def _call(dataset: Any, method: str) -> str | None:
    try:
        value = getattr(dataset, method)()
    except (AttributeError, NotImplementedError):
        return None
    return value or None


def _irds_corpus(dataset: Any, lang: str, show_progress: bool) -> Corpus:
    doc_cls = dataset.docs_cls()
    has_title = "title" in getattr(doc_cls, "_fields", ())
    total = None
    if show_progress:
        try:
            total = dataset.docs_count()
        except Exception:  # count is an optional nicety
            total = None

    def rows() -> Iterator[tuple[str, str, str]]:
        for doc in tqdm(dataset.docs_iter(), total=total, disable=not show_progress, unit="doc"):
            text = doc.text if hasattr(doc, "text") else doc.default_text()
            yield doc.doc_id, text, doc.title if has_title else ""

    tables = [
        pa.table(
            {
                "id": pa.array([r[0] for r in batch], pa.string()),
                "text": pa.array([r[1] for r in batch], pa.string()),
                "title": pa.array([r[2] for r in batch], pa.string()),
                "lang": pa.array([lang] * len(batch), pa.string()),
            }
        )
        for batch in _batched(rows(), _BATCH)
    ]
    if not tables:
        raise InvalidInputError("the ir_datasets collection has no documents")
    return Corpus(pa.concat_tables(tables))


def _irds_queries(dataset: Any, lang: str, field: str | None) -> pa.Table:
    ids, texts = [], []
    for query in dataset.queries_iter():
        if field is not None:
            if not hasattr(query, field):
                raise InvalidInputError(
                    f"queries have no field {field!r}; fields: {', '.join(query._fields)}",
                    field="query_field",
                )
            text = getattr(query, field)
        else:
            text = query.text if hasattr(query, "text") else query.default_text()
        ids.append(query.query_id)
        texts.append(text)
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "text": pa.array(texts, pa.string()),
            "lang": pa.array([lang] * len(ids), pa.string()),
        }
    )


def _irds_qrels(dataset: Any) -> Qrels:
    q, d, r = [], [], []
    for qrel in dataset.qrels_iter():
        q.append(qrel.query_id)
        d.append(qrel.doc_id)
        r.append(int(qrel.relevance))
    return Qrels.from_arrays(q, d, r)


@contextlib.contextmanager
def _unavailable(dataset_id: str) -> Iterator[None]:
    """Turn "ir_datasets tried to download and could not" into DatasetNotAvailableError."""
    try:
        yield
    except PolyretError:
        raise
    except (OSError, RuntimeError) as error:  # ConnectionError is an OSError
        raise DatasetNotAvailableError(
            f"ir_datasets cannot read {dataset_id!r} here ({type(error).__name__}: {error}); "
            f"download it where there is network (e.g. `ir_datasets export {dataset_id} docs "
            "> /dev/null`) and copy ~/.ir_datasets (or set $IR_DATASETS_HOME)"
        ) from error


# ------------------------------------------------------------------------------ Hugging Face
@dataclass(frozen=True)
class HFLayout:
    """Config names of a BEIR-layout Hugging Face dataset.

    With a ``subset`` (see :func:`from_hf`) each name is prefixed: ``"sw-corpus"``.

    Attributes:
        corpus: Config (or sub-folder) with the documents: ``_id``/``id``, ``text``,
            optional ``title`` and ``lang``.
        queries: Config with the queries: ``_id``/``id``, ``text``/``query``, optional ``lang``.
        qrels: Config with the judgments, one split per evaluation split: ``query-id``,
            ``corpus-id``, ``score`` (or ``query_id``/``doc_id``/``relevance``). Default: the
            first of ``qrels`` and ``default`` that exists.
        qrels_path: A different dataset holding the qrels (BEIR's own Hub copies keep them
            in ``<name>-qrels``); its ``qrels`` config, else its default one.
    """

    corpus: str = "corpus"
    queries: str = "queries"
    qrels: str | None = None
    qrels_path: str | None = None


_ID = ("_id", "id", "doc_id", "docid", "query_id", "qid")
_TEXT = ("text", "query", "contents", "question")
_LANG = ("lang", "language")
_Q_ID = ("query-id", "query_id", "qid")
_D_ID = ("corpus-id", "corpus_id", "doc_id", "docid", "pid")
_REL = ("score", "relevance", "label", "rel")


def from_hf(
    path: str,
    *,
    subset: str | None = None,
    lang: str | None = None,
    splits: Sequence[str] | str | None = None,
    layout: HFLayout | None = None,
    revision: str | None = None,
    name: str | None = None,
) -> Dataset:
    """Read a Hugging Face dataset in BEIR layout (corpus / queries / qrels configs).

    ``path`` is a Hub id that ``datasets`` has cached (``mteb/scifact``; with
    ``HF_HUB_OFFLINE=1`` nothing is fetched), a local clone of such a repository, or a
    local folder with one sub-folder per config, each either written by
    ``DatasetDict.save_to_disk`` or holding data files (``.parquet``, ``.jsonl``,
    ``.json``, ``.csv``) whose name before the first ``-``/``.`` is the split
    (``dev-00000-of-00001.parquet`` → ``dev``).

    Args:
        path: Hub id or local folder.
        subset: Prefix of the config names (``"sw"`` → ``sw-corpus``, ``sw-queries``,
            ``sw-qrels``), as multilingual BEIR-style datasets name them.
        lang: Language of records without a ``lang``/``language`` column (default:
            ``subset``, else ``"und"``).
        splits: The qrels splits to keep (default: all).
        layout: Config names when they differ from ``corpus``/``queries``/``qrels``.
        revision: Hub revision (branch, tag or commit).
        name: Dataset name (default ``"hf:<path>"``, plus ``/<subset>``).

    Returns:
        A :class:`~polyret.types.Dataset` with one qrels table per qrels split.

    Raises:
        MissingExtraError: when ``datasets`` is not installed (``polyret[hf]``).
        DatasetNotAvailableError: when the dataset is neither local nor cached.
        InvalidInputError: for a missing config, split or column.

    Example:
        >>> from polyret.datasets import from_hf
        >>> dataset = from_hf("mteb/scifact")  # doctest: +SKIP
        >>> dataset.splits  # doctest: +SKIP
        ['test', 'train']
    """
    layout = layout or HFLayout()
    record_lang = _lang(lang or subset)

    def config(base: str) -> str:
        return f"{subset}-{base}" if subset else base

    reader = _HFReader(path, revision)
    corpus_table = _with_columns(
        reader.table(config(layout.corpus)), "corpus", record_lang, title=True
    )
    queries_table = _with_columns(
        reader.table(config(layout.queries)), "queries", record_lang, title=False
    )
    if layout.qrels_path is not None:
        qrels_reader = _HFReader(layout.qrels_path, revision)
        candidates = [layout.qrels] if layout.qrels else ["qrels", "default"]
    else:
        qrels_reader = reader
        candidates = [config(layout.qrels)] if layout.qrels else [config("qrels"), "default"]
    qrels_splits = qrels_reader.splits(candidates)
    wanted = [splits] if isinstance(splits, str) else list(splits or qrels_splits)
    missing = [s for s in wanted if s not in qrels_splits]
    if missing:
        raise InvalidInputError(
            f"{path}: no qrels split {missing[0]!r} (splits: {', '.join(qrels_splits)})",
            field="splits",
        )
    qrels = {s: _qrels_from(qrels_splits[s], f"{path} qrels {s}") for s in wanted}
    return Dataset(
        name or f"hf:{path}" + (f"/{subset}" if subset else ""),
        Corpus(corpus_table),
        Queries(queries_table),
        qrels,
        metadata={"source": "huggingface", "path": path, "subset": subset, "splits": wanted},
    )


class _HFReader:
    """Opens configs of one dataset: a saved-to-disk folder, data files, or a (cached) repo."""

    def __init__(self, path: str, revision: str | None) -> None:
        self.datasets = require(
            "datasets", "hf", "reading Hugging Face datasets", package="datasets"
        )
        self.path = path
        self.revision = revision
        self.local = Path(path).expanduser()
        self.is_local = self.local.is_dir()
        if not self.is_local and (path.startswith((".", "/", "~")) or path.count("/") > 1):
            raise DatasetNotAvailableError(f"{path} is not a folder")

    def splits(self, configs: Sequence[str]) -> dict[str, pa.Table]:
        """``{split: table}`` of the first of ``configs`` that exists."""
        errors = []
        for config in configs:
            try:
                return self._open(config)
            except _NoConfig as error:
                errors.append(str(error))
        raise InvalidInputError(
            f"{self.path}: none of the configs {', '.join(map(repr, configs))} exists "
            f"({'; '.join(errors)})",
            field="config",
        )

    def table(self, config: str) -> pa.Table:
        """Every split of ``config`` in one table (ids repeated across splits kept once)."""
        try:
            parts = self._open(config)
        except _NoConfig as error:
            raise InvalidInputError(f"{self.path}: {error}", field="config") from None
        return _first_of_each_id(list(parts.values()), id_columns=_ID)

    def _open(self, config: str) -> dict[str, pa.Table]:
        if self.is_local:
            folder = self.local / config
            if (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file():
                return self._as_tables(self.datasets.load_from_disk(str(folder)))
            if folder.is_dir():
                return self._from_files(folder)
            if not (self.local / "README.md").is_file():
                raise _NoConfig(f"no sub-folder {config!r} in {self.local}")
        try:
            loaded = self.datasets.load_dataset(
                str(self.local) if self.is_local else self.path, config, revision=self.revision
            )
        except ValueError as error:  # unknown config name
            if "config" in str(error).lower() or "BuilderConfig" in str(error):
                raise _NoConfig(f"no config {config!r}") from None
            raise
        except (ConnectionError, FileNotFoundError) as error:
            raise DatasetNotAvailableError(
                f"{self.path} (config {config!r}) is neither a local folder nor in the "
                f"Hugging Face cache ({type(error).__name__}: {error}); download it where there "
                "is network, e.g. datasets.load_dataset(...).save_to_disk(folder), and pass "
                "the folder"
            ) from error
        return self._as_tables(loaded)

    def _from_files(self, folder: Path) -> dict[str, pa.Table]:
        files: dict[str, list[str]] = {}
        kinds = set()
        for file in sorted(folder.rglob("*")):
            kind = _file_kind(file)
            if kind is None:
                continue
            relative = file.relative_to(folder)
            split = (
                relative.parts[0]
                if len(relative.parts) > 1
                else re.split(r"[-.]", file.name, maxsplit=1)[0]
            )
            files.setdefault(split, []).append(str(file))
            kinds.add(kind)
        if not files:
            raise _NoConfig(f"no data files in {folder}")
        if len(kinds) > 1:
            raise InvalidInputError(f"{folder} mixes data file types {sorted(kinds)}")
        loaded = self.datasets.load_dataset(kinds.pop(), data_files=files)
        return self._as_tables(loaded)

    def _as_tables(self, loaded: Any) -> dict[str, pa.Table]:
        if isinstance(loaded, self.datasets.Dataset):
            loaded = {"data": loaded}
        return {split: ds.with_format("arrow")[: len(ds)] for split, ds in loaded.items()}


class _NoConfig(Exception):
    pass


def _file_kind(path: Path) -> str | None:
    name = path.name.lower()
    if not path.is_file() or name.startswith("."):
        return None
    for suffixes, kind in (
        ((".parquet",), "parquet"),
        ((".jsonl", ".jsonl.gz", ".json", ".json.gz"), "json"),
        ((".csv", ".csv.gz"), "csv"),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def _column(table: pa.Table, names: Sequence[str]) -> str | None:
    for name in names:
        if name in table.column_names:
            return name
    return None


def _with_columns(table: pa.Table, what: str, lang: str, *, title: bool) -> pa.Table:
    """Map BEIR/HF column names onto polyret's ``id``, ``text``, (``title``), ``lang``."""
    id_col = _column(table, _ID)
    text_col = _column(table, _TEXT)
    if id_col is None or text_col is None:
        lacking = "an id column (_id, id)" if id_col is None else "a text column (text, query)"
        raise InvalidInputError(
            f"{what} table lacks {lacking}; columns: {', '.join(table.column_names)}",
            field=what,
        )
    n = table.num_rows
    columns = {
        "id": pc.cast(table.column(id_col), pa.string()),
        "text": pc.cast(table.column(text_col), pa.string()),
    }
    if title:
        columns["title"] = (
            pc.cast(table.column("title"), pa.string())
            if "title" in table.column_names
            else pa.array([""] * n, pa.string())
        )
    lang_col = _column(table, _LANG)
    fill = pa.array([lang] * n, pa.string())
    if lang_col is None:
        columns["lang"] = fill
    else:
        values = pc.cast(table.column(lang_col), pa.string())
        empty = pc.or_kleene(pc.is_null(values), pc.equal(values, ""))
        values = pc.if_else(pc.fill_null(empty, True), fill, values)
        codes = pc.unique(values).to_pylist()
        canonical = [_lang(c) for c in codes]
        if canonical != codes:  # e.g. MKQA's zh_cn, or ISO 639-3 codes
            index = pc.index_in(values, pa.array(codes, pa.string()))
            values = pc.take(pa.array(canonical, pa.string()), index)
        columns["lang"] = values
    return pa.table(columns)


def _qrels_from(table: pa.Table, source: str) -> Qrels:
    q, d, r = (_column(table, names) for names in (_Q_ID, _D_ID, _REL))
    if q is None or d is None or r is None:
        raise InvalidInputError(
            "qrels need query-id, corpus-id and score columns; columns: "
            + ", ".join(table.column_names),
            path=source,
        )
    return Qrels.from_arrays(
        pc.cast(table.column(q), pa.string()).to_numpy(zero_copy_only=False),
        pc.cast(table.column(d), pa.string()).to_numpy(zero_copy_only=False),
        pc.cast(table.column(r), pa.int64()).to_numpy(zero_copy_only=False),
        source=source,
    )


def _first_of_each_id(tables: list[pa.Table], id_columns: Sequence[str] = ("id",)) -> pa.Table:
    """Concatenate tables, keeping the first row of every id."""
    table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    if len(tables) == 1:
        return table
    id_col = _column(table, id_columns) or "id"
    ids = pc.cast(table.column(id_col), pa.string()).to_pylist()
    seen: set[str] = set()
    keep = []
    for i, value in enumerate(ids):
        if value not in seen:
            seen.add(value)
            keep.append(i)
    return table.take(pa.array(keep, pa.int64()))


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# ------------------------------------------------------------------------------- URIs
_LOADERS: dict[str, Callable[..., Dataset]] = {"irds": from_ir_datasets, "hf": from_hf}
_LIST_OPTIONS = {"splits"}
_OPTIONS = {
    "irds": ("splits", "lang", "query_lang", "query_field", "name"),
    "hf": ("subset", "lang", "splits", "revision", "name", *(f.name for f in fields(HFLayout))),
}


def is_uri(name: str) -> bool:
    """Whether ``name`` is ``irds:...`` or ``hf:...``."""
    scheme, sep, _ = name.partition(":")
    return bool(sep) and scheme in SCHEMES


def load_uri(uri: str) -> Dataset:
    """Load ``irds:<id>[?options]`` or ``hf:<path>[?options]`` (see the module docstring).

    Raises:
        InvalidInputError: for an unknown scheme or option.
    """
    scheme, _, rest = uri.partition(":")
    if scheme not in _LOADERS:
        raise InvalidInputError(f"unknown dataset scheme {scheme!r}; valid: {', '.join(SCHEMES)}")
    target, _, query = rest.partition("?")
    if not target:
        raise InvalidInputError(f"{uri!r} names no dataset after {scheme}:")
    options: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        if key not in _OPTIONS[scheme]:
            close = difflib.get_close_matches(key, _OPTIONS[scheme])
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidInputError(
                f"unknown option {key!r} for {scheme}: datasets{hint}; valid: "
                + ", ".join(_OPTIONS[scheme]),
                field=key,
            )
        options[key] = [v for v in value.split(",") if v] if key in _LIST_OPTIONS else value
    if scheme == "hf":
        layout = {f.name: options.pop(f.name) for f in fields(HFLayout) if f.name in options}
        if layout:
            options["layout"] = HFLayout(**layout)
    return _LOADERS[scheme](target, **options)
