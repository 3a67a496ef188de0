"""BEIR folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

Also reads MIRACL-style topics (``id<TAB>text``) and qrels in either BEIR TSV or TREC form.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from polyret.errors import InvalidInputError
from polyret.io.artifact import META_FILE, read_meta, write_meta
from polyret.io.atomic import atomic_directory, atomic_write
from polyret.io.jsonl import Field, read_jsonl_table, write_jsonl
from polyret.io.tabular import first_line, read_columns
from polyret.io.trec import build_ranking, read_trec_qrels
from polyret.types import UNKNOWN_LANG, Corpus, Dataset, Qrels, Queries

_CORPUS_FIELDS = (
    Field("id", ("_id", "docid", "doc_id", "id"), required=True),
    Field("text", ("text", "contents"), required=True),
    Field("title", ("title",)),
    Field("lang", ("lang", "language")),
)
_QUERY_FIELDS = (
    Field("id", ("_id", "query_id", "qid", "id"), required=True),
    Field("text", ("text", "query", "title"), required=True),
    Field("lang", ("lang", "language")),
)
_BEIR_QRELS_HEADER = ("query-id", "corpus-id", "score")


def read_corpus(path: str | Path, lang: str | None = None) -> Corpus:
    """Read a BEIR ``corpus.jsonl`` (``.gz`` allowed; ``_id``, ``text``, ``title``, ``lang``).

    Args:
        path: The JSONL file.
        lang: Language of records that carry none (default ``"und"``).
    """
    return Corpus(_with_default_lang(read_jsonl_table(path, _CORPUS_FIELDS), lang))


def read_queries(path: str | Path, lang: str | None = None) -> Queries:
    """Read queries from BEIR ``queries.jsonl`` or a ``id<TAB>text`` topics file (MIRACL)."""
    path = Path(path)
    if _is_jsonl(path):
        table = read_jsonl_table(path, _QUERY_FIELDS)
    else:
        table = read_columns(path, ("id", "text"), {}, delimiter="\t", max_split=1)
        table = table.append_column("lang", pa.array([""] * table.num_rows, pa.string()))
    return Queries(_with_default_lang(table, lang))


def read_qrels(path: str | Path) -> Qrels:
    """Read qrels as BEIR TSV (``query-id corpus-id score``, header optional) or TREC qrels."""
    path = Path(path)
    first = first_line(path)
    if first is None:
        raise InvalidInputError("no records (the file is empty)", path=path)
    if len(first.split()) == 4:
        return read_trec_qrels(path)
    table = read_columns(
        path,
        ("query_id", "doc_id", "relevance"),
        {"relevance": pa.int64()},
        delimiter="\t",
        skip_header=lambda fields: tuple(f.strip() for f in fields) == _BEIR_QRELS_HEADER,
    )
    return build_ranking(Qrels, path, table, "relevance", pair_columns=(0, 1))


def read_beir(folder: str | Path, name: str | None = None, lang: str | None = None) -> Dataset:
    """Read a BEIR folder: corpus, queries and every ``qrels/*.tsv`` split.

    Raises:
        InvalidInputError: when a file is missing or bad, or qrels name unknown queries.
    """
    folder = Path(folder)
    corpus = read_corpus(_one_of(folder, "corpus"), lang)
    queries = read_queries(_one_of(folder, "queries"), lang)
    split_files = sorted((folder / "qrels").glob("*.tsv"))
    if not split_files:
        raise InvalidInputError("no qrels/<split>.tsv files", path=folder / "qrels")
    qrels = {f.stem: read_qrels(f) for f in split_files}
    for split, judged in qrels.items():
        unknown = [q for q in judged if q not in queries]
        if unknown:
            raise InvalidInputError(
                f"{len(unknown)} judged queries are not in the queries file, e.g. {unknown[0]!r}",
                path=folder / "qrels" / f"{split}.tsv",
                field="query-id",
            )
    metadata = _read_metadata(folder)
    return Dataset(name or folder.name, corpus, queries, qrels, metadata)


def write_beir(dataset: Dataset, folder: str | Path, *, overwrite: bool = False) -> None:
    """Write ``dataset`` as a BEIR folder, atomically (it appears complete or not at all)."""
    with atomic_directory(folder, overwrite=overwrite) as tmp:
        write_corpus(dataset.corpus, tmp / "corpus.jsonl")
        write_queries(dataset.queries, tmp / "queries.jsonl")
        for split, qrels in dataset.qrels.items():
            write_qrels(qrels, tmp / "qrels" / f"{split}.tsv")
        write_meta(tmp, "dataset", 1, name=dataset.name, **dataset.metadata)


def write_corpus(corpus: Corpus, path: str | Path) -> None:
    """Write a corpus as BEIR JSONL (``_id``, ``title``, ``text``, ``lang``)."""
    table = corpus.table.select(["id", "title", "text", "lang"])
    write_jsonl(path, table, rename={"id": "_id"})


def write_queries(queries: Queries, path: str | Path) -> None:
    """Write queries as BEIR JSONL (``_id``, ``text``, ``lang``)."""
    write_jsonl(path, queries.table, rename={"id": "_id"})


def write_qrels(qrels: Qrels, path: str | Path) -> None:
    """Write qrels as BEIR TSV with its header line."""
    query_ids, doc_ids, relevance = Qrels.from_dict(qrels).to_arrays()
    with atomic_write(path) as handle:
        handle.write("\t".join(_BEIR_QRELS_HEADER) + "\n")
        handle.writelines(
            f"{q}\t{d}\t{r}\n"
            for q, d, r in zip(query_ids, doc_ids, relevance.tolist(), strict=True)
        )


def _with_default_lang(table: pa.Table, lang: str | None) -> pa.Table:
    column = table.column("lang")
    filled = pc.if_else(pc.equal(column, ""), lang or UNKNOWN_LANG, column)
    return table.set_column(table.column_names.index("lang"), "lang", filled)


def _is_jsonl(path: Path) -> bool:
    return ".jsonl" in path.suffixes or ".json" in path.suffixes


def _one_of(folder: Path, stem: str) -> Path:
    for suffix in (".jsonl", ".jsonl.gz"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    raise InvalidInputError(f"missing {stem}.jsonl", path=folder)


def _read_metadata(folder: Path) -> dict:
    """What ``polyret.json`` says about a dataset beyond its type, format and name."""
    if not (folder / META_FILE).is_file():
        return {}
    meta = read_meta(folder, "dataset")
    return {k: v for k, v in meta.items() if k not in ("type", "format", "version", "name")}
