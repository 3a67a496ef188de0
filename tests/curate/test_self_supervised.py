"""Self-supervised generators (ICT, independent cropping, titles) on real multilingual text."""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections import defaultdict

import pytest

from polyret.curate import generate, load_generator
from polyret.curate.self_supervised import (
    IndependentCrop,
    InverseCloze,
    TitleQuery,
)
from polyret.errors import InvalidInputError
from polyret.text.scripts import uses_characters
from polyret.text.sentences import split_sentences
from polyret.types import Corpus

GROUP = r"^(.*)_s\d+$"


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.fixture(scope="module")
def paragraphs(xquad_r) -> Corpus:
    """xquad-r's sentences joined back into their 432 paragraphs: real multi-sentence text."""
    members: dict[str, list] = defaultdict(list)
    for doc in xquad_r.corpus:
        members[re.match(GROUP, doc.id).group(1)].append(doc)
    return Corpus.from_records(
        {
            "id": key,
            "lang": docs[0].lang,
            "text": ("" if docs[0].lang == "zh" else " ").join(d.text for d in docs),
        }
        for key, docs in members.items()
    )


# ------------------------------------------------------------------------- sentence splitting
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The Rhine flows north. It ends in the sea!",
            ["The Rhine flows north.", "It ends in the sea!"],
        ),
        (
            "J. R. R. Tolkien wrote it. Dr. Smith read it.",
            ["J. R. R. Tolkien wrote it.", "Dr. Smith read it."],
        ),
        ("Use e.g. this one. Or that.", ["Use e.g. this one.", "Or that."]),
        (
            "Am 27. Januar 1967 begann der Test. Er scheiterte.",
            ["Am 27. Januar 1967 begann der Test.", "Er scheiterte."],
        ),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        (
            "华沙的交易所成立于1817年。1991年重建！真的吗？",
            ["华沙的交易所成立于1817年。", "1991年重建！", "真的吗？"],
        ),
        ("东京很大。」他说。", ["东京很大。」", "他说。"]),
        ("यह पहला वाक्य है। यह दूसरा है॥ तीसरा", ["यह पहला वाक्य है।", "यह दूसरा है॥", "तीसरा"]),
        ("أين يقع النهر؟ إنه في الشمال.", ["أين يقع النهر؟", "إنه في الشمال."]),
        ("โดยมีอายุ 39 ปี  สถิติเดิมเป็นของ จอห์น", ["โดยมีอายุ 39 ปี", "สถิติเดิมเป็นของ จอห์น"]),
        ("ตร.กม. หรือ 7,343 ตารางไมล์", ["ตร.กม. หรือ 7,343 ตารางไมล์"]),
        ("first line\nsecond line", ["first line", "second line"]),
        ("I am here to . . . submit.", ["I am here to . . . submit."]),
        ("Ends with a citation. [", ["Ends with a citation. ["]),
        ("   ", []),
        ("no terminator at all", ["no terminator at all"]),
    ],
)
def test_split_sentences(text, expected):
    assert _sentences(text) == expected


def test_sentence_spans_are_exact_and_ordered(paragraphs):
    for doc in paragraphs:
        spans = split_sentences(doc.text)
        assert spans == sorted(spans)
        assert all(doc.text[s:e] == doc.text[s:e].strip() != "" for s, e in spans)
        assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))
        # nothing but whitespace lies between sentences
        cuts = [doc.text[e1:s2] for (_, e1), (s2, _) in itertools.pairwise(spans)]
        assert all(not c.strip() for c in cuts)


def test_uses_characters():
    assert uses_characters("อะไร", "th") and uses_characters("東京", "ja")
    assert not uses_characters("東京", "de")  # the declared language wins
    assert uses_characters("東京大学はどこ", "und") and not uses_characters("Tokyo", "und")


# ---------------------------------------------------------------------------------------- ICT
def test_ict_document_mode_removes_the_sentence_except_at_the_keep_rate(paragraphs):
    examples = InverseCloze(seed=7, per_doc=3).generate(paragraphs)
    kept = 0
    for example in examples:
        doc = paragraphs[example.source_id]
        meta = json.loads(example.meta)
        start, end = meta["span"]
        assert doc.text[start:end] == example.query
        assert example.query in _sentences(doc.text)
        assert (example.lang, example.positive_lang, example.method) == (doc.lang, doc.lang, "ict")
        if meta["kept"]:
            kept += 1
            assert (example.positive, example.positive_id) == (doc.text, doc.id)
        else:
            assert example.positive_id == ""
            # the context is the document minus exactly that sentence (spaces aside)
            rest = doc.text[:start] + doc.text[end:]
            assert example.positive.split() == rest.split() or "".join(
                example.positive.split()
            ) == "".join(rest.split())
            assert example.query not in example.positive or doc.text.count(example.query) > 1
    # keep_sentence_prob = 0.1 (ORQA): binomial, n ≈ 1,200, sd ≈ 0.009
    rate = kept / len(examples)
    assert len(examples) > 1000 and 0.07 < rate < 0.13
    # at most per_doc distinct sentences per document
    per_doc = defaultdict(set)
    for example in examples:
        per_doc[example.source_id].add(json.loads(example.meta)["sentence"])
    assert max(map(len, per_doc.values())) == 3
    assert sum(map(len, per_doc.values())) == len(examples)


def test_ict_keep_probability_extremes(paragraphs):
    small = paragraphs.take(range(40))
    never = InverseCloze(keep_sentence_prob=0.0).generate(small)
    always = InverseCloze(keep_sentence_prob=1.0).generate(small)
    assert not any(json.loads(e.meta)["kept"] for e in never)
    assert all(e.positive == small[e.source_id].text for e in always)


def test_ict_skips_single_sentence_documents(xquad_r):
    corpus = xquad_r.corpus
    examples = InverseCloze(seed=0).generate(corpus)
    multi = {d.id for d in corpus if len(split_sentences(d.text)) >= 2}
    assert 0 < len(multi) < len(corpus) / 10  # most xquad-r documents are one sentence
    assert set(examples.column("source_id")) == multi
    assert len(examples) == len(multi)  # per_doc = 1


def test_ict_group_mode_pairs_neighbouring_sentence_documents(xquad_r):
    corpus = xquad_r.corpus
    examples = InverseCloze(seed=0, group_by=GROUP).generate(corpus)
    passages = defaultdict(list)
    for doc in corpus:
        passages[re.match(GROUP, doc.id).group(1)].append(doc.id)
    singles = {ids[0] for ids in passages.values() if len(ids) == 1}
    assert len(examples) == len(corpus) - len(singles)
    for example in examples:
        key = re.match(GROUP, example.source_id).group(1)
        members = passages[key]
        assert example.query == corpus[example.source_id].text
        assert example.positive == corpus[example.positive_id].text
        assert example.positive_id != example.source_id
        assert re.match(GROUP, example.positive_id).group(1) == key
        assert abs(members.index(example.positive_id) - members.index(example.source_id)) == 1
        assert json.loads(example.meta)["positive"] == "neighbour"
    # both neighbours get chosen: the choice is random, not always the next sentence
    after = sum(e.positive_id > e.source_id for e in examples)
    assert 0.3 < after / len(examples) < 0.8


def test_ict_group_mode_wider_window_and_several_positives(xquad_r):
    corpus = xquad_r.corpus.filter(lang="de")
    examples = InverseCloze(seed=0, group_by=GROUP, window=2, per_doc=2).generate(corpus)
    by_source = defaultdict(list)
    for example in examples:
        by_source[example.source_id].append(example.positive_id)
    assert all(len(set(p)) == len(p) <= 2 for p in by_source.values())
    assert max(abs(int(p[-2:]) - int(s[-2:])) for s, ps in by_source.items() for p in ps) == 2


def test_ict_group_mode_context_positive(xquad_r):
    corpus = xquad_r.corpus.filter(lang=["zh", "en"])
    examples = InverseCloze(seed=0, group_by=GROUP, positive="context").generate(corpus)
    passages = defaultdict(list)
    for doc in corpus:
        passages[re.match(GROUP, doc.id).group(1)].append(doc)
    kept = 0
    for example in examples:
        assert example.positive_id == ""
        members = passages[re.match(GROUP, example.source_id).group(1)]
        joiner = "" if example.lang == "zh" else " "
        if json.loads(example.meta)["kept"]:
            kept += 1
            assert example.positive == joiner.join(d.text for d in members)
        else:
            others = [d.text for d in members if d.id != example.source_id]
            assert example.positive == joiner.join(others)
            assert example.query not in others
    assert 0.04 < kept / len(examples) < 0.16  # keep_sentence_prob = 0.1, n ≈ 530


def test_ict_is_chunking_independent_and_registered(paragraphs, tmp_path):
    generator = load_generator("ict", seed=3, per_doc=2)
    assert isinstance(generator, InverseCloze)
    whole = generator.generate(paragraphs)
    chunked = generate(generator, paragraphs, tmp_path / "ict", chunk_size=37)
    assert whole.table.equals(chunked.table)
    options = {k: v for k, v in generator.config.items() if k != "method"}
    assert load_generator("ict", **options).generate(paragraphs) == whole


def test_ict_options_are_validated():
    with pytest.raises(InvalidInputError, match="capturing group"):
        InverseCloze(group_by=r"^.*_s\d+$")
    with pytest.raises(InvalidInputError, match="keep_sentence_prob"):
        InverseCloze(keep_sentence_prob=1.5)
    with pytest.raises(InvalidInputError, match="positive"):
        InverseCloze(positive="paragraph")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- crop
def _units(text: str, unit: str) -> int:
    if unit == "char":
        import regex

        return len(regex.findall(r"(?=\S)\X", text))
    return len(text.split())


def test_crops_are_sub_spans_of_the_right_length(xquad_r):
    corpus = xquad_r.corpus
    examples = IndependentCrop(seed=0, per_doc=2).generate(corpus)
    assert len(examples) > 2 * 0.95 * len(corpus)
    for example in examples:
        doc = corpus[example.source_id]
        meta = json.loads(example.meta)
        unit = meta["unit"]
        assert unit == ("char" if doc.lang in ("zh", "th") else "word")
        for text, (start, end) in (
            (example.query, meta["query_span"]),
            (example.positive, meta["positive_span"]),
        ):
            assert doc.text[start:end] == text
            n = _units(text, unit)
            assert max(1, int(0.1 * meta["units"])) <= n <= max(1, int(0.5 * meta["units"]))
            if unit == "word":  # whole words: a crop starts and ends at spaces
                assert start == 0 or doc.text[start - 1].isspace()
                assert end == len(doc.text) or doc.text[end].isspace()
            else:  # never a Thai vowel sign cut from its consonant
                assert not unicodedata.category(text[0]).startswith("M")
        assert example.positive_id == ""


def test_crop_with_document_positive(xquad_r):
    corpus = xquad_r.corpus.filter(lang=["hi", "th"])
    examples = load_generator("crop", positive="document", ratio_min=0.2, ratio_max=0.2).generate(
        corpus
    )
    for example in examples:
        assert example.positive_id == example.source_id
        assert example.positive == corpus[example.source_id].text
        assert example.query in example.positive


def test_crop_seed_changes_output_and_short_documents_yield_nothing(xquad_r):
    corpus = xquad_r.corpus.filter(lang="es")
    a = IndependentCrop(seed=0).generate(corpus)
    b = IndependentCrop(seed=1).generate(corpus)
    assert a == IndependentCrop(seed=0).generate(corpus) and a != b
    tiny = Corpus.from_records([{"id": "t", "text": "too short", "lang": "en"}])
    assert len(IndependentCrop().generate(tiny)) == 0
    assert len(IndependentCrop(min_units=2).generate(tiny)) == 1
    with pytest.raises(InvalidInputError):
        IndependentCrop(ratio_min=0.6, ratio_max=0.5)


# -------------------------------------------------------------------------------------- title
def test_title_query_on_inline_corpus(xquad_r):
    corpus = Corpus.from_records(
        [
            {
                "id": "de",
                "title": "Rhein",
                "text": "Der Rhein fließt in die Nordsee.",
                "lang": "de",
            },
            {"id": "zh", "title": "长江", "text": "长江是中国最长的河流。", "lang": "zh"},
            {"id": "ar", "title": "النيل", "text": "النيل أطول نهر في أفريقيا.", "lang": "ar"},
            {"id": "none", "title": "  ", "text": "Kein Titel.", "lang": "de"},
        ]
    )
    examples = TitleQuery().generate(corpus)
    assert [(e.query, e.positive_id, e.positive, e.lang) for e in examples] == [
        (corpus[i].title, i, corpus[i].text, corpus[i].lang) for i in ("de", "zh", "ar")
    ]
    assert len(TitleQuery(min_chars=3).generate(corpus)) == 2  # 长江 is two characters
    assert len(TitleQuery().generate(xquad_r.corpus)) == 0  # no titles there
