"""Bitext pairs from a parallel collection (Tatoeba in BEIR layout) and from inline qrels."""

from __future__ import annotations

import json

import pytest

from polyret.curate import generate, load_generator
from polyret.curate.bitext import Bitext
from polyret.errors import InvalidInputError
from polyret.io import read_beir
from polyret.types import Corpus, Qrels, Queries
from tests.conftest import shared_collection


@pytest.fixture(scope="module")
def tatoeba():
    return read_beir(shared_collection("tatoeba-jpn-eng"))


def test_every_pair_is_a_sentence_and_its_judged_translation(tatoeba):
    bitext = Bitext(tatoeba, split="dev")
    examples = bitext.generate(bitext.corpus)
    _, qrels = tatoeba.split("dev")
    assert len(examples) == qrels.num_entries == bitext.num_pairs
    for example in examples:
        meta = json.loads(example.meta)
        query = tatoeba.queries[meta["query_id"]]
        assert (example.query, example.lang) == (query.text, query.lang) == (query.text, "jpn")
        assert example.positive_id in qrels[meta["query_id"]]
        assert example.positive == tatoeba.corpus[example.positive_id].text
        assert (example.positive_lang, example.source_id) == ("eng", example.positive_id)
        assert (meta["split"], example.method) == ("dev", "bitext")


def test_splits(tatoeba):
    sizes = {s: Bitext(tatoeba, split=s).num_pairs for s in ("dev", "test")}
    assert sizes == {s: tatoeba.qrels[s].num_entries for s in ("dev", "test")}
    assert (
        Bitext(tatoeba).num_pairs
        == sum(sizes.values())
        == Bitext(tatoeba, split=["dev", "test"]).num_pairs
    )
    with pytest.raises(InvalidInputError, match="no qrels split 'train'"):
        Bitext(tatoeba, split="train")


def test_from_a_folder_through_the_registry_and_chunked(tatoeba, tmp_path):
    path = shared_collection("tatoeba-jpn-eng")
    bitext = load_generator("bitext", source=str(path), split="test")
    corpus = bitext.corpus
    assert bitext.config["source"] == str(path) and bitext.config["split"] == ("test",)
    whole = bitext.generate(corpus)
    assert whole == generate(bitext, corpus, tmp_path / "bitext", chunk_size=300)
    # a corpus holding only some translations yields only their pairs
    part = corpus.take(range(100))
    subset = bitext.generate(part)
    assert set(subset.column("positive_id")) <= set(part.ids)
    assert len(subset) == sum(pid in set(part.ids) for pid in whole.column("positive_id"))


def test_inline_queries_and_qrels_with_shared_and_repeated_targets():
    queries = Queries.from_records(
        [
            {"id": "de1", "text": "Ich habe Hunger.", "lang": "de"},
            {"id": "fr1", "text": "J'ai faim.", "lang": "fr"},
            {"id": "de2", "text": "Guten Morgen.", "lang": "de"},
        ]
    )
    qrels = {
        "dev": Qrels.from_dict({"de1": {"en1": 1}, "fr1": {"en1": 1}}),
        "test": Qrels.from_dict({"de2": {"en2": 1, "en2b": 1, "en3": 0}}),
    }
    corpus = Corpus.from_records(
        [
            {"id": "en1", "text": "I am hungry.", "lang": "en"},
            {"id": "en2", "text": "Good morning.", "lang": "en"},
            {"id": "en2b", "text": "Good morning!", "lang": "en"},
            {"id": "en3", "text": "Good night.", "lang": "en"},
        ]
    )
    examples = Bitext(queries=queries, qrels=qrels).generate(corpus)
    assert [(e.id, e.query, e.positive) for e in examples] == [
        ("bitext:en1:de:0", "Ich habe Hunger.", "I am hungry."),
        ("bitext:en1:fr:1", "J'ai faim.", "I am hungry."),
        ("bitext:en2:de:0", "Guten Morgen.", "Good morning."),
        ("bitext:en2b:de:0", "Guten Morgen.", "Good morning!"),
    ]  # en3 has relevance 0: no pair
    assert len(Bitext(queries=queries, qrels=qrels["dev"]).generate(corpus)) == 2


def test_bad_input():
    with pytest.raises(InvalidInputError, match="needs a source"):
        Bitext()
    queries = Queries.from_dict({"q": "x"}, lang="de")
    with pytest.raises(InvalidInputError, match="not among the queries"):
        Bitext(queries=queries, qrels=Qrels.from_dict({"other": {"d": 1}}))
