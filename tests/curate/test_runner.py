"""The resumable generate() runner and the funnel summary, with a small word-sampling method."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from polyret.curate import BaseGenerator, Verdict, apply_filters, example_id, generate
from polyret.curate.runner import _claim, _job_key
from polyret.curate.runner import chunked as _chunked
from polyret.curate.summary import funnel_markdown, funnel_rows
from polyret.errors import OutputExistsError
from polyret.types import Corpus, Document, TrainingSet


@dataclass(frozen=True)
class WordsOptions:
    words: int = 3


class RandomWords(BaseGenerator):
    """Query = a few random words of the document (enough to exercise the runner)."""

    name = "random-words"

    def __init__(self, *, seed: int = 0, words: int = 3) -> None:
        super().__init__(WordsOptions(words), seed=seed)
        self.calls = 0

    def examples_for(self, doc: Document) -> list[dict[str, Any]]:
        self.calls += 1
        words = doc.text.split()
        picked = self.rng(doc.id).choice(words, min(self.options.words, len(words)))
        return [
            {
                "id": example_id(self.name, doc.id, doc.lang),
                "query": " ".join(picked),
                "lang": doc.lang,
                "positive_id": doc.id,
                "positive": doc.text,
                "method": self.name,
            }
        ]


class ShortQueries:
    """Drops queries of fewer than ``n`` characters."""

    name = "short"

    def __init__(self, n: int) -> None:
        self.n = n

    @property
    def config(self) -> dict[str, Any]:
        return {"n": self.n}

    def judge(self, examples: TrainingSet) -> Verdict:
        return Verdict.from_reasons(
            ["short" if len(q) < self.n else "" for q in examples.column("query")]
        )


@pytest.fixture(scope="module")
def corpus(xquad_r) -> Corpus:
    documents = xquad_r.corpus.filter(lang=["de", "zh", "ar"])
    return documents.take(range(0, len(documents), 8))


def test_output_does_not_depend_on_chunking(corpus: Corpus, tmp_path) -> None:
    whole = generate(RandomWords(), corpus)
    chunked = generate(RandomWords(), corpus, tmp_path / "out", chunk_size=7)
    assert chunked == whole and len(whole) == len(corpus)
    assert generate(RandomWords(seed=1), corpus) != whole
    saved = TrainingSet.load(tmp_path / "out")
    assert saved == whole and saved.provenance["corpus"]["sha256"] == corpus.fingerprint()
    assert saved.provenance["generator"] == {"method": "random-words", "seed": 0, "words": 3}
    assert not (tmp_path / ".out.parts").exists()
    with pytest.raises(OutputExistsError):
        generate(RandomWords(), corpus, tmp_path / "out")


def test_resume_skips_finished_chunks_and_writes_the_same_bytes(corpus: Corpus, tmp_path) -> None:
    generate(RandomWords(), corpus, tmp_path / "fresh", chunk_size=10)
    # simulate a run killed after three chunks: its shards are left in the parts folder
    parts = tmp_path / ".resumed.parts"
    parts.mkdir()
    first = RandomWords()
    for number, chunk in enumerate(list(corpus.batches(10))[:3]):
        pq.write_table(first.generate(chunk).table, parts / f"part-{number:06d}.parquet")
    _claim(parts, _job_key(RandomWords(), corpus))
    resumed = RandomWords()
    generate(resumed, corpus, tmp_path / "resumed", chunk_size=10)
    assert resumed.calls == len(corpus) - 30  # the three finished chunks were not redone
    for name in ("examples.parquet", "polyret.json"):
        assert (tmp_path / "resumed" / name).read_bytes() == (
            tmp_path / "fresh" / name
        ).read_bytes()


def test_shards_of_another_configuration_are_discarded(corpus: Corpus, tmp_path) -> None:
    parts = tmp_path / ".out.parts"
    parts.mkdir()
    other = RandomWords(words=5)
    pq.write_table(other.generate(corpus.take(range(10))).table, parts / "part-000000.parquet")
    _claim(parts, _job_key(other, corpus))
    result = generate(RandomWords(), corpus, tmp_path / "out", chunk_size=10)
    assert result == generate(RandomWords(), corpus)


def test_funnel_counts_per_method_and_language(corpus: Corpus) -> None:
    examples = generate(RandomWords(words=2), corpus)
    filtered = apply_filters(examples, [ShortQueries(12), ShortQueries(16)])
    queries = examples.column("query")
    langs = examples.column("lang")
    rows = {row["lang"]: row for row in funnel_rows(filtered)}
    for lang in ("de", "zh", "ar"):
        lengths = np.array([len(q) for q, g in zip(queries, langs, strict=True) if g == lang])
        assert rows[lang]["generated"] == len(lengths)
        assert rows[lang]["short"] == int((lengths >= 12).sum())
        assert rows[lang]["short #2"] == int((lengths >= 16).sum())
    step = filtered.funnel[1]
    assert step["before"] == len(examples) and step["dropped"] == {
        "short": step["before"] - step["kept"]
    }
    assert "| random-words | de |" in funnel_markdown(filtered)


def test_chunks_never_split_a_passage_group(xquad_r, tmp_path) -> None:
    from polyret.curate import load_generator

    corpus = xquad_r.corpus.filter(lang=["de", "th"])
    ict = load_generator("ict", group_by=r"^(.*)_s\d+$")
    chunks = _chunked(corpus, 7, ict.group_key)
    assert sum(len(c) for c in chunks) == len(corpus)
    for before, after in itertools.pairwise(chunks):
        assert ict.group_key(before.ids[-1]) != ict.group_key(after.ids[0])
    saved = generate(
        load_generator("ict", group_by=r"^(.*)_s\d+$"), corpus, tmp_path / "o", chunk_size=7
    )
    assert saved == generate(ict, corpus)
