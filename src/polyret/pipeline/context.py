"""What an adapter sees: its stage, its seed, and its inputs' artifacts, loaded once per run.

Stage folders are the artifacts themselves (see :mod:`polyret.pipeline.runner`):

| output kind | the stage folder |
| --- | --- |
| dataset | a BEIR folder (``polyret.load`` opens it) |
| training-set | a :class:`~polyret.types.TrainingSet` folder |
| bi-encoder / cross-encoder | a sentence-transformers model folder |
| index | a BM25 or dense index folder (dense: plus ``encoder.json``) |
| run | ``run.trec`` (plus ``fusion.json`` / ``ensemble.json``) |
| evaluation | ``evaluation.json`` |
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyret.distributed.backend import LOCAL, Backend
from polyret.io.manifest import read_encoder_spec
from polyret.pipeline.schema import StageBase
from polyret.types import Dataset, Qrels, Queries, Run, TrainingSet

RUN_FILE = "run.trec"


@dataclass
class StageContext:
    """Inputs of one stage run.

    Attributes:
        stage: The validated stage.
        dirs: Folder of every finished stage of this run, by name.
        seed: The stage's effective seed (``None`` for stages without randomness).
        memo: Artifacts already loaded in this run (shared by all stages).
        backend: Where the heavy stages run (:mod:`polyret.distributed`).
    """

    stage: StageBase
    dirs: Mapping[str, Path]
    seed: int | None = None
    memo: dict[Any, Any] = field(default_factory=dict)
    backend: Backend = LOCAL

    def input_dir(self, role: str, position: int = 0) -> Path:
        """The folder of the stage named in ``inputs.<role>`` (``position`` for lists)."""
        value = getattr(self.stage.inputs, role)
        if isinstance(value, str):
            name = value
        else:
            name = list(value.values() if isinstance(value, dict) else value)[position]
        return self.dirs[name]

    def has(self, role: str) -> bool:
        """Whether ``inputs.<role>`` is set."""
        return getattr(self.stage.inputs, role, None) is not None

    def _load(self, kind: str, folder: Path, loader: Any) -> Any:
        key = (kind, str(folder))
        if key not in self.memo:
            self.memo[key] = loader(folder)
        return self.memo[key]

    def dataset(self, role: str = "dataset") -> Dataset:
        """The collection of a ``dataset`` stage."""
        from polyret.io import read_beir

        return self._load("dataset", self.input_dir(role), read_beir)

    def split(self, name: str, role: str = "dataset") -> tuple[Queries, Qrels]:
        """Queries and qrels of one split of the input dataset."""
        return self.dataset(role).split(name)

    def queries_of(self, splits: list[str], role: str = "dataset") -> Queries:
        """The queries of several splits, in the dataset's query order."""
        data = self.dataset(role)
        wanted: set[str] = set()
        for name in splits:
            wanted.update(data.split(name)[1].query_ids.tolist())
        return data.queries.filter(ids=wanted)

    def training_set(self, role: str = "examples") -> TrainingSet:
        """The examples of a generate/filter/mine stage."""
        return self._load("training-set", self.input_dir(role), TrainingSet.load)

    def run(self, role: str = "run", position: int = 0) -> Run:
        """The run of a retrieve/fuse/rerank stage."""
        from polyret.io import read_trec_run

        folder = self.input_dir(role, position)
        return self._load("run", folder, lambda f: read_trec_run(f / RUN_FILE))

    def index(self, role: str = "index") -> Any:
        """A BM25 or dense index (dense: with the encoder it was built with)."""
        from polyret.retrieve import load_index

        folder = self.input_dir(role)
        spec = read_encoder_spec(folder)
        if spec is None:
            return self._load("index", folder, load_index)
        encoder = self.encoder(spec)
        return self._load("index", folder, lambda f: load_index(f, encoder=encoder))

    def encoder(self, spec: Mapping[str, Any]) -> Any:
        """A loaded encoder for ``{"encoder": name or folder, "options": {...}}`` (memoized)."""
        from polyret.encode import load_encoder

        options = dict(spec.get("options") or {})
        key = ("encoder", json.dumps({"ref": spec["encoder"], **options}, sort_keys=True))
        if key not in self.memo:
            self.memo[key] = load_encoder(spec["encoder"], **options)
        return self.memo[key]
