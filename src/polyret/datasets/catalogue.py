"""The catalogue of collections polyret can load by name."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from polyret.datasets.adapters import is_uri, load_uri
from polyret.errors import InvalidInputError, UnknownNameError
from polyret.io import read_beir
from polyret.types import Dataset

_DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class DatasetInfo:
    """What a catalogue entry is, before loading it."""

    name: str
    description: str
    license: str
    path: Path


_EMBEDDED = {
    "xquad-r": DatasetInfo(
        "xquad-r",
        "XQuAD-R answer-sentence retrieval: 2,378 sentences and 2,187 questions in "
        "ar de en es hi ru th tr zh, one shared corpus (embedded)",
        "CC BY-SA 4.0",
        _DATA / "xquad-r",
    ),
}


def list_datasets() -> list[DatasetInfo]:
    """The collections :func:`load` knows by name."""
    return list(_EMBEDDED.values())


def load(name: str) -> Dataset:
    """Load a catalogue collection by name, any BEIR folder by path, or an adapter URI.

    ``irds:<ir_datasets id>`` and ``hf:<Hugging Face dataset>`` (with ``?key=value``
    options) go to :func:`~polyret.datasets.from_ir_datasets` and
    :func:`~polyret.datasets.from_hf`; see :mod:`polyret.datasets.adapters`.

    Example:
        >>> dataset = load("xquad-r")
        >>> len(dataset.corpus), sorted(dataset.corpus.languages())[:3]
        (2378, ['ar', 'de', 'en'])

    Raises:
        UnknownNameError: for a name that is neither in the catalogue nor a folder.
    """
    if name in _EMBEDDED:
        return _load_cached(name)
    if is_uri(name):
        return load_uri(name)
    path = Path(name).expanduser()
    if path.is_dir():
        return read_beir(path)
    if path.exists():
        raise InvalidInputError("expected a BEIR folder, got a file", path=path)
    valid = sorted(_EMBEDDED)
    raise UnknownNameError("dataset", name, valid, difflib.get_close_matches(name, valid))


@cache
def _load_cached(name: str) -> Dataset:
    # Datasets are immutable, so every caller can share one loaded copy.
    return read_beir(_EMBEDDED[name].path, name=name)
