"""Rule-based sentence splitting for many scripts.

Sentences end at ``. ! ? …`` followed by a space, at the full-width ``。！？`` without one, at
the Devanagari danda ``।``/``॥``, the Arabic ``؟`` and Urdu ``۔`` and a few more; Thai, Lao,
Khmer and Myanmar mark sentences with a run of two or more spaces (a single space separates
phrases there).
"""

from __future__ import annotations

import regex

__all__ = ["ABBREVIATIONS", "split_sentences"]

_CLOSERS = "\"'”’»)\\]」』）】〕"
#: Abbreviations after which a period does not end a sentence (a short, multilingual list).
ABBREVIATIONS = frozenset(
    (  # noqa: SIM905
        "Mr Mrs Ms Dr Prof St Rev Jr Sr Sra Dra Gen Col Lt Capt Sgt Mt No Nr Vol Fig Inc Ltd Co "
        "vs ca approx Mio Mrd Chr bzw usw Hr Fr Jh Abb Bd Str ggf vgl Sta Ud Uds Av pág art "
        "etw им гг ул"
    ).split()
)
# A boundary is the whitespace (or, after a full-width terminator, the empty string) that
# follows a sentence-final mark and its closing quotes/brackets.
_BOUNDARY = regex.compile(
    # a period ends a sentence unless it follows a lone initial ("J. R. R. Tolkien",
    # "U.S."), a number of one or two digits (German/Turkish ordinals "am 27. Januar"),
    # a known abbreviation, a space (". . ."), or a letter of a script that does not use it
    # as a full stop (Thai "ตร.กม."); ! ? … always end one. The next sentence must not start with a
    # lower-case letter ("e.g. the", "approx. five").
    r"(?:(?:(?<!(?:^|[\s.(\[])\p{L})(?<!(?:^|\s)\d{1,2})"
    rf"(?<!\b(?:{'|'.join(sorted(ABBREVIATIONS))}))"
    r"(?<![\s\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff])\.|[!?…‼⁇⁈⁉])"
    rf"[{_CLOSERS}]*\s++(?!\p{{Ll}})"
    # Arabic question mark, Urdu full stop, Devanagari dandas, Armenian, Ethiopic, Myanmar
    # and Tibetan full stops: followed by whitespace
    rf"|[؟۔।॥։።။།][{_CLOSERS}]*\s+"
    # full-width (CJK) terminators need no space after them
    rf"|[。！？｡][{_CLOSERS}]*\s*"
    # Thai, Lao, Khmer, Myanmar: a run of two or more spaces ends a sentence
    r"|(?<=[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff])[ \t\u00a0]{2,}"
    # a line break always ends one
    r"|\s*\n\s*)"
)
_CONTENT = regex.compile(r"[\p{L}\p{N}]")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (whitespace around them excluded).

    A rule-based splitter for many scripts (see the module docstring): it does not know
    abbreviations beyond lone initials, so ``"Dr. Smith"`` splits after ``Dr.``.

    Example:
        >>> text = "Der Rhein fließt. Wohin?  长江很长。黄河也很长！ J. R. R. Tolkien schrieb."
        >>> [text[s:e] for s, e in split_sentences(text)]
        ['Der Rhein fließt.', 'Wohin?', '长江很长。', '黄河也很长！', 'J. R. R. Tolkien schrieb.']
        >>> hindi = "यह पहला वाक्य है। यह दूसरा है।"
        >>> [hindi[s:e] for s, e in split_sentences(hindi)]
        ['यह पहला वाक्य है।', 'यह दूसरा है।']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        # the sentence keeps its terminator and closers, not the whitespace after them
        _add_span(text, start, match.start() + len(match.group(0).rstrip()), spans)
        start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    offset = start + len(piece) - len(piece.lstrip())
    if spans and not _CONTENT.search(stripped):  # "." of ". . .", a lone "[": not a sentence
        spans[-1] = (spans[-1][0], offset + len(stripped))
    else:
        spans.append((offset, offset + len(stripped)))
