"""Unicode normalization before tokenization: NFKC, case folding, optional accent stripping."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "strip_accents"]

# A Latin, Greek or Cyrillic base letter (after NFD) followed by marks from the generic
# combining-diacritics blocks. Marks of other scripts (Devanagari matras, Thai vowels,
# Arabic harakat, Hebrew points) never match: there they spell the word, not decorate it.
_ACCENTED = re.compile(
    "([A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u1f00-\u1fff\u0400-\u052f])"
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)


def strip_accents(text: str) -> str:
    """Remove diacritics from Latin, Greek and Cyrillic letters only.

    Combining marks attached to letters of other scripts are kept, because in Devanagari,
    Bengali, Thai, Arabic or Hebrew they are vowels or consonant modifiers, and dropping them
    merges unrelated words. Note that Cyrillic ``й`` becomes ``и`` and Greek tonos is dropped.

    Example:
        >>> strip_accents("Ångström café naïve हिन्दी")
        'Angstrom cafe naive हिन्दी'
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _ACCENTED.sub(r"\1", decomposed))


def normalize(text: str, *, lowercase: bool = True, accents: bool = False) -> str:
    """Normalize ``text`` for indexing: NFKC, then optional case folding and accent stripping.

    NFKC maps compatibility forms to their plain letters (full-width ``ＡＢＣ１２３`` → ``ABC123``,
    ligatures, Arabic presentation forms). Case folding uses :meth:`str.casefold`, which is
    stronger than ``lower()`` (``ß`` → ``ss``, final sigma ``ς`` → ``σ``).

    Args:
        text: Any string.
        lowercase: Apply Unicode case folding.
        accents: Strip diacritics from Latin, Greek and Cyrillic letters
            (see :func:`strip_accents`); off by default because it merges words in
            languages where accents are distinctive (Spanish ``año``/``ano``).

    Returns:
        The normalized string; ``normalize`` is idempotent.

    Example:
        >>> normalize("ＡＢＣ Straße")
        'abc strasse'
    """
    out = unicodedata.normalize("NFKC", text)
    if lowercase:
        out = out.casefold()
        # Folding can produce sequences that NFKC composes differently; renormalize.
        if not out.isascii():
            out = unicodedata.normalize("NFKC", out)
    if accents:
        out = strip_accents(out)
        if lowercase and not out.isascii():
            out = unicodedata.normalize("NFKC", out.casefold())
    return out
