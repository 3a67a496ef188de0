from __future__ import annotations

import pytest

from polyret.errors import InvalidInputError
from polyret.text import normalize_lang_code

PAIRS = {
    "ara": "ar",
    "cmn": "zh",
    "zho": "zh",
    "pes": "fa",
    "fas": "fa",
    "eng": "en",
    "deu": "de",
    "jpn": "ja",
    "kor": "ko",
    "ell": "el",
    "heb": "he",
    "ben": "bn",
    "hin": "hi",
    "mar": "mr",
    "urd": "ur",
    "vie": "vi",
    "ukr": "uk",
    "pol": "pl",
    "nld": "nl",
    "ind": "id",
    "tur": "tr",
    "fin": "fi",
    "fra": "fr",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "rus": "ru",
    "swa": "sw",
    "swh": "sw",
    "tel": "te",
    "yor": "yo",
    "tha": "th",
    "zh-cn": "zh",
    "zh_TW": "zh",
    "pt-BR": "pt",
    "EN": "en",
    " de ": "de",
    "iw": "he",
    "auto": "auto",
}


@pytest.mark.parametrize(("code", "expected"), PAIRS.items())
def test_known_codes(code, expected):
    assert normalize_lang_code(code) == expected


def test_tatoeba_codes_all_map_to_two_letters():
    codes = [
        "ara",
        "ben",
        "cmn",
        "deu",
        "ell",
        "fin",
        "fra",
        "heb",
        "hin",
        "ind",
        "ita",
        "jpn",
        "kor",
        "mar",
        "nld",
        "pes",
        "pol",
        "por",
        "rus",
        "spa",
        "tur",
        "ukr",
        "urd",
        "vie",
    ]
    assert all(len(normalize_lang_code(c)) == 2 for c in codes)


def test_unknown_but_valid_code_passes_through():
    assert normalize_lang_code("xx") == "xx"
    assert normalize_lang_code("qaa") == "qaa"


@pytest.mark.parametrize("code", ["", "e", "english", "12", "e n", None])
def test_invalid_code_raises(code):
    with pytest.raises(InvalidInputError):
        normalize_lang_code(code)
