"""The pipeline config schema: stages, their named inputs and their parameters.

A config is plain data (YAML or TOML)::

    name: my-experiment
    seed: 0
    stages:
      - {name: data, type: dataset, params: {source: xquad-r}}
      - {name: bm25-index, type: index-bm25}
      - {name: bm25, type: retrieve, inputs: {index: bm25-index}, params: {splits: [dev, test]}}

Every stage has a unique ``name``, a ``type`` (the discriminator of the stage union),
``inputs`` (earlier stages' outputs by name, per role) and ``params``. Each stage type is
declared once, as a :class:`StageSpec` in :data:`STAGE_SPECS` (its inputs model, params
model, output kind, accepted input kinds and adapter); the stage models, the ``Stage`` union
and the adapter registry are built from that table. The ``params`` are the config class of
the package that owns the stage (:class:`~polyret.retrieve.BM25Config`, ...), or a subclass
that adds pipeline-only fields such as ``splits`` (:func:`params_model` names it). All are
``extra="forbid"``, so a typo'd key is an error naming its path.
Cross-stage rules (names exist and come earlier, the output kind fits the role, files exist,
registry names) are checked by :func:`polyret.pipeline.load_config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from polyret.curate.config import FilterConfig, GenerateConfig
from polyret.datasets.subset import DatasetConfig
from polyret.distributed.backend import Backend
from polyret.evaluate.config import EvaluationConfig
from polyret.mine.config import DEFAULT_RETRIEVER, DEFAULT_STRATEGY, MiningConfig, Retriever
from polyret.mine.presets import PRESETS
from polyret.registry import import_target
from polyret.rerank.config import RerankConfig
from polyret.retrieve.bm25 import BM25Config
from polyret.retrieve.dense import DenseConfig
from polyret.retrieve.fusion import FuseConfig
from polyret.retrieve.multivector import MultiVectorConfig
from polyret.retrieve.searching import SearchConfig
from polyret.retrieve.sparse import LearnedSparseConfig

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
"""Stage names: lowercase letters, digits and hyphens (they become folder names)."""

DATASET = "dataset"
TRAINING_SET = "training-set"
BI_ENCODER = "bi-encoder"
CROSS_ENCODER = "cross-encoder"
INDEX = "index"
RUN = "run"
EVALUATION = "evaluation"
"""What a stage produces (its output kind); input roles accept some kinds only."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoInputs(_Strict):
    """A stage that reads no earlier stage."""


class DatasetInput(_Strict):
    """Just the collection (default: the only dataset stage before this one)."""

    dataset: str | None = None


class ExamplesInputs(_Strict):
    """A training set (``generate``/``filter``/``mine`` output)."""

    examples: str


class MineInputs(_Strict):
    """Examples, the corpus to mine from, and optionally a saved index to retrieve with."""

    examples: str
    dataset: str | None = None
    index: str | None = None


class TrainInputs(_Strict):
    """Examples, and the collection whose dev split is evaluated (``dev_eval``)."""

    examples: str
    dataset: str | None = None


class TrainHeadsInputs(_Strict):
    """Examples, and optionally the encoder whose heads are trained (e.g. an ``adapt`` stage)."""

    examples: str
    encoder: str | None = None


class AdaptInputs(_Strict):
    """The collection (its corpus is adapted to, its dev split judges); optionally the
    index the negatives are mined from (default: the recipe's ``mining.retriever``) and the
    base encoder's run over the dev questions (then the check does not encode them again)."""

    dataset: str | None = None
    index: str | None = None
    baseline: str | None = None


class IndexDenseInputs(_Strict):
    """The collection, and optionally a trained bi-encoder to encode it with."""

    dataset: str | None = None
    encoder: str | None = None


class RetrieveInputs(_Strict):
    """An index and the collection whose queries it searches."""

    index: str
    dataset: str | None = None


class FuseInputs(_Strict):
    """Runs to fuse (two or more), in the order their weights are given."""

    runs: list[str] = Field(min_length=2)
    dataset: str | None = None


class RerankInputs(_Strict):
    """The first-stage run, and optionally a trained model to rerank with."""

    run: str
    dataset: str | None = None
    model: str | None = None


class EvaluateInputs(_Strict):
    """Runs to evaluate: ``{label: stage}`` (or a list of stage names, labelled by name)."""

    runs: dict[str, str] | list[str] = Field(min_length=1)
    dataset: str | None = None

    def labelled(self) -> dict[str, str]:
        """``{system label: stage name}``."""
        return dict(self.runs) if isinstance(self.runs, dict) else {n: n for n in self.runs}


# parameters ------------------------------------------------------------------------------------
class GenerateParams(GenerateConfig):
    """:class:`~polyret.curate.GenerateConfig` over the dataset's corpus; ``options`` go to
    the method's factory, ``seed`` defaults to the config's seed."""

    seed: int | None = None  # type: ignore[assignment]


FilterParams = FilterConfig
"""The ``filter`` stage's params: :class:`~polyret.curate.FilterConfig`."""


class MineParams(MiningConfig):
    """A mining strategy (:data:`polyret.mine.miners`) and :class:`~polyret.mine.MiningConfig`
    fields; unset fields keep the strategy's values (filled in from
    :data:`~polyret.mine.PRESETS` when the config is read, so the stage key covers the
    effective rules). Candidates come from the ``index`` input when given, else from
    ``retriever``, top ``k``; ``seed`` defaults to the config's seed.
    """

    strategy: str = Field(default=DEFAULT_STRATEGY, description="A registered strategy.")
    retriever: Retriever = Field(
        default=DEFAULT_RETRIEVER, description="Retrieves the candidates (without an index)."
    )
    k: int | None = Field(default=None, ge=1, description="Documents retrieved per query.")
    seed: int | None = None  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _strategy_values(cls, data: Any) -> Any:
        """Unset rule fields take the named preset's values."""
        if not isinstance(data, dict):
            return data
        preset = PRESETS.get(data.get("strategy", DEFAULT_STRATEGY))
        if preset is None:  # a third party's strategy: only the fields set are overrides
            return data
        return {**preset.model_dump(exclude={"seed"}), **data}


class RetrieveParams(SearchConfig):
    """:class:`~polyret.retrieve.SearchConfig` (``k``), plus the ``splits`` whose queries
    are searched (together, in one call)."""

    splits: list[str] = Field(default_factory=lambda: ["test"], min_length=1)


class FuseParams(FuseConfig):
    """:class:`~polyret.retrieve.FuseConfig`, plus the output depth ``k`` and the tuning:
    with ``tune_split``, the weights (and RRF constant) are grid-searched on that split's
    queries (:func:`polyret.retrieve.tune_fusion`) for ``metric`` on a grid of ``step``, and
    applied to every query."""

    # 100, not fuse()'s "keep all" or the CLI's 1000: the fused run is the reranker's input
    # and its depth changes a min-max normalized ensemble (kept as it was)
    k: int | None = Field(default=100, ge=1)
    tune_split: str | None = None
    metric: str = "ndcg@10"
    step: float = Field(default=0.1, gt=0, le=1)


class RerankParams(RerankConfig):
    """:class:`~polyret.rerank.RerankConfig` (a registered reranker over the input run's top
    ``k``; the model is the ``model`` input, else ``model`` here, else the reranker's
    default; with ``ensemble``, weights learned on ``tune_split``), plus ``splits``."""

    splits: list[str] | None = Field(
        default=None, description="Rerank these splits' queries (default: every query)."
    )


class EvaluateParams(EvaluationConfig):
    """:class:`~polyret.evaluate.EvaluationConfig` of every input run on ``split``
    (:func:`polyret.report.summarize`): means per language, recall curves and significance
    tests against ``baseline`` (a label of the ``runs`` input; default: the first);
    ``seed`` defaults to the config's seed."""

    split: str = Field(default="test", description="The split whose queries are evaluated.")
    seed: int | None = None  # type: ignore[assignment]


# stages ----------------------------------------------------------------------------------------
InputsT = TypeVar("InputsT", bound=BaseModel)
ParamsT = TypeVar("ParamsT")


_Model = type[BaseModel]  # ``type`` names a field of StageSpec
_Accepts = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class StageSpec:
    """One stage type: the single declaration its model, its adapter and its checks read.

    Attributes:
        type: The stage type (the ``type`` of a config stage).
        doc: What the stage does and writes.
        inputs: Its inputs model; a default when every role is optional.
        params: Its params model (a default when every field is optional), or the
            ``"module:Class"`` of one validated in a second pass (the training stages:
            a config without training never imports torch).
        output: The kind of artifact it writes.
        accepts: ``{input role: kinds}`` that each role accepts.
        adapter: ``"module:function"`` that runs it (:data:`polyret.pipeline.stage_types`).
    """

    type: str
    doc: str
    inputs: _Model
    params: _Model | str
    output: str
    accepts: _Accepts
    adapter: str

    @property
    def model_name(self) -> str:
        """``index-bm25`` → ``IndexBM25Stage``."""
        words = [w.upper() if w == "bm25" else w.capitalize() for w in self.type.split("-")]
        return "".join(words) + "Stage"


class StageBase(_Strict, Generic[InputsT, ParamsT]):
    """What every stage has; its model (:data:`STAGE_MODELS`) fixes ``type``, ``inputs`` and
    ``params`` from its :class:`StageSpec`, the ``spec`` class attribute.

    An adapter names what it reads as ``StageBase[FuseInputs, FuseParams]``.
    """

    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    type: str
    inputs: InputsT
    params: ParamsT

    spec: ClassVar[StageSpec]

    @property
    def output(self) -> str:
        """The kind of artifact the stage writes."""
        return self.spec.output

    @property
    def accepts(self) -> dict[str, tuple[str, ...]]:
        """``{input role: kinds}`` each role accepts."""
        return self.spec.accepts

    def references(self) -> dict[str, list[str]]:
        """``{input role: [stage names]}`` for every role that is set."""
        refs: dict[str, list[str]] = {}
        for role, value in self.inputs:
            if value is None:
                continue
            if isinstance(value, str):
                refs[role] = [value]
            elif isinstance(value, dict):
                refs[role] = list(value.values())
            else:
                refs[role] = list(value)
        return refs

    def seed(self, default: int) -> int | None:
        """The stage's seed (its ``params.seed``, else ``default``); ``None`` if unseeded."""
        if not isinstance(self.params, BaseModel) or "seed" not in type(self.params).model_fields:
            return None
        value = getattr(self.params, "seed", None)
        return default if value is None else int(value)


_DATA: _Accepts = {"dataset": (DATASET,)}
_EXAMPLES: _Accepts = {"examples": (TRAINING_SET,), **_DATA}
_RUNS: _Accepts = {"runs": (RUN,), **_DATA}
_ADAPTERS_DATA = "polyret.pipeline.adapters_data"
_ADAPTERS_RETRIEVAL = "polyret.pipeline.adapters_retrieval"

STAGE_SPECS: dict[str, StageSpec] = {
    spec.type: spec
    for spec in (
        StageSpec(
            "dataset",
            "Load a collection (and optionally cut it down); writes a BEIR folder.",
            NoInputs,
            DatasetConfig,
            DATASET,
            {},
            f"{_ADAPTERS_DATA}:run_dataset",
        ),
        StageSpec(
            "generate",
            "Generate (query, positive) examples from the corpus; writes a training-set folder.",
            DatasetInput,
            GenerateParams,
            TRAINING_SET,
            _DATA,
            f"{_ADAPTERS_DATA}:run_generate",
        ),
        StageSpec(
            "filter",
            "Drop bad examples; writes a training-set folder with the funnel.",
            ExamplesInputs,
            FilterParams,
            TRAINING_SET,
            _EXAMPLES,
            f"{_ADAPTERS_DATA}:run_filter",
        ),
        StageSpec(
            "mine",
            "Mine hard negatives; writes a training-set folder.",
            MineInputs,
            MineParams,
            TRAINING_SET,
            {**_EXAMPLES, "index": (INDEX,)},
            f"{_ADAPTERS_DATA}:run_mine",
        ),
        StageSpec(
            "train-bi-encoder",
            "Fine-tune a bi-encoder; the stage folder is the sentence-transformers model.",
            TrainInputs,
            "polyret.pipeline.train_params:TrainBiEncoderParams",
            BI_ENCODER,
            _EXAMPLES,
            f"{_ADAPTERS_DATA}:run_train",
        ),
        StageSpec(
            "train-cross-encoder",
            "Train a cross-encoder; the stage folder is the sentence-transformers model.",
            TrainInputs,
            "polyret.pipeline.train_params:TrainCrossEncoderParams",
            CROSS_ENCODER,
            _EXAMPLES,
            f"{_ADAPTERS_DATA}:run_train",
        ),
        StageSpec(
            "train-heads",
            "Train BGE-M3's heads over a frozen encoder (heads: colbert_linear.pt and/or "
            "sparse_linear.pt; distill > 0: M3 self-distillation); the stage folder is the "
            "encoder with its heads.",
            TrainHeadsInputs,
            "polyret.pipeline.train_params:TrainHeadsParams",
            BI_ENCODER,
            {**_EXAMPLES, "encoder": (BI_ENCODER,)},
            f"{_ADAPTERS_DATA}:run_train_heads",
        ),
        StageSpec(
            "adapt",
            "Adapt an encoder to the corpus without labels, checked on dev; the stage folder "
            "is the encoder to use (the adapted one, or the base when dev says it is worse).",
            AdaptInputs,
            "polyret.pipeline.train_params:AdaptParams",
            BI_ENCODER,
            {**_DATA, "index": (INDEX,), "baseline": (RUN,)},
            f"{_ADAPTERS_DATA}:run_adapt",
        ),
        StageSpec(
            "index-bm25",
            "Build a BM25 index of the corpus; the stage folder is the index.",
            DatasetInput,
            BM25Config,
            INDEX,
            _DATA,
            f"{_ADAPTERS_RETRIEVAL}:run_index_bm25",
        ),
        StageSpec(
            "index-dense",
            "Encode the corpus into a FAISS index; the stage folder is the index.",
            IndexDenseInputs,
            DenseConfig,
            INDEX,
            {**_DATA, "encoder": (BI_ENCODER,)},
            f"{_ADAPTERS_RETRIEVAL}:run_index_dense",
        ),
        StageSpec(
            "index-multivector",
            "Encode the corpus's token vectors for late interaction (MUVERA encodings in "
            "FAISS, exact MaxSim ranking); the stage folder is the index.",
            IndexDenseInputs,
            MultiVectorConfig,
            INDEX,
            {**_DATA, "encoder": (BI_ENCODER,)},
            f"{_ADAPTERS_RETRIEVAL}:run_index_multivector",
        ),
        StageSpec(
            "index-sparse",
            "Encode the corpus's learned sparse lexical weights (BGE-M3's sparse head or a "
            "SPLADE model) into an inverted index; the stage folder is the index.",
            IndexDenseInputs,
            LearnedSparseConfig,
            INDEX,
            {**_DATA, "encoder": (BI_ENCODER,)},
            f"{_ADAPTERS_RETRIEVAL}:run_index_sparse",
        ),
        StageSpec(
            "retrieve",
            "Search an index with a split's queries; writes ``run.trec``.",
            RetrieveInputs,
            RetrieveParams,
            RUN,
            {"index": (INDEX,), **_DATA},
            f"{_ADAPTERS_RETRIEVAL}:run_retrieve",
        ),
        StageSpec(
            "fuse",
            "Fuse runs (optionally tuned on a split); writes ``run.trec`` and ``fusion.json``.",
            FuseInputs,
            FuseParams,
            RUN,
            _RUNS,
            f"{_ADAPTERS_RETRIEVAL}:run_fuse",
        ),
        StageSpec(
            "rerank",
            "Rerank a run; writes ``run.trec`` (and ``ensemble.json`` with ``ensemble``).",
            RerankInputs,
            RerankParams,
            RUN,
            {"run": (RUN,), **_DATA, "model": (BI_ENCODER, CROSS_ENCODER)},
            f"{_ADAPTERS_RETRIEVAL}:run_rerank",
        ),
        StageSpec(
            "evaluate",
            "Evaluate runs against the qrels of a split; writes ``evaluation.json``.",
            EvaluateInputs,
            EvaluateParams,
            EVALUATION,
            _RUNS,
            f"{_ADAPTERS_RETRIEVAL}:run_evaluate",
        ),
    )
}
"""Every built-in stage type, in the order they are listed (and documented)."""


def _field(model: type[BaseModel] | str) -> tuple[Any, Any]:
    """``(annotation, default)``: a default instance when every field of ``model`` has a
    default; a lazily validated model's raw params (a dict, default empty)."""
    if isinstance(model, str):
        return Any, Field(default_factory=dict)
    optional = not any(info.is_required() for info in model.model_fields.values())
    return model, model() if optional else ...


def _stage_model(spec: StageSpec) -> type[StageBase[Any, Any]]:
    inputs, params = _field(spec.inputs), _field(spec.params)
    tag: Any = Literal[spec.type]  # a Literal built at run time: the discriminator value
    model = create_model(
        spec.model_name,
        __base__=StageBase[inputs[0], params[0]],  # type: ignore[valid-type]
        __doc__=spec.doc,
        __module__=__name__,
        type=(tag, ...),
        inputs=inputs,
        params=params,
    )
    model.spec = spec
    return model


STAGE_MODELS: tuple[type[StageBase[Any, Any]], ...] = tuple(
    _stage_model(spec) for spec in STAGE_SPECS.values()
)
"""Every built-in stage model (``DatasetStage``, ..., ``EvaluateStage``), built from
:data:`STAGE_SPECS`; its ``type`` literal is the registered stage type."""

if TYPE_CHECKING:  # the union is built at run time; a type checker sees its base
    Stage = StageBase[Any, Any]
else:
    Stage = Annotated[Union[STAGE_MODELS], Field(discriminator="type")]  # noqa: UP007


def params_model(stage_type: str) -> type[BaseModel]:
    """The class a stage's ``params`` are validated with (the training stages' classes import
    torch: their module is imported only when asked for)."""
    params = STAGE_SPECS[stage_type].params
    return import_target(params) if isinstance(params, str) else params


class PipelineConfig(_Strict):
    """A whole pipeline: a name, a default seed and the stages, run in order.

    Attributes:
        name: Names the run (and the default run directory).
        seed: Seed of every stage that draws random numbers, unless its params set one.
        description: Free text, shown in the report.
        backend: Where the heavy stages run (``{name: ray, address: auto}``); never part
            of a stage key.
        stages: The stages; each reads only stages listed before it.
    """

    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    seed: int = 0
    description: str = ""
    backend: Backend = Backend()
    stages: list[Stage] = Field(min_length=1)

    def stage(self, name: str) -> StageBase:
        """The stage called ``name``."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)
