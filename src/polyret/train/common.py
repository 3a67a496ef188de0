"""What every trainer shares: base models by name, output folders, resume, provenance.

A training run writes into ``out``: resumable checkpoints under ``out/checkpoints`` while it
runs (with ``run.json``, the identity of the run a resume must match), then the final
sentence-transformers folder in ``out`` itself with ``provenance.json`` (training-set
provenance and hash, base model, config, library versions, dev history) and
``polyret.json``. The checkpoints are removed after success unless asked to keep them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from polyret.errors import InvalidInputError, OutputExistsError
from polyret.io.artifact import META_FILE, ModelKind, write_meta
from polyret.io.atomic import atomic_write
from polyret.io.manifest import versions, write_provenance
from polyret.models.catalogue import list_models
from polyret.models.resolve import resolve_model
from polyret.train.config import TrainConfig
from polyret.types import TrainingSet

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
RUN_FILE = "run.json"
MODEL_FORMAT = 1
# libraries a trained model depends on (recorded in its provenance)
_VERSIONED = ("sentence-transformers", "transformers", "torch", "datasets", "accelerate")
_EMBEDDING_NAMES = ("word_embeddings.weight", "embed_tokens.weight", "shared.weight")


def resolve_base(base: str | os.PathLike[str]) -> str:
    """A model folder (or hub id) for ``base``: a packaged model name, a folder or a hub id.

    The rules are :func:`polyret.models.resolve_model`'s (a packaged model is exported or
    located on first use); a packaged model that cannot be trained is refused.
    """
    resolved = resolve_model(base, field="base")
    model = resolved.model
    if model is not None and not model.trainable:
        trainable = ", ".join(m.name for m in list_models() if m.trainable)
        raise InvalidInputError(
            f"{model.name} cannot be trained (trainable packaged models: {trainable})",
            field="base",
        )
    return resolved.ref


def base_identity(base: str) -> dict[str, Any]:
    """Name and fingerprint of a base model (folder fingerprint when local)."""
    path = Path(base)
    if path.is_dir():
        from polyret.encode.fast import model_folder_fingerprint

        return {"model": str(path), "fingerprint": model_folder_fingerprint(path)}
    return {"model": base}


def freeze_word_embeddings(model: Any) -> list[str]:
    """Stop gradients into the input word-embedding matrices; returns the frozen names."""
    frozen = []
    for name, parameter in model.named_parameters():
        if name.endswith(_EMBEDDING_NAMES):
            parameter.requires_grad_(False)
            frozen.append(name)
    if not frozen:
        log.warning("freeze_word_embeddings: no word-embedding matrix found")
    return frozen


def training_set_hash(training_set: TrainingSet) -> str:
    """sha256 of the training table's Arrow IPC bytes (same rows → same hash)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, training_set.table.schema) as writer:
        writer.write_table(training_set.table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def resolve_device(config: TrainConfig) -> str:
    """``config.device``, with ``"auto"`` resolved to ``"cuda"`` when torch sees a GPU."""
    if config.device != "auto":
        return config.device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def should_freeze(config: TrainConfig, device: str) -> bool:
    """Whether to freeze the word embeddings (by default: on CPU only)."""
    if config.freeze_word_embeddings is None:
        return device == "cpu"
    return config.freeze_word_embeddings


def set_threads(config: TrainConfig) -> None:
    """Apply ``config.threads`` to torch."""
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)


def prepare_output(
    out: Path, identity: dict[str, Any], *, resume: bool, overwrite: bool
) -> tuple[Path, str | None]:
    """Create ``out/checkpoints`` and find the checkpoint to resume from.

    Returns:
        The checkpoints folder and the last checkpoint (``None``: start from scratch).

    Raises:
        OutputExistsError: ``out`` holds a finished model or another run's checkpoints
            and neither ``resume`` nor ``overwrite`` is set.
        InvalidInputError: ``resume`` is set but the checkpoints come from another run
            (other training set, base model or config).
    """
    checkpoints = out / CHECKPOINTS
    if out.exists() and overwrite:
        shutil.rmtree(out)
    if (out / META_FILE).is_file():  # a finished model: only overwrite replaces it
        raise OutputExistsError(out)
    if out.exists() and any(out.iterdir()):
        if not resume:
            raise OutputExistsError(out)
        run_file = checkpoints / RUN_FILE
        if run_file.is_file():
            saved = json.loads(run_file.read_text(encoding="utf-8"))
            changed = sorted(k for k in identity if saved.get(k) != identity[k])
            if changed:
                raise InvalidInputError(
                    f"cannot resume: the checkpoints in {checkpoints} come from a run with "
                    f"another {', '.join(changed)}",
                    path=run_file,
                )
    checkpoints.mkdir(parents=True, exist_ok=True)
    with atomic_write(checkpoints / RUN_FILE) as handle:
        json.dump(identity, handle, indent=1, sort_keys=True)
    last = last_checkpoint(checkpoints) if resume else None
    if last:
        log.info("resuming from %s", last)
    return checkpoints, last


def last_checkpoint(checkpoints: Path) -> str | None:
    """The newest complete ``checkpoint-N`` folder (one with its trainer state)."""
    found = [
        p
        for p in checkpoints.glob("checkpoint-*")
        if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()
    ]
    if not found:
        return None
    return str(max(found, key=lambda p: int(p.name.split("-")[-1])))


def training_arguments(
    args_class: Any,
    config: TrainConfig,
    checkpoints: Path,
    *,
    has_dev: bool,
    device: str = "cpu",
    **extra: Any,
) -> Any:
    """sentence-transformers training arguments from a polyret config."""
    evaluating = has_dev and config.eval_steps > 0
    early = evaluating and config.early_stopping_patience is not None
    save_steps = config.save_steps or (config.eval_steps if early else 0)
    options: dict[str, Any] = {
        "output_dir": str(checkpoints),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        "per_device_train_batch_size": config.batch_size,
        "per_device_eval_batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "warmup_steps": config.warmup_ratio,
        "weight_decay": config.weight_decay,
        "seed": config.seed,
        "data_seed": config.seed,
        "use_cpu": device == "cpu",
        "report_to": "none",
        "logging_steps": config.logging_steps,
        "save_strategy": "steps" if save_steps else "no",
        "save_steps": save_steps or 500,
        "save_total_limit": config.save_total_limit,
        "eval_strategy": "steps" if evaluating else "no",
        "eval_steps": config.eval_steps or None,
        "load_best_model_at_end": early,
        "disable_tqdm": not config.show_progress,
        "dataloader_num_workers": 0,
    }
    if early:
        options["metric_for_best_model"] = f"eval_ndcg@{config.eval_k}"
        options["greater_is_better"] = True
    options.update(extra)
    return args_class(**options)


def callbacks_for(config: TrainConfig, has_dev: bool, extra: Sequence[Any]) -> list[Any]:
    """Early stopping (when configured) plus the caller's callbacks."""
    found = list(extra)
    if has_dev and config.eval_steps > 0 and config.early_stopping_patience is not None:
        from transformers import EarlyStoppingCallback

        found.append(EarlyStoppingCallback(config.early_stopping_patience))
    return found


def run_training(trainer: Any, resume_from: str | None, *, has_dev: bool) -> dict[str, Any]:
    """``trainer.train()`` (resuming when given a checkpoint) and a summary of the run."""
    started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume_from)
    if has_dev and trainer.args.eval_strategy == "no":
        trainer.evaluate()  # one dev evaluation of the final model
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {
        "global_step": int(output.global_step),
        "train_loss": float(output.training_loss),
        "last_logged_loss": losses[-1] if losses else None,
        "resumed_from": resume_from,
        "runtime_s": round(time.perf_counter() - started, 1),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "log_history": trainer.state.log_history,
    }


def finish(
    model: Any,
    out: Path,
    *,
    kind: ModelKind,
    config: TrainConfig,
    base: str,
    training_set: TrainingSet | None,
    summary: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save the model into ``out`` with ``provenance.json`` and ``polyret.json``."""
    model.save(str(out))
    provenance = {
        "kind": kind,
        "base": base_identity(base),
        "config": config.model_dump(mode="json"),
        "config_class": type(config).__name__,
        "training_set": None if training_set is None else training_set_summary(training_set),
        "versions": versions(_VERSIONED),
        "training": summary,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    }
    write_provenance(out, provenance)
    write_meta(
        out,
        "model",
        MODEL_FORMAT,
        kind=kind,
        base=provenance["base"],
        config=provenance["config"],
    )
    checkpoints = out / CHECKPOINTS
    if checkpoints.exists() and not config.keep_checkpoints:
        shutil.rmtree(checkpoints)
    return out


def training_set_summary(training_set: TrainingSet) -> dict[str, Any]:
    """Hash, size, languages, provenance and funnel of a training set."""
    return {
        "hash": training_set_hash(training_set),
        "rows": len(training_set),
        "languages": dict(sorted(training_set.languages().items())),
        "num_negatives": training_set.num_negatives,
        "provenance": training_set.provenance,
        "funnel": training_set.funnel,
    }


def run_identity(
    kind: str, training_set: TrainingSet, base: str, config: TrainConfig
) -> dict[str, Any]:
    """What a resumed run must share with the interrupted one."""
    settings = config.model_dump(mode="json")
    for transient in ("show_progress", "threads", "keep_checkpoints"):
        settings.pop(transient, None)
    return {
        "kind": kind,
        "training_set": training_set_hash(training_set),
        "base": base_identity(base),
        "config": settings,
    }


def to_dataset(table: pa.Table) -> Any:
    """A ``datasets.Dataset`` over an Arrow table (no copy)."""
    from datasets import Dataset
    from datasets.table import InMemoryTable

    return Dataset(InMemoryTable(table))
