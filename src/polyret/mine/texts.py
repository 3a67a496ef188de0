"""Text identity for positives-aware dedup: normalized-text codes and character n-gram Jaccard.

Two texts are *the same* when their normalized forms are equal (NFKC, case folding,
punctuation removed, whitespace collapsed), and *near duplicates* when the Jaccard
similarity of their character n-gram sets reaches a threshold. Both work on arrays of
text indices so a miner compares millions of (candidate, positive) pairs without a Python
loop over pairs: n-gram sets are built once per distinct text, pairs that cannot reach the
threshold are ruled out by their set sizes alone (``|A ∩ B| / |A ∪ B| ≥ t`` needs
``min(|A|, |B|) ≥ t · max(|A|, |B|)``), and the rest are intersected with one sort.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import regex

from polyret.text.normalize import normalize

_PUNCTUATION = regex.compile(r"[\p{P}\p{S}]+")
_SPACE = regex.compile(r"\s+")
_BITS = 21  # Unicode code points fit in 21 bits, so three of them fit one int64


def normalize_for_dedup(text: str) -> str:
    """The form two texts must share to count as the same text.

    NFKC and case folding (:func:`polyret.text.normalize`), punctuation and symbols
    removed, whitespace collapsed.

    Example:
        >>> normalize_for_dedup("  Der Rhein fließt   nach NORDEN! ")
        'der rhein fliesst nach norden'
    """
    folded = normalize(text)
    return _SPACE.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def text_codes(texts: Sequence[str]) -> np.ndarray:
    """One integer per text; equal codes ⇔ equal :func:`normalize_for_dedup` forms.

    Example:
        >>> text_codes(["Hello, world!", "hello world", "Hallo Welt"]).tolist()
        [0, 0, 1]
    """
    if not len(texts):
        return np.zeros(0, dtype=np.int64)
    normalized = pa.array([normalize_for_dedup(t) for t in texts], pa.string())
    codes = normalized.dictionary_encode().indices
    return codes.to_numpy(zero_copy_only=False).astype(np.int64)


class NgramSets:
    """Distinct character n-grams of each text, as integer ids in one flat array.

    Texts shorter than ``n`` characters count as one n-gram (the whole text). Within a
    text, n-grams are ordered rarest first (by how many of the texts hold them), the
    global order that prefix filtering needs.

    Args:
        texts: The texts (normalized by the caller when wanted).
        n: Characters per n-gram (at most 3).

    Example:
        >>> sets = NgramSets(["abcd", "abce", "xyz"])
        >>> sets.sizes.tolist()
        [2, 2, 1]
        >>> sets.jaccard(np.array([0, 0]), np.array([1, 2])).tolist()
        [0.3333333333333333, 0.0]
    """

    def __init__(self, texts: Sequence[str], n: int = 3) -> None:
        if not 1 <= n <= 3:
            raise ValueError(f"n must be 1, 2 or 3, got {n}")
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
        points = points.astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        grams_per_text = np.maximum(lengths - n + 1, np.minimum(lengths, 1))
        owner = np.repeat(np.arange(len(texts)), grams_per_text)
        position = starts[owner] + _offsets_within(grams_per_text)
        codes = np.zeros(len(position), dtype=np.int64)
        last = max(len(points) - 1, 0)
        for shift in range(n):  # pad past a short text's end with 0 (no code point is 0 here)
            index = position + shift
            inside = index < starts[owner + 1]
            values = points[np.minimum(index, last)] if len(points) else np.zeros(len(index))
            codes = (codes << _BITS) | np.where(inside, values, 0).astype(np.int64)
        unique_codes, gram = np.unique(codes, return_inverse=True)
        order = np.lexsort((gram, owner))
        owner, gram = owner[order], gram[order]
        first = np.ones(len(gram), dtype=bool)
        first[1:] = (owner[1:] != owner[:-1]) | (gram[1:] != gram[:-1])
        owner, gram = owner[first], gram[first]
        frequency = np.bincount(gram, minlength=len(unique_codes))
        order = np.lexsort((gram, frequency[gram], owner))  # rarest first within each text
        self.grams = gram[order]
        self.num_grams = len(unique_codes)
        self.sizes = np.bincount(owner, minlength=len(texts))
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])

    def jaccard(self, a: np.ndarray, b: np.ndarray, *, at_least: float = 0.0) -> np.ndarray:
        """Jaccard similarity of the n-gram sets of texts ``a[i]`` and ``b[i]``.

        Pairs that cannot reach ``at_least`` may get 0 instead of their similarity: those
        whose set sizes rule it out, and those whose rarest ``|A| − ⌈t·|A|⌉ + 1`` n-grams
        share nothing with the rarest ``|B| − ⌈t·|B|⌉ + 1`` of the other (prefix
        filtering, exact: Chaudhuri et al., ICDE 2006). Only the rest are intersected.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        out = np.zeros(len(a))
        size_a, size_b = self.sizes[a], self.sizes[b]
        possible = np.minimum(size_a, size_b) >= at_least * np.maximum(size_a, size_b)
        possible &= np.maximum(size_a, size_b) > 0
        same = possible & (a == b)
        out[same] = 1.0
        pairs = np.flatnonzero(possible & ~same)
        if at_least > 0 and len(pairs):
            sa, sb = size_a[pairs], size_b[pairs]
            prefix_a = sa - np.ceil(at_least * sa - 1e-9).astype(np.int64) + 1
            prefix_b = sb - np.ceil(at_least * sb - 1e-9).astype(np.int64) + 1
            shared = self._shared(a[pairs], np.clip(prefix_a, 1, sa), b[pairs], prefix_b)
            pairs = pairs[shared > 0]
        if not len(pairs):
            return out
        intersection = self._shared(a[pairs], size_a[pairs], b[pairs], size_b[pairs])
        union = size_a[pairs] + size_b[pairs] - intersection
        out[pairs] = intersection / union
        return out

    def _shared(
        self, a: np.ndarray, take_a: np.ndarray, b: np.ndarray, take_b: np.ndarray
    ) -> np.ndarray:
        """Per pair, how many of ``a``'s first ``take_a`` n-grams are among ``b``'s first
        ``take_b`` (``take_b`` must depend on the text ``b`` only)."""
        distinct, first, which = np.unique(b, return_index=True, return_inverse=True)
        take = np.clip(take_b[first], 0, self.sizes[distinct])
        owner_b = np.repeat(np.arange(len(distinct)), take)
        index_b = np.repeat(self.offsets[distinct], take) + _offsets_within(take)
        keys = np.sort(owner_b * self.num_grams + self.grams[index_b])
        take_a = np.clip(take_a, 0, self.sizes[a])
        pair = np.repeat(np.arange(len(a)), take_a)
        index_a = np.repeat(self.offsets[a], take_a) + _offsets_within(take_a)
        probes = which[pair] * self.num_grams + self.grams[index_a]
        found = np.searchsorted(keys, probes)
        hit = keys[np.minimum(found, len(keys) - 1)] == probes if len(keys) else found < 0
        return np.bincount(pair[hit], minlength=len(a))


def _offsets_within(counts: np.ndarray) -> np.ndarray:
    """``[0, 1, …, c₀−1, 0, 1, …, c₁−1, …]`` for ``counts = [c₀, c₁, …]``."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
