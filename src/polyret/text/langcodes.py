"""Language codes: map ISO 639-3, 639-2 and BCP 47 variants to one canonical code."""

from __future__ import annotations

import re

from polyret.errors import InvalidInputError
from polyret.types.collection import UNKNOWN_LANG

__all__ = ["canonical_lang", "normalize_lang_code"]

# ISO 639-2/3 (and individual languages of macrolanguages) -> ISO 639-1.
_TO_639_1 = {
    "afr": "af",
    "amh": "am",
    "ara": "ar",
    "arb": "ar",
    "arz": "ar",
    "ary": "ar",
    "apc": "ar",
    "acm": "ar",
    "ajp": "ar",
    "aze": "az",
    "azj": "az",
    "bel": "be",
    "ben": "bn",
    "bod": "bo",
    "tib": "bo",
    "bos": "bs",
    "bre": "br",
    "bul": "bg",
    "cat": "ca",
    "ces": "cs",
    "cze": "cs",
    "cym": "cy",
    "wel": "cy",
    "dan": "da",
    "deu": "de",
    "ger": "de",
    "ell": "el",
    "gre": "el",
    "eng": "en",
    "epo": "eo",
    "est": "et",
    "ekk": "et",
    "eus": "eu",
    "baq": "eu",
    "fas": "fa",
    "per": "fa",
    "pes": "fa",
    "prs": "fa",
    "fin": "fi",
    "fra": "fr",
    "fre": "fr",
    "fry": "fy",
    "gle": "ga",
    "gla": "gd",
    "glg": "gl",
    "guj": "gu",
    "hau": "ha",
    "heb": "he",
    "hin": "hi",
    "hrv": "hr",
    "hun": "hu",
    "hye": "hy",
    "arm": "hy",
    "ibo": "ig",
    "ind": "id",
    "isl": "is",
    "ice": "is",
    "ita": "it",
    "jpn": "ja",
    "jav": "jv",
    "kat": "ka",
    "geo": "ka",
    "kaz": "kk",
    "khm": "km",
    "kan": "kn",
    "kor": "ko",
    "kur": "ku",
    "kmr": "ku",
    "kir": "ky",
    "lat": "la",
    "ltz": "lb",
    "lao": "lo",
    "lit": "lt",
    "lav": "lv",
    "lvs": "lv",
    "mlg": "mg",
    "mkd": "mk",
    "mac": "mk",
    "mal": "ml",
    "mon": "mn",
    "khk": "mn",
    "mar": "mr",
    "msa": "ms",
    "may": "ms",
    "zsm": "ms",
    "mlt": "mt",
    "mya": "my",
    "bur": "my",
    "nep": "ne",
    "npi": "ne",
    "nld": "nl",
    "dut": "nl",
    "nor": "no",
    "nob": "nb",
    "nno": "nn",
    "oci": "oc",
    "ori": "or",
    "ory": "or",
    "orm": "om",
    "pan": "pa",
    "pol": "pl",
    "pus": "ps",
    "pbu": "ps",
    "por": "pt",
    "que": "qu",
    "ron": "ro",
    "rum": "ro",
    "rus": "ru",
    "kin": "rw",
    "san": "sa",
    "sin": "si",
    "slk": "sk",
    "slo": "sk",
    "slv": "sl",
    "som": "so",
    "spa": "es",
    "sqi": "sq",
    "alb": "sq",
    "als": "sq",
    "srp": "sr",
    "swe": "sv",
    "swa": "sw",
    "swh": "sw",
    "tam": "ta",
    "tel": "te",
    "tgk": "tg",
    "tha": "th",
    "tgl": "tl",
    "fil": "tl",
    "tuk": "tk",
    "tur": "tr",
    "tat": "tt",
    "uig": "ug",
    "ukr": "uk",
    "urd": "ur",
    "uzb": "uz",
    "uzn": "uz",
    "vie": "vi",
    "xho": "xh",
    "yid": "yi",
    "ydd": "yi",
    "yor": "yo",
    "zho": "zh",
    "chi": "zh",
    "cmn": "zh",
    "wuu": "zh",
    "zul": "zu",
    "sot": "st",
    "nso": "nso",
    "lug": "lg",
    "lin": "ln",
    "sna": "sn",
    "tsn": "tn",
    "fao": "fo",
    "wln": "wa",
    "bak": "ba",
    "hat": "ht",
    "kab": "kab",
}
# Retired or alternative two-letter codes.
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "tw": "ak", "zxx": "und"}

_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")


def normalize_lang_code(code: str) -> str:
    """Return the canonical polyret code for a language tag: ISO 639-1 where one exists.

    Accepts ISO 639-1 (``"ar"``), 639-2/3 (``"ara"``, ``"cmn"``, ``"pes"``, ``"swh"``) and BCP 47
    tags with region or script subtags (``"zh-CN"``, ``"pt_BR"``, ``"zh-Hans"``), in any case.
    A well-formed code that polyret does not know is returned lower-cased, unchanged.
    ``"auto"`` and ``"und"`` pass through.

    Raises:
        InvalidInputError: ``code`` is not shaped like a language tag.

    Example:
        >>> [normalize_lang_code(c) for c in ("cmn", "zh-CN", "PES", "eng", "xx")]
        ['zh', 'zh', 'fa', 'en', 'xx']
    """
    if not isinstance(code, str):
        raise InvalidInputError(f"language code must be a string, got {code!r}", field="lang")
    tag = code.strip().lower().replace("_", "-")
    if tag == "auto":
        return tag
    if not _CODE.fullmatch(tag):
        raise InvalidInputError(
            f"invalid language code {code!r}: expected an ISO 639 code such as 'en' or 'eng'",
            field="lang",
        )
    primary = tag.split("-", 1)[0]
    return _ALIASES.get(primary) or _TO_639_1.get(primary, primary)


def canonical_lang(code: str) -> str:
    """:func:`normalize_lang_code`, but ``"und"`` for a malformed, empty or ``"auto"`` code.

    For checks that treat an unusable language as unknown rather than as an error.

    Example:
        >>> [canonical_lang(c) for c in ("zho", "auto", "", "not a code")]
        ['zh', 'und', 'und', 'und']
    """
    try:
        code = normalize_lang_code(code)
    except InvalidInputError:
        return UNKNOWN_LANG
    return UNKNOWN_LANG if code == "auto" else code
