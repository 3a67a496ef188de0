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
a model here with its own ``inputs`` model; its ``params`` are the config class of the
package that owns the stage (:class:`~polyret.retrieve.BM25Config`, ...), or a subclass that
adds pipeline-only fields such as ``splits`` (:func:`polyret.pipeline.loading.params_model`
names it). All are ``extra="forbid"``, so a typo'd key is an error naming its path.
Cross-stage rules (names exist and come earlier, the output kind fits the role, files exist,
registry names) are checked by :func:`polyret.pipeline.load_config`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polyret.curate.config import FilterConfig, GenerateConfig
from polyret.datasets.subset import DatasetConfig
from polyret.distributed.backend import Backend
from polyret.evaluate.config import EvaluationConfig
from polyret.mine.config import DEFAULT_RETRIEVER, DEFAULT_STRATEGY, MiningConfig, Retriever
from polyret.mine.presets import PRESETS
from polyret.rerank.config import RerankConfig
from polyret.retrieve.bm25 import BM25Config
from polyret.retrieve.dense import DenseConfig
from polyret.retrieve.fusion import FuseConfig
from polyret.retrieve.searching import SearchConfig

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

    __init__ = BaseModel.__init__  # validated as a field: keep pydantic's key paths

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
class StageBase(_Strict):
    """What every stage has. Subclasses fix ``type``, ``inputs`` and ``params``.

    Class attributes: ``output`` is the kind of artifact the stage writes; ``accepts`` maps
    each input role to the kinds it accepts.
    """

    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    type: str
    inputs: Any
    params: Any

    output: ClassVar[str]
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {}

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


class DatasetStage(StageBase):
    """Load a collection (and optionally cut it down); writes a BEIR folder."""

    type: Literal["dataset"]
    inputs: NoInputs = NoInputs()
    params: DatasetConfig
    output: ClassVar[str] = DATASET


class GenerateStage(StageBase):
    """Generate (query, positive) examples from the corpus; writes a training-set folder."""

    type: Literal["generate"]
    inputs: DatasetInput = DatasetInput()
    params: GenerateParams
    output: ClassVar[str] = TRAINING_SET
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {"dataset": (DATASET,)}


class FilterStage(StageBase):
    """Drop bad examples; writes a training-set folder with the funnel."""

    type: Literal["filter"]
    inputs: ExamplesInputs
    params: FilterParams
    output: ClassVar[str] = TRAINING_SET
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {
        "examples": (TRAINING_SET,),
        "dataset": (DATASET,),
    }


class MineStage(StageBase):
    """Mine hard negatives; writes a training-set folder."""

    type: Literal["mine"]
    inputs: MineInputs
    params: MineParams = MineParams()
    output: ClassVar[str] = TRAINING_SET
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {
        "examples": (TRAINING_SET,),
        "dataset": (DATASET,),
        "index": (INDEX,),
    }


class TrainBiEncoderStage(StageBase):
    """Fine-tune a bi-encoder; the stage folder is the sentence-transformers model.

    ``params`` are validated against :class:`~polyret.pipeline.train_params.
    TrainBiEncoderParams` in a second pass, so a config without training never imports
    torch.
    """

    type: Literal["train-bi-encoder"]
    inputs: TrainInputs
    params: Any = Field(default_factory=dict)
    output: ClassVar[str] = BI_ENCODER
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {
        "examples": (TRAINING_SET,),
        "dataset": (DATASET,),
    }


class TrainCrossEncoderStage(StageBase):
    """Train a cross-encoder; the stage folder is the sentence-transformers model (params
    validated in a second pass, as for ``train-bi-encoder``)."""

    type: Literal["train-cross-encoder"]
    inputs: TrainInputs
    params: Any = Field(default_factory=dict)
    output: ClassVar[str] = CROSS_ENCODER
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {
        "examples": (TRAINING_SET,),
        "dataset": (DATASET,),
    }


class IndexBM25Stage(StageBase):
    """Build a BM25 index of the corpus; the stage folder is the index."""

    type: Literal["index-bm25"]
    inputs: DatasetInput = DatasetInput()
    params: BM25Config = BM25Config()
    output: ClassVar[str] = INDEX
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {"dataset": (DATASET,)}


class IndexDenseStage(StageBase):
    """Encode the corpus into a FAISS index; the stage folder is the index."""

    type: Literal["index-dense"]
    inputs: IndexDenseInputs = IndexDenseInputs()
    params: DenseConfig = DenseConfig()
    output: ClassVar[str] = INDEX
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {
        "dataset": (DATASET,),
        "encoder": (BI_ENCODER,),
    }


class RetrieveStage(StageBase):
    """Search an index with a split's queries; writes ``run.trec``."""

    type: Literal["retrieve"]
    inputs: RetrieveInputs
    params: RetrieveParams = RetrieveParams()
    output: ClassVar[str] = RUN
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {"index": (INDEX,), "dataset": (DATASET,)}


class FuseStage(StageBase):
    """Fuse runs (optionally tuned on a split); writes ``run.trec`` and ``fusion.json``."""

    type: Literal["fuse"]
    inputs: FuseInputs
    params: FuseParams = FuseParams()
    output: ClassVar[str] = RUN
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {"runs": (RUN,), "dataset": (DATASET,)}


class RerankStage(StageBase):
    """Rerank a run; writes ``run.trec`` (and ``ensemble.json`` with ``ensemble``)."""

    type: Literal["rerank"]
    inputs: RerankInputs
    params: RerankParams = RerankParams()
    output: ClassVar[str] = RUN
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {
        "run": (RUN,),
        "dataset": (DATASET,),
        "model": (BI_ENCODER, CROSS_ENCODER),
    }


class EvaluateStage(StageBase):
    """Evaluate runs against the qrels of a split; writes ``evaluation.json``."""

    type: Literal["evaluate"]
    inputs: EvaluateInputs
    params: EvaluateParams = EvaluateParams()
    output: ClassVar[str] = EVALUATION
    accepts: ClassVar[dict[str, tuple[str, ...]]] = {"runs": (RUN,), "dataset": (DATASET,)}


STAGE_MODELS: tuple[type[StageBase], ...] = (
    DatasetStage,
    GenerateStage,
    FilterStage,
    MineStage,
    TrainBiEncoderStage,
    TrainCrossEncoderStage,
    IndexBM25Stage,
    IndexDenseStage,
    RetrieveStage,
    FuseStage,
    RerankStage,
    EvaluateStage,
)
"""Every built-in stage model; its ``type`` literal is the registered stage type."""

Stage = Annotated[
    DatasetStage
    | GenerateStage
    | FilterStage
    | MineStage
    | TrainBiEncoderStage
    | TrainCrossEncoderStage
    | IndexBM25Stage
    | IndexDenseStage
    | RetrieveStage
    | FuseStage
    | RerankStage
    | EvaluateStage,
    Field(discriminator="type"),
]


def stage_type(model: type[StageBase]) -> str:
    """The ``type`` literal of a stage model."""
    annotation = model.model_fields["type"].annotation
    return str(annotation.__args__[0])  # type: ignore[union-attr]


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
