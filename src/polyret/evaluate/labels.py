"""``run_labels(paths)``: short, unique system names for run files."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from polyret.errors import InvalidInputError

_STAGE_KEY = re.compile(r"-[0-9a-f]{12}$")
"""The key the pipeline appends to a stage folder (``stages/<name>-<key[:12]>``), written
out here because the pipeline sits layers above polyret.evaluate."""


def _plain(name: str) -> str:
    return _STAGE_KEY.sub("", name)


def _name(path: Path) -> str:
    """A pipeline stage's name (``stages/hybrid-1a2b3c4d5e6f/run.trec``: ``hybrid``), else the
    file name without its (compression and) format suffix (``bm25.trec.gz``: ``bm25``)."""
    if _STAGE_KEY.search(path.parent.name):
        return _plain(path.parent.name)
    return _plain(Path(path.name.removesuffix(".gz")).stem)


def run_labels(paths: Sequence[str | Path], fixed: Mapping[int, str] | None = None) -> list[str]:
    """A short unique label per run file, in order.

    A run is labelled by its file stem (``runs/bm25.trec`` → ``bm25``), a run in a pipeline
    stage's folder by the stage's name (``runs/exp1/stages/hybrid-1a2b3c4d5e6f/run.trec`` →
    ``hybrid``: the folder without its ``-`` and 12 hex digit key). Runs whose names collide
    are labelled by their folders instead: the parent folder, then as many folders further
    up as it takes to tell them apart, leaving out folders they all share
    (``runs/a/run.trec``, ``runs/b/run.trec`` → ``a``, ``b``; the hybrid stage of two runs
    ``exp1``, ``exp2`` → ``exp1/hybrid``, ``exp2/hybrid``). Stage keys are dropped from
    every folder name. Where a label still collides (with another label, or a file given
    twice) the path as given is the label.

    Args:
        paths: Run files.
        fixed: ``{index: label}`` for runs the user named (``label=path`` on the command
            line); the others are labelled around them.

    Returns:
        One label per path.

    Raises:
        InvalidInputError: when two runs end up with the same label (a fixed label repeated,
            or the same file given twice).

    Example:
        >>> run_labels(["runs/bm25.trec", "x/stages/hybrid-1a2b3c4d5e6f/run.trec",
        ...             "runs/a/run.trec", "runs/b/run.trec"])
        ['bm25', 'hybrid', 'a', 'b']
    """
    fixed = dict(fixed or {})
    labels = [fixed.get(i) or _name(Path(p)) for i, p in enumerate(paths)]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        if i not in fixed:
            groups[label].append(i)
    for members in groups.values():
        if len(members) > 1:
            for i, label in zip(
                members, _by_folders([Path(paths[i]) for i in members]), strict=True
            ):
                labels[i] = label
    counts = Counter(labels)
    labels = [
        str(paths[i]) if counts[label] > 1 and i not in fixed else label
        for i, label in enumerate(labels)
    ]
    repeated = sorted(label for label, n in Counter(labels).items() if n > 1)
    if repeated:
        raise InvalidInputError(
            f"several runs are labelled {repeated}: give each a label with label=path",
            field="runs",
        )
    return labels


def _by_folders(paths: Sequence[Path]) -> list[str]:
    """Labels from the folders of runs sharing a stem: the fewest folders (innermost first,
    shared ones left out but the parent) that tell them apart."""
    folders = [[_plain(p) for p in reversed(path.absolute().parent.parts)] for path in paths]
    depth = max(len(f) for f in folders)
    padded = [f + [""] * (depth - len(f)) for f in folders]
    kept: list[int] = []
    labels = [str(p) for p in paths]
    for level in range(depth):
        if level == 0 or len({f[level] for f in padded}) > 1:
            kept.append(level)
        labels = ["/".join(f[k] for k in reversed(kept) if f[k]) for f in padded]
        if len(set(labels)) == len(labels):
            break
    return labels
