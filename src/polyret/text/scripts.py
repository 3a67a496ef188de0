"""Unicode scripts of text: which writing systems a string uses, counted in one C-level pass.

Every letter is mapped to a one-character script tag with :meth:`str.translate`, then counted
with :class:`collections.Counter`, so no Python code runs per character.
"""

from __future__ import annotations

import sys
import unicodedata
from collections import Counter
from functools import cache

from polyret.text.langcodes import canonical_lang
from polyret.types.collection import UNKNOWN_LANG

__all__ = [
    "CHARACTER_LANGS",
    "MARK_CLASS",
    "SCRIPTS",
    "UNSEGMENTED_CLASS",
    "script_counts",
    "uses_characters",
]

# script name -> code point ranges (inclusive) of its letters and marks.
SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "Latin": (
        (0x41, 0x5A),
        (0x61, 0x7A),
        (0xAA, 0xAA),
        (0xBA, 0xBA),
        (0xC0, 0xD6),
        (0xD8, 0xF6),
        (0xF8, 0x24F),
        (0x1E00, 0x1EFF),
        (0x2C60, 0x2C7F),
        (0xA720, 0xA7FF),
        (0xAB30, 0xAB6F),
    ),
    "Greek": ((0x370, 0x3FF), (0x1F00, 0x1FFF)),
    "Cyrillic": ((0x400, 0x52F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    "Armenian": ((0x530, 0x58F),),
    "Hebrew": ((0x591, 0x5FF), (0xFB1D, 0xFB4F)),
    "Arabic": ((0x600, 0x6FF), (0x750, 0x77F), (0x870, 0x8FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "Syriac": ((0x700, 0x74F),),
    "Thaana": ((0x780, 0x7BF),),
    "Devanagari": ((0x900, 0x97F), (0xA8E0, 0xA8FF)),
    "Bengali": ((0x980, 0x9FF),),
    "Gurmukhi": ((0xA00, 0xA7F),),
    "Gujarati": ((0xA80, 0xAFF),),
    "Oriya": ((0xB00, 0xB7F),),
    "Tamil": ((0xB80, 0xBFF),),
    "Telugu": ((0xC00, 0xC7F),),
    "Kannada": ((0xC80, 0xCFF),),
    "Malayalam": ((0xD00, 0xD7F),),
    "Sinhala": ((0xD80, 0xDFF),),
    "Thai": ((0xE00, 0xE7F),),
    "Lao": ((0xE80, 0xEFF),),
    "Tibetan": ((0xF00, 0xFFF),),
    "Myanmar": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
    "Georgian": ((0x10A0, 0x10FF), (0x1C90, 0x1CBF)),
    "Hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)),
    "Ethiopic": ((0x1200, 0x139F), (0x2D80, 0x2DDF)),
    "Khmer": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "Hiragana": ((0x3041, 0x309F),),
    "Katakana": ((0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "Han": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF)),
}

# Scripts written without spaces between words, for which a regex tokenizer yields whole
# clauses: they need a segmenter or character n-grams.
UNSEGMENTED_SCRIPTS = ("Thai", "Lao", "Khmer", "Myanmar", "Tibetan", "Hiragana", "Katakana", "Han")


def _class(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


def _mark_ranges() -> list[tuple[int, int]]:
    """Ranges of combining marks (Mn, Mc, Me) in the running Python's Unicode database."""
    ranges: list[tuple[int, int]] = []
    start = prev = -1
    # Marks outside these planes (tags, variation selectors supplement) never sit in words.
    for cp in range(0x20000):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"):
            if start < 0:
                start = cp
            prev = cp
        elif start >= 0:
            ranges.append((start, prev))
            start = -1
    return ranges


#: Regex character-class body (no brackets) matching every combining mark. Python's ``\w``
#: does not match Mn/Mc, so ``\w+`` cuts "हिन्दी" into "ह", "न", "द"; add this class to keep
#: Devanagari, Bengali, Telugu vowel signs and Arabic harakat inside their words.
MARK_CLASS = _class(_mark_ranges())

#: Regex character-class body of the scripts in ``UNSEGMENTED_SCRIPTS``.
UNSEGMENTED_CLASS = _class(sorted(r for s in UNSEGMENTED_SCRIPTS for r in SCRIPTS[s]))

_TAGS = {name: chr(0xF0000 + i) for i, name in enumerate(SCRIPTS)}  # private-use tags
_NAMES = {tag: name for name, tag in _TAGS.items()}


@cache
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for name, ranges in SCRIPTS.items():
        tag = _TAGS[name]
        for lo, hi in ranges:
            for cp in range(lo, min(hi, sys.maxunicode) + 1):
                table[cp] = tag
    return table


def script_counts(text: str) -> dict[str, int]:
    """Count the letters of ``text`` per script (characters of no listed script are ignored).

    Example:
        >>> script_counts("Tokyo 東京 とうきょう")
        {'Latin': 5, 'Han': 2, 'Hiragana': 5}
    """
    counts = Counter(text.translate(_table()))
    return {_NAMES[ch]: n for ch, n in counts.items() if ch in _NAMES}


#: Languages written without spaces between words: lengths and crops count characters.
CHARACTER_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "yue", "wuu"})


def uses_characters(text: str, lang: str = "und") -> bool:
    """Whether lengths and crops of ``text`` should count characters rather than words.

    True for the languages of :data:`CHARACTER_LANGS`; for an unknown ``lang``, when most
    letters belong to a script written without spaces (Han, kana, Thai, ...).

    Example:
        >>> uses_characters("东京", "zh"), uses_characters("ภาษาไทย"), uses_characters("Tokyo")
        (True, True, False)
    """
    code = canonical_lang(lang)
    if code != UNKNOWN_LANG:
        return code in CHARACTER_LANGS
    counts = script_counts(text)
    total = sum(counts.values())
    return total > 0 and sum(counts.get(s, 0) for s in UNSEGMENTED_SCRIPTS) * 2 >= total
