"""The BGE-M3 folder format: a transformer folder with CLS pooling and two extra heads.

``BAAI/bge-m3`` ships, next to the transformer (``config.json``, ``tokenizer.json``,
weights) and its sentence-transformers modules (``1_Pooling`` with CLS pooling):

- ``colbert_linear.pt``: the multi-vector projection, a ``torch.nn.Linear(hidden, dim)``
  state dict applied to each token state (BGE-M3 skips the CLS token);
- ``sparse_linear.pt``: the sparse head, a ``torch.nn.Linear(hidden, 1)`` state dict whose
  ReLU is each token's lexical weight.

:func:`write_m3_folder` makes such a folder from any transformer folder with freshly
initialised heads: the starting point of M3 training, and the offline stand-in for a
downloaded BGE-M3 in tests and benchmarks.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from polyret.errors import InvalidInputError
from polyret.optional import require

COLBERT_FILE = "colbert_linear.pt"
SPARSE_FILE = "sparse_linear.pt"
_LINK_ABOVE = 1 << 20  # files larger than this (the weights) are symlinked, not copied


def write_m3_folder(
    source: str | os.PathLike[str], target: str | os.PathLike[str], *, seed: int = 0
) -> Path:
    """Write a BGE-M3-format folder at ``target`` from the transformer folder ``source``.

    Small files are copied, weight files symlinked; ``1_Pooling`` is set to CLS pooling;
    ``colbert_linear.pt`` ([hidden → hidden]) and ``sparse_linear.pt`` ([hidden → 1]) are
    ``torch.nn.Linear`` layers initialised with ``seed``.

    Raises:
        InvalidInputError: ``source`` has no ``config.json``, or ``target`` exists.
    """
    source, target = Path(source), Path(target)
    if not (source / "config.json").is_file():
        raise InvalidInputError("not a transformer model folder (no config.json)", path=source)
    if target.exists():
        raise InvalidInputError("the target folder exists", path=target)
    torch = require("torch", "dense", "BGE-M3 heads")
    target.mkdir(parents=True)
    for item in source.iterdir():
        if item.is_dir():
            shutil.copytree(item, target / item.name)
        elif item.stat().st_size > _LINK_ABOVE:
            (target / item.name).symlink_to(item.resolve())
        else:
            shutil.copy(item, target / item.name)
    pooling_file = target / "1_Pooling" / "config.json"
    hidden = int(json.loads((source / "config.json").read_text())["hidden_size"])
    pooling = json.loads(pooling_file.read_text()) if pooling_file.is_file() else {}
    pooling.update(
        word_embedding_dimension=hidden,
        pooling_mode_cls_token=True,
        pooling_mode_mean_tokens=False,
        pooling_mode_max_tokens=False,
        pooling_mode_mean_sqrt_len_tokens=False,
    )
    pooling.pop("pooling_mode", None)
    pooling_file.parent.mkdir(exist_ok=True)
    pooling_file.write_text(json.dumps(pooling, indent=2) + "\n")
    torch.manual_seed(seed)
    torch.save(torch.nn.Linear(hidden, hidden).state_dict(), target / COLBERT_FILE)
    torch.save(torch.nn.Linear(hidden, 1).state_dict(), target / SPARSE_FILE)
    return target
