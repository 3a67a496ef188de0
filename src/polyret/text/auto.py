"""The ``"auto"`` analyzer: detect each text's language, analyze with that language's analyzer."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from polyret.text.analysis import AnalyzerShell
from polyret.text.config import AnalyzerConfig
from polyret.text.langid import detect_languages

__all__ = ["AutoAnalyzer"]


class AutoAnalyzer(AnalyzerShell):
    """Detects the language of every text and dispatches to :func:`analyzer_for`.

    A batch is grouped by detected language, each group analyzed in one call, and the
    results put back in input order.

    Args:
        config: Options passed on to every per-language analyzer (its ``language`` is
            ``"auto"``).

    Example:
        >>> AutoAnalyzer().analyze_batch(["Die Häuser", "東京で寿司を食べた"])
        [['die', 'haus'], ['東京', 'で', '寿司', 'を', '食べる', 'た']]
    """

    def __init__(self, config: AnalyzerConfig | None = None) -> None:
        self._config = config or AnalyzerConfig(language="auto")

    def analyze_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """Terms of each text, each analyzed in its detected language, in input order."""
        from polyret.text.registry import analyzer_for

        groups: dict[str, list[int]] = defaultdict(list)
        for i, lang in enumerate(detect_languages(texts)):
            groups[lang].append(i)
        options = dataclasses.asdict(self._config)
        del options["language"]
        out: list[list[str]] = [[] for _ in texts]
        for lang, rows in groups.items():
            terms = analyzer_for(lang, **options).analyze_batch([texts[i] for i in rows])
            for i, doc in zip(rows, terms, strict=True):
                out[i] = doc
        return out
