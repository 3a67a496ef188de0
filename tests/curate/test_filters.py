"""Length, copy, language and duplicate filters: rules on inline rows, behaviour on real data."""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict

import numpy as np
import pytest

from polyret.curate import apply_filters, load_filter
from polyret.curate.dedup import DedupFilter, normalize_query, shingles
from polyret.curate.quality import CopyFilter, LanguageFilter, LengthFilter, copy_overlap
from polyret.curate.self_supervised import IndependentCrop, InverseCloze
from polyret.errors import InvalidInputError
from polyret.io import read_queries
from polyret.types import Corpus, TrainingSet
from tests.conftest import shared_collection


def _rows(pairs, positive="...") -> TrainingSet:
    return TrainingSet.from_records(
        {"id": f"r{i}", "query": query, "lang": lang, "positive": positive}
        for i, (query, lang) in enumerate(pairs)
    )


@pytest.fixture(scope="module")
def questions(xquad_r) -> TrainingSet:
    """xquad-r's 2,187 real questions in nine languages, as training rows."""
    return TrainingSet.from_records(
        {"id": q.id, "query": q.text, "lang": q.lang, "positive": "...", "method": "xquad"}
        for q in xquad_r.queries
    )


@pytest.fixture(scope="module")
def paragraphs(xquad_r) -> Corpus:
    members: dict[str, list] = defaultdict(list)
    for doc in xquad_r.corpus:
        members[re.match(r"^(.*)_s\d+$", doc.id).group(1)].append(doc)
    return Corpus.from_records(
        {
            "id": k,
            "lang": d[0].lang,
            "text": ("" if d[0].lang == "zh" else " ").join(x.text for x in d),
        }
        for k, d in members.items()
    )


# ------------------------------------------------------------------------------------ length
@pytest.mark.parametrize(
    ("query", "lang", "reason"),
    [
        ("Wo fließt der Rhein?", "de", ""),
        ("   \t ", "de", "empty query"),
        ("Rhein", "de", "too short (< 2 words)"),
        (" ".join(["Wort"] * 30 + [f"w{i}" for i in range(40)]), "de", "too long (> 64 words)"),
        ("长江在哪里？", "zh", ""),
        ("长江", "zh", "too short (< 3 characters)"),
        ("东" * 110, "zh", "too long (> 109 characters)"),  # round(64 * 1.7)
        ("東京大学", "ja", "too short (< 5 characters)"),  # round(2 * 2.3)
        ("東京大学はどこ", "ja", ""),
        ("ใครคือควอเตอร์แบ็ก", "th", ""),
        ("ใคร", "th", "too short (< 8 characters)"),  # round(2 * 4.0); 3 characters
        ("यह क्या है", "hi", ""),
        ("the the the the cat", "en", "repeated token"),
        ("哈哈哈哈哈哈哈哈", "zh", "repeated token"),
        ("New York New Jersey", "en", ""),
        ("1999 / 2000 !!", "en", "mostly punctuation or digits"),
        ("2000到2005的森林砍伐率比1995到2000年的高多少？", "zh", ""),
        ("Who won Super Bowl 50?", "en", ""),
        ('{"query": "Wo fließt der Rhein?"}', "de", "markup or template leftover"),
        ("<b>Wo fließt</b> der Rhein?", "de", "markup or template leftover"),
        ("Wo fließt {river}?", "de", "markup or template leftover"),
        ("Wo fließt der Rhein?\\nQuery:", "de", "markup or template leftover"),
        ("Tom &amp; Jerry cartoon", "en", "markup or template leftover"),
    ],
)
def test_length_filter_rules(query, lang, reason):
    assert LengthFilter().reason(query, lang) == reason


def test_length_filter_keeps_real_questions_and_takes_extra_patterns(questions):
    verdict = LengthFilter().judge(questions)
    assert verdict.keep.all()
    custom = LengthFilter(patterns=[r"^(?i:here is)"], min_words=1)
    assert custom.reason("Here is a query about rivers", "en") == "markup or template leftover"
    assert custom.reason("Rhein", "de") == ""
    assert LengthFilter(min_chars=2).reason("长江", "zh") == ""
    assert LengthFilter(max_chars=3).reason("长江在哪里", "zh") == "too long (> 3 characters)"
    with pytest.raises(InvalidInputError, match="bad pattern"):
        LengthFilter(patterns=["("])


# -------------------------------------------------------------------------------------- copy
def test_copy_overlap_formula():
    positive = "Today the Rhine flows north to the sea."
    assert copy_overlap("the Rhine flows north", positive) == (4 / 4, 4)
    assert copy_overlap("where does the Rhine flow north", positive) == (2 / 6, 2)  # flow ≠ flows
    assert copy_overlap("north flows Rhine the", positive, "tokens") == (4 / 4, 4)
    assert copy_overlap("north flows Rhine the", positive) == (1 / 4, 1)
    # unspaced scripts count character bigrams: 长江是中国 = 4 bigrams, all in the positive
    assert copy_overlap("长江是中国", "长江是中国最长的河流。") == (4 / 4, 4)
    assert copy_overlap("", positive) == (0.0, 0)


def test_copy_filter_drops_exactly_the_kept_ict_sentences(paragraphs):
    examples = InverseCloze(seed=0, per_doc=2).generate(paragraphs)
    kept_sentence = np.array([json.loads(e.meta)["kept"] for e in examples])
    verdict = CopyFilter().judge(examples)
    dropped = ~verdict.keep
    # every row whose sentence stayed in its context is a copy (overlap 1.00)...
    long_enough = np.array([copy_overlap(e.query, e.positive)[1] >= 4 for e in examples])
    assert (dropped[kept_sentence & long_enough]).all()
    assert {verdict.reasons[i] for i in np.flatnonzero(kept_sentence & long_enough)} == {
        "copied from positive (overlap 1.00)"
    }
    # ...and almost no row whose sentence was removed
    assert dropped[~kept_sentence].mean() < 0.02
    # an ICT-friendly threshold keeps them all
    assert CopyFilter(max_overlap=1.0, min_copy_tokens=10_000).judge(examples).keep.all()


def test_copy_filter_on_crops_and_short_keyword_queries(xquad_r):
    crops = IndependentCrop(seed=0, positive="document").generate(xquad_r.corpus.filter(lang="en"))
    verdict = CopyFilter().judge(crops)
    lengths = np.array([copy_overlap(e.query, e.positive)[1] for e in crops])
    assert (verdict.keep == (lengths < 4)).all()  # a sub-span is a copy once 4 tokens long
    short = _rows([("Super Bowl", "en")], positive="Super Bowl 50 was played in 2016.")
    assert CopyFilter().judge(short).keep.all()  # keywords from the passage are not a copy
    with pytest.raises(InvalidInputError):
        CopyFilter(measure="chars")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ langid
def test_langid_keeps_real_questions_and_drops_planted_ones(questions):
    verdict = LanguageFilter().judge(questions)
    assert verdict.keep.mean() > 0.99  # 13 of 2,187 are read as a neighbour language
    texts = dict(zip(questions.ids, questions.column("query"), strict=True))
    by_lang = defaultdict(list)
    for qid, lang in zip(questions.ids, questions.column("lang"), strict=True):
        by_lang[lang].append(qid)
    planted = _rows(
        [
            (texts[by_lang["de"][0]], "es"),  # German in a Spanish row
            (texts[by_lang["es"][1]], "en"),
            (texts[by_lang["tr"][2]], "de"),
            (texts[by_lang["ru"][3]], "de"),  # wrong script
            (texts[by_lang["zh"][4]], "ar"),
            (texts[by_lang["hi"][5]], "th"),
            (texts[by_lang["en"][6]], "hi"),
        ]
    )
    reasons = LanguageFilter().judge(planted).reasons
    assert reasons == [
        "language de, expected es",
        "language es, expected en",
        "language tr, expected de",
        "language ru, expected de",
        "language zh, expected ar",
        "language hi, expected th",
        "language en, expected hi",
    ]


def test_langid_short_texts_codes_and_unknown_languages():
    rows = _rows(
        [
            ("Tom ist da.", "de"),  # 8 letters: only the script is checked
            ("Где он?", "de"),  # short, but the wrong script
            ("東京大学", "ja"),  # kanji only: accepted for Japanese
            ("東京大学", "ko"),
            ("Das Haus steht am Rhein.", "deu"),  # ISO 639-3 as in Tatoeba
            ("Das Haus steht am Rhein.", "und"),  # unknown: kept
            ("Das Haus steht am Rhein.", "not a code!"),
        ]
    )
    assert LanguageFilter().judge(rows).reasons == [
        "",
        "language ru, expected de",
        "",
        "language zh, expected ko",
        "",
        "",
        "",
    ]
    assert LanguageFilter(min_letters=0).judge(rows).reasons[0] in ("", "language sv, expected de")


def test_langid_on_tatoeba_iso_639_3_codes():
    queries = read_queries(shared_collection("tatoeba-ukr-eng") / "queries.jsonl")
    rows = TrainingSet.from_records(
        {"id": q.id, "query": q.text, "lang": q.lang, "positive": "..."} for q in queries
    )
    assert set(rows.column("lang")) == {"ukr"}
    verdict = LanguageFilter().judge(rows)
    # Ukrainian is the hardest Tatoeba language (read as Russian): still > 90 % kept
    assert verdict.keep.mean() > 0.9
    assert {r for r in verdict.reasons if r} <= {
        f"language {c}, expected uk"
        for c in ("ru", "bg", "be", "mk", "sr", "kk", "ky", "mn", "tg", "tt", "ba", "en")
    }


# ------------------------------------------------------------------------------------- dedup
def test_dedup_normal_form_and_shingles():
    assert normalize_query("  Ｗo\tFLIESST  der Rhein? ") == "wo fliesst der rhein?"
    assert shingles("abcd", n=3) == {"abc", "bcd"} and shingles("ab", n=3) == {"ab"}


def _jaccard(a: str, b: str) -> float:
    x, y = shingles(normalize_query(a)), shingles(normalize_query(b))
    return len(x & y) / len(x | y)


def test_dedup_removes_planted_duplicates_and_near_duplicates(questions):
    langs = questions.column("lang")
    base = questions.take([i for i, lang in enumerate(langs) if lang in ("ar", "en", "es")])
    texts = base.column("query")
    exact = [texts[5].upper(), "  " + texts[40].replace(" ", "  ") + " ", texts[7]]
    english = [i for i, lang in enumerate(base.column("lang")) if lang == "en"]
    targets = english[10], english[20], english[30]
    near = [
        texts[targets[0]].rstrip("?") + " exactly?",
        texts[targets[1]] + "?",
        "¿" + texts[targets[2]],
    ]
    for variant, target in zip(near, targets, strict=True):
        assert normalize_query(variant) != normalize_query(texts[target])
        assert _jaccard(variant, texts[target]) >= 0.8
    extra = TrainingSet.from_records(
        {"id": f"planted{i}", "query": q, "lang": "xx", "positive": "..."}
        for i, q in enumerate(exact + near)
    )
    rows = TrainingSet.concat([base, extra])
    flt = DedupFilter()
    found = flt.duplicates_of(rows)
    reasons = [r for r, _ in found]
    assert reasons[len(base) :] == ["exact duplicate"] * 3 + ["near duplicate"] * 3
    assert [of for _, of in found[len(base) :]] == [base.ids[i] for i in (5, 40, 7, *targets)]
    # on the real questions the LSH finds what a brute-force comparison of every pair finds
    sets = [shingles(normalize_query(t)) for t in texts]
    brute, kept = [], []
    for mine in sets:
        duplicate = any(len(mine & other) >= 0.8 * len(mine | other) for other in kept)
        brute.append(duplicate)
        if not duplicate:
            kept.append(mine)
    assert [bool(r) for r in reasons[: len(base)]] == brute
    assert 0 < sum(brute) < 20
    # deterministic, first occurrence kept
    assert flt.judge(rows).reasons == reasons
    assert flt.judge(rows).keep[: len(base)].sum() == len(base) - sum(brute)


def test_dedup_scope_exact_only_and_word_shingles():
    rows = TrainingSet.from_records(
        [
            {"id": "a", "query": "Wo fließt der Rhein?", "positive_id": "d1", "positive": "x"},
            {"id": "b", "query": "wo fließt der rhein?", "positive_id": "d2", "positive": "y"},
            {"id": "c", "query": "Wo fließt der Rhein hin?", "positive_id": "d1", "positive": "x"},
            {"id": "d", "query": "Wo fließt der Rhein?", "positive": "y"},
            {"id": "e", "query": "Wo fließt der Rhein?", "positive": "y"},
        ]
    )
    assert DedupFilter().judge(rows).reasons == [
        "",
        "exact duplicate",
        "near duplicate",
        "exact duplicate",
        "exact duplicate",
    ]
    # per positive: the same question about another passage stays; e repeats d (same text)
    assert DedupFilter(scope="positive").judge(rows).reasons == [
        "",
        "",
        "near duplicate",
        "",
        "exact duplicate",
    ]
    assert DedupFilter(near=False).judge(rows).reasons[2] == ""
    assert (
        DedupFilter(unit="word", ngram=1, threshold=0.8).judge(rows).reasons[2] == "near duplicate"
    )
    with pytest.raises(InvalidInputError):
        DedupFilter(threshold=0)


# --------------------------------------------------------------------------------- registry
def test_filters_by_name_in_a_chain(questions):
    chain = [load_filter(name) for name in ("length", "copy", "langid", "dedup")]
    assert [type(f) for f in chain] == [LengthFilter, CopyFilter, LanguageFilter, DedupFilter]
    assert chain[3].config == DedupFilter().config and chain[3].config["filter"] == "dedup"
    out = apply_filters(questions, chain)
    steps = out.funnel[-4:]
    assert [s["filter"] for s in steps] == ["length", "copy", "langid", "dedup"]
    assert steps[0]["before"] == len(questions) and steps[-1]["kept"] == len(out)
    for before, after in itertools.pairwise(steps):
        assert after["before"] == before["kept"]
    assert all(json.dumps(s["config"]) for s in steps)  # configs are plain JSON


def test_the_filters_registry_is_not_shadowed_by_a_module():
    import importlib

    import polyret.curate

    importlib.import_module("polyret.curate.quality")
    load_filter("length")  # imports the module behind a lazy entry
    assert polyret.curate.filters is polyret.curate.registry.filters
