"""Word segmenters for languages written without spaces: zh, ja, ko, th.

Each heavy library is imported and initialised once per process, on first use.
Segmenters take normalized text and return word strings; punctuation is filtered later.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from functools import cache
from typing import Any

from polyret.optional import require

__all__ = ["segment_ja", "segment_ko", "segment_th", "segment_zh"]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- Chinese (jieba)
@cache
def _jieba() -> Any:
    jieba = require("jieba", "cjk", "Chinese word segmentation", package="jieba")
    jieba.setLogLevel(logging.WARNING)  # jieba logs "Building prefix dict..." at INFO
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = os.path.join(tempfile.gettempdir(), "polyret-jieba")
    os.makedirs(tokenizer.tmp_dir, exist_ok=True)
    tokenizer.initialize()
    return tokenizer


def segment_zh(text: str) -> list[str]:
    """Segment Chinese with jieba's search mode (words plus their in-vocabulary sub-words).

    Search mode emits ``中华人民共和国`` and also ``中华``, ``人民``, ``共和国``, so a query
    that uses a shorter word still matches: the usual choice for indexing.
    """
    return _jieba().lcut_for_search(text)


# ---------------------------------------------------------------- Japanese (fugashi)
#: UniDic POS (level 1) of function words and symbols, dropped when stopwords are on.
JA_FUNCTION_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})
_JA_INFLECTING = frozenset({"動詞", "形容詞", "助動詞"})


@cache
def _tagger() -> Any:
    fugashi = require("fugashi", "cjk", "Japanese word segmentation", package="fugashi")
    require("unidic_lite", "cjk", "Japanese word segmentation", package="unidic-lite")
    return fugashi.Tagger()


def segment_ja(text: str, *, drop_function_words: bool = True) -> list[str]:
    """Segment Japanese with MeCab (fugashi) and UniDic-lite.

    Verbs and adjectives become their dictionary lemma (``食べた``, ``たべる`` → ``食べる``),
    so inflected forms and kana/kanji spellings match. Other words keep their surface form:
    UniDic's lemma of proper nouns is a katakana reading (``東京`` → ``トウキョウ``), which
    would merge homophones.

    Args:
        text: Normalized Japanese text.
        drop_function_words: Drop particles, auxiliaries and symbols by part of speech.
    """
    out: list[str] = []
    for word in _tagger()(text):
        feature = word.feature
        pos = feature.pos1
        if drop_function_words and pos in JA_FUNCTION_POS:
            continue
        if pos in _JA_INFLECTING and feature.lemma and feature.lemma != "*":
            out.append(feature.lemma.split("-", 1)[0])  # "為る" lemma may carry a "-gloss"
        else:
            out.append(word.surface)
    return out


# ---------------------------------------------------------------- Korean (kiwipiepy)
#: Sejong tags kept: nouns, numerals, verb/adjective stems, roots, adverbs, foreign words,
#: numbers, hanja. Particles (J*), endings (E*), affixes (X*S*) and symbols are dropped.
KO_CONTENT_TAGS = frozenset(
    {
        "NNG",
        "NNP",
        "NR",
        "NP",
        "VV",
        "VA",
        "VV-R",
        "VA-R",
        "VV-I",
        "VA-I",
        "XR",
        "MAG",
        "SL",
        "SN",
        "SH",
        "MM",
        "W_HASHTAG",
    }
)


@cache
def _kiwi() -> Any:
    kiwipiepy = require("kiwipiepy", "cjk", "Korean morphological analysis", package="kiwipiepy")
    logger.debug("loading Kiwi (takes a few seconds)")
    return kiwipiepy.Kiwi()


def _ko_forms(tokens: Sequence[Any], keep_all: bool) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if keep_all or tok.tag in KO_CONTENT_TAGS:
            form = tok.form
            out.extend(form.split() if " " in form else (form,))
    return out


def segment_ko(texts: Sequence[str], *, drop_function_words: bool = True) -> list[list[str]]:
    """Analyze Korean with Kiwi and keep content morphemes (one list per text).

    Verb and adjective stems stand alone (``먹었다`` → ``먹``), nouns lose their particles
    (``서울대학교에서`` → ``서울대학교``). Kiwi analyses the whole batch in one native call.

    Args:
        texts: Normalized Korean texts.
        drop_function_words: Keep only the tags in ``KO_CONTENT_TAGS``; else keep all
            morphemes.
    """
    keep_all = not drop_function_words
    results = _kiwi().tokenize(list(texts))
    return [_ko_forms(tokens, keep_all) for tokens in results]


# ---------------------------------------------------------------- Thai (pythainlp)
@cache
def _thai_tokenize() -> Any:
    module = require("pythainlp.tokenize", "cjk", "Thai word segmentation", package="pythainlp")
    return module.word_tokenize


def segment_th(text: str) -> list[str]:
    """Segment Thai with pythainlp's dictionary-based ``newmm`` engine (works offline)."""
    return _thai_tokenize()(text, engine="newmm", keep_whitespace=False)
