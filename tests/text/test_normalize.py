from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from polyret.text import normalize, strip_accents


def test_nfkc_maps_full_width_to_ascii():
    assert normalize("ＡＢＣ１２３", lowercase=False) == "ABC123"
    assert normalize("ＡＢＣ１２３") == "abc123"


def test_casefold_is_stronger_than_lower():
    assert normalize("Straße") == "strasse"
    assert normalize("ΣΊΣΥΦΟΣ") == normalize("σίσυφος")


def test_lowercase_off_keeps_case():
    assert normalize("Berlin", lowercase=False) == "Berlin"


def test_accents_stripped_from_latin_greek_cyrillic():
    assert normalize("Café Ångström Nguyễn", accents=True) == "cafe angstrom nguyen"
    assert normalize("άλφα", accents=True) == "αλφα"
    assert normalize("ёлка", accents=True) == "елка"


def test_accents_off_by_default():
    assert normalize("año") == "año"


def test_accent_stripping_leaves_other_scripts_intact():
    for text in ("हिन्दी भाषा", "ภาษาไทย", "العَرَبِيَّة", "বাংলা", "עִבְרִית", "తెలుగు"):
        assert strip_accents(text) == text
        assert normalize(text, accents=True) == normalize(text)


@given(st.text(), st.booleans(), st.booleans())
def test_normalize_is_idempotent(text, lowercase, accents):
    once = normalize(text, lowercase=lowercase, accents=accents)
    assert normalize(once, lowercase=lowercase, accents=accents) == once
