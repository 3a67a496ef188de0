"""Open what a search service serves: a pipeline run's indexes, or one index folder.

A pipeline run directory (``manifest.json``, see :mod:`polyret.io.manifest`) gives
every ``index-bm25`` / ``index-dense`` / ``index-multivector`` / ``index-sparse`` stage,
named by its stage name; the document texts come from the ``dataset`` stage the indexes were
built from; every ``fuse`` stage over runs of loaded indexes gives a :class:`Fusion`
(method, weights; ``fusion.json`` holds tuned ones), and the hybrid defaults (which BM25
and dense index, method, weights) come from the first over one BM25 and one dense index;
the reranker from a ``rerank`` stage, built the way the stage builds it. A single index
folder is opened with its retriever's ``load``; its texts come from ``corpus`` or, for a
stage folder, from its run's dataset stage.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError
from polyret.io.artifact import read_meta
from polyret.io.manifest import MANIFEST_FILE, read_encoder_spec, read_manifest
from polyret.serve.locked import LockedEncoder
from polyret.serve.schemas import IndexKind
from polyret.types import Corpus

log = logging.getLogger(__name__)

_INDEX_STAGES: dict[str, IndexKind] = {
    "index-bm25": "bm25",
    "index-dense": "dense",
    "index-multivector": "multivector",
    "index-sparse": "sparse",
}


@dataclass(frozen=True)
class LoadedIndex:
    """One index, ready to search.

    Attributes:
        name: Its stage name (a single folder: the folder name).
        kind: ``"bm25"``, ``"dense"``, ``"multivector"`` or ``"sparse"``.
        retriever: The :class:`~polyret.retrieve.BM25`, :class:`~polyret.retrieve.Dense`,
            :class:`~polyret.retrieve.MultiVector` or :class:`~polyret.retrieve.LearnedSparse`.
        path: The index folder.
        encoder: The dense, multi-vector or sparse index's model reference (name or folder).
    """

    name: str
    kind: IndexKind
    retriever: Any
    path: Path
    encoder: str | None = None

    @property
    def documents(self) -> int:
        """Number of indexed documents."""
        return int(self.retriever.num_documents)


@dataclass(frozen=True)
class Fusion:
    """How a pipeline ``fuse`` stage fused runs of loaded indexes: ``weights[i]`` is
    ``indexes[i]``'s; ``hybrid`` requests naming the same indexes fuse this way by default
    (``stage`` ``None``: no stage fused them, RRF with equal weights)."""

    stage: str | None
    indexes: tuple[str, ...]
    method: str
    weights: tuple[float, ...]
    rrf_k: float
    normalization: str


@dataclass(frozen=True)
class HybridDefaults:
    """How ``hybrid`` fuses when a request does not say (the pipeline's fuse stage, if any).

    ``weights`` are (BM25, dense); ``method`` and ``normalization`` are registered names
    (:data:`polyret.retrieve.combiners`, :data:`polyret.retrieve.normalizers`).
    """

    bm25: str | None = None
    dense: str | None = None
    method: str = "rrf"
    weights: tuple[float, float] = (1.0, 1.0)
    rrf_k: float = 60.0
    normalization: str = "min-max"
    stage: str | None = None


@dataclass(frozen=True)
class ServedIndexes:
    """Everything a search service holds, loaded once.

    Attributes:
        source: The run directory or index folder it came from.
        indexes: Indexes by name, in pipeline order.
        corpus: The documents' texts and languages (``None``: hits carry ids only).
        hybrid: Defaults of the ``hybrid`` and ``rerank`` modes.
        reranker: The reranker of the ``rerank`` mode (``None``: mode unavailable).
        reranker_name: What it is (``"bi-encoder (multilingual-e5-small)"``).
        skipped: Index stages of the run that could not be opened, with the reason.
        fusions: The run's fuse stages over loaded indexes, in pipeline order.
    """

    source: Path
    indexes: dict[str, LoadedIndex]
    corpus: Corpus | None = None
    hybrid: HybridDefaults = field(default_factory=HybridDefaults)
    reranker: Any = None
    reranker_name: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    fusions: tuple[Fusion, ...] = ()


def load_served(
    path: str | Path, *, corpus: str | None = None, rerank: bool = True
) -> ServedIndexes:
    """Open a pipeline run directory or a single index folder for serving.

    Args:
        path: A run directory (with ``manifest.json``) or an index folder.
        corpus: Documents to return texts from (a ``corpus.jsonl``, Parquet file, BEIR
            folder or catalogue name), overriding the run's dataset stage.
        rerank: Load the reranker (the ``rerank`` mode).

    Raises:
        InvalidInputError: ``path`` is neither, or the run holds no finished index.
    """
    path = Path(path)
    if (path / MANIFEST_FILE).is_file():
        return _load_run(path, corpus, rerank)
    if not path.is_dir():
        raise InvalidInputError("no such folder", path=path)
    return _load_folder(path, corpus, rerank)


# run directories -----------------------------------------------------------------------------
def _load_run(run_dir: Path, corpus_source: str | None, rerank: bool) -> ServedIndexes:
    manifest = read_manifest(run_dir)
    configs = {s["name"]: s for s in manifest.config.get("stages", [])}
    dirs = {s.name: s.path for s in manifest.stages if s.path.is_dir()}
    encoders: dict[str, LockedEncoder] = {}
    indexes: dict[str, LoadedIndex] = {}
    datasets: set[str | None] = set()
    skipped: dict[str, str] = {}
    for name, config in configs.items():
        if config.get("type") not in _INDEX_STAGES or name not in dirs:
            continue
        try:
            indexes[name] = _open_index(name, dirs[name], encoders)
        except InvalidInputError as error:  # e.g. its encoder changed since: serve the rest
            log.warning("serve: skipping index %s: %s", name, error)
            skipped[name] = str(error)
            continue
        datasets.add(config.get("inputs", {}).get("dataset"))
    if not indexes:
        reasons = "".join(f"; {name}: {why}" for name, why in skipped.items())
        raise InvalidInputError(
            f"the run holds no {' or '.join(_INDEX_STAGES)} stage that opens{reasons}",
            path=run_dir,
        )
    corpus = _corpus(corpus_source, datasets, dirs, run_dir)
    fusions = _fusions(configs, dirs, indexes)
    hybrid = _hybrid_defaults(fusions, indexes)
    reranker, reranker_name = (None, None)
    if rerank and corpus is not None:
        reranker, reranker_name = _reranker(configs, dirs, hybrid, encoders)
    return ServedIndexes(
        run_dir, indexes, corpus, hybrid, reranker, reranker_name, skipped, tuple(fusions)
    )


def _corpus(
    source: str | None, datasets: set[str | None], dirs: dict[str, Path], where: Path
) -> Corpus | None:
    if source is not None:
        from polyret.datasets import corpus_from

        return corpus_from(source)
    names = sorted(d for d in datasets if d is not None)
    if len(names) > 1:
        raise InvalidInputError(
            f"the indexes were built from different dataset stages ({', '.join(names)}); "
            "serve one index folder at a time, or pass the corpus to serve",
            path=where,
        )
    if not names or names[0] not in dirs:
        log.warning("no dataset stage found for %s: hits will carry no text or language", where)
        return None
    from polyret.io import read_beir

    return read_beir(dirs[names[0]]).corpus


def _fusions(
    configs: dict[str, dict[str, Any]], dirs: dict[str, Path], indexes: dict[str, LoadedIndex]
) -> list[Fusion]:
    """Every fuse stage whose runs each come from a different loaded index (a ``retrieve``
    stage's); weights, method and ``rrf_k`` as tuned (``fusion.json``), else configured."""
    fusions = []
    for name, config in configs.items():
        if config.get("type") != "fuse":
            continue
        runs = list(config.get("inputs", {}).get("runs") or [])
        sources = [configs.get(r, {}).get("inputs", {}).get("index") for r in runs]
        if not all(s in indexes for s in sources) or len(set(sources)) < len(sources):
            continue
        params = dict(config.get("params") or {})
        fusion_file = dirs[name] / "fusion.json" if name in dirs else None
        if fusion_file is not None and fusion_file.is_file():  # tuned weights, method, rrf_k
            params |= json.loads(fusion_file.read_text(encoding="utf-8"))
        fusions.append(
            Fusion(
                stage=name,
                indexes=tuple(sources),
                method=params.get("method", "rrf"),
                weights=tuple(float(w) for w in params.get("weights") or [1.0] * len(runs)),
                rrf_k=float(params.get("rrf_k", 60.0)),
                normalization=params.get("normalization", "min-max"),
            )
        )
    return fusions


def _hybrid_defaults(fusions: list[Fusion], indexes: dict[str, LoadedIndex]) -> HybridDefaults:
    """The first fusion of one BM25 and one dense index, else the first of each kind."""
    fused = ("bm25", "dense")
    for fusion in fusions:
        kinds = [indexes[name].kind for name in fusion.indexes]
        if sorted(kinds) != list(fused):
            continue
        by_kind = dict(zip(kinds, zip(fusion.indexes, fusion.weights, strict=True), strict=True))
        return HybridDefaults(
            bm25=by_kind["bm25"][0],
            dense=by_kind["dense"][0],
            method=fusion.method,
            weights=(by_kind["bm25"][1], by_kind["dense"][1]),
            rrf_k=fusion.rrf_k,
            normalization=fusion.normalization,
            stage=fusion.stage,
        )
    first = {kind: next((n for n, i in indexes.items() if i.kind == kind), None) for kind in fused}
    return HybridDefaults(bm25=first["bm25"], dense=first["dense"])


def _reranker(
    configs: dict[str, dict[str, Any]],
    dirs: dict[str, Path],
    hybrid: HybridDefaults,
    encoders: dict[str, LockedEncoder],
) -> tuple[Any, str]:
    """The rerank stage's reranker (the one over the hybrid run first), else the default."""
    from polyret.rerank import DEFAULT_RERANKER

    stages = [c for c in configs.values() if c.get("type") == "rerank"]
    stages.sort(key=lambda c: c.get("inputs", {}).get("run") != hybrid.stage)
    if stages:
        params = stages[0].get("params") or {}
        model_input = stages[0].get("inputs", {}).get("model")
        model = str(dirs[model_input]) if model_input in dirs else params.get("model")
        return _build_reranker(
            params.get("reranker", DEFAULT_RERANKER), model, params.get("options") or {}, encoders
        )
    return _build_reranker(DEFAULT_RERANKER, None, {}, encoders)


def _build_reranker(
    method: str, model: str | None, options: dict[str, Any], encoders: dict[str, LockedEncoder]
) -> tuple[Any, str]:
    """``load_reranker`` as the pipeline's rerank stage calls it, sharing a loaded encoder.

    A bi-encoder reranker whose model is an encoder the dense indexes already loaded (the
    packaged multilingual-e5-small, typically) gets that encoder object, not a second copy.
    """
    from polyret.models.catalogue import DEFAULT_MODEL
    from polyret.rerank import load_reranker

    shared = None
    if method == "bi-encoder" and not options:
        shared = encoders.get(_encoder_key(model or DEFAULT_MODEL, {}))
    if shared is not None:
        reranker = load_reranker(method, shared)
    else:
        reranker = load_reranker(method, *([model] if model else []), **options)
        if method == "bi-encoder":  # it encodes from request threads too: serialize it
            reranker.encoder = LockedEncoder(reranker.encoder)  # type: ignore[attr-defined]
    label = f"{method} ({Path(model).name if model else DEFAULT_MODEL})"
    log.info("serve: rerank mode with %s", label)
    return reranker, label


# single folders ------------------------------------------------------------------------------
def _load_folder(folder: Path, corpus_source: str | None, rerank: bool) -> ServedIndexes:
    kind = read_meta(folder).get("type")
    if kind not in _INDEX_STAGES.values():
        raise InvalidInputError(
            f"not an index or a pipeline run: the folder holds {kind!r}", path=folder, field="type"
        )
    encoders: dict[str, LockedEncoder] = {}
    index = _open_index(folder.resolve().name, folder, encoders)
    datasets: set[str | None] = set()
    dirs: dict[str, Path] = {}
    run_dir = folder.resolve().parent.parent
    if corpus_source is None and (run_dir / MANIFEST_FILE).is_file():  # a stage folder
        manifest = read_manifest(run_dir)
        dirs = {s.name: s.path for s in manifest.stages}
        for config in manifest.config.get("stages", []):
            if dirs.get(config["name"], Path()).resolve() == folder.resolve():
                datasets.add(config.get("inputs", {}).get("dataset"))
    corpus = _corpus(corpus_source, datasets, dirs, folder)
    defaults = HybridDefaults(
        bm25=index.name if index.kind == "bm25" else None,
        dense=index.name if index.kind == "dense" else None,
    )
    reranker, label = (None, None)
    if rerank and corpus is not None:
        from polyret.rerank import DEFAULT_RERANKER

        reranker, label = _build_reranker(DEFAULT_RERANKER, None, {}, encoders)
    return ServedIndexes(folder, {index.name: index}, corpus, defaults, reranker, label)


def _open_index(name: str, folder: Path, encoders: dict[str, LockedEncoder]) -> LoadedIndex:
    """A BM25, multi-vector or sparse index, or a dense one with its (shared, locked) encoder.

    A multi-vector or sparse index keeps its own token encoder (not shareable with a dense
    one, nor with each other: each runs another ONNX graph); the service serializes its
    searches.
    """
    from polyret.retrieve import LearnedSparse, MultiVector, load_index

    meta = read_meta(folder)
    with_tokens: dict[str, Any] = {"multivector": MultiVector, "sparse": LearnedSparse}
    if meta.get("type") in with_tokens:
        kind = meta["type"]
        log.info("serve: loading %s index %s from %s", kind, name, folder)
        retriever = with_tokens[kind].load(folder)
        return LoadedIndex(name, kind, retriever, folder, retriever.config.encoder)
    if meta.get("type") != "dense":
        log.info("serve: loading BM25 index %s from %s", name, folder)
        return LoadedIndex(name, "bm25", load_index(folder), folder)
    spec = read_encoder_spec(folder)
    if spec is not None:  # a pipeline stage: how to load its encoder
        ref, options = str(spec["encoder"]), dict(spec.get("options") or {})
    else:
        ref, options = str(meta["encoder"]["name"]), dict(meta["encoder"].get("options") or {})
    key = _encoder_key(ref, options)
    if key not in encoders:
        from polyret.encode import load_encoder

        log.info("serve: loading encoder %s", ref)
        encoders[key] = LockedEncoder(load_encoder(ref, **options))
    log.info("serve: loading dense index %s from %s", name, folder)
    retriever = load_index(folder, encoder=encoders[key])
    return LoadedIndex(name, "dense", retriever, folder, ref)


def _encoder_key(ref: str, options: dict[str, Any]) -> str:
    return json.dumps({"ref": ref, **options}, sort_keys=True, default=str)
