"""Local Hugging Face generation models (causal or seq2seq) from a folder on disk."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError
from polyret.llm.base import BaseLLMClient, LLMConfig, LLMResponse, Message
from polyret.llm.cache import SQLiteCache
from polyret.llm.openai import messages_to_prompt
from polyret.optional import require


class TransformersClient(BaseLLMClient):
    """Generation with ``transformers`` on the local CPU/GPU, one request at a time.

    The folder's ``config.json`` decides between ``AutoModelForSeq2SeqLM``
    (``is_encoder_decoder``) and ``AutoModelForCausalLM``; a tokenizer chat template is
    used when the tokenizer has one, else the messages are joined. ``top_logprobs=n``
    returns the first generated token's top ``n`` log-probabilities.

    Args:
        model: A model folder (hub ids need network and are refused offline).
        config: Transport options (retries do not apply to local errors).
        cache: SQLite cache (or its path) of answers.
        device: torch device (``"cpu"``, ``"cuda"``).
        **options: Overrides of ``config`` fields.

    Raises:
        InvalidInputError: ``model`` is not a folder with a ``config.json``.
        MissingExtraError: transformers/torch are not installed.
    """

    kind = "transformers"

    def __init__(
        self,
        model: str | os.PathLike[str],
        config: LLMConfig | None = None,
        *,
        cache: SQLiteCache | str | os.PathLike[str] | None = None,
        device: str = "cpu",
        **options: Any,
    ) -> None:
        path = Path(model).expanduser()
        if not (path / "config.json").is_file():
            raise InvalidInputError(
                f"{str(path)!r} is not a local model folder (no config.json); the transformers "
                "backend loads generation models from disk",
                field="model",
            )
        super().__init__(str(path), config, cache=cache, **options)
        self.path = path
        self.device = device
        self._lock = threading.Lock()
        transformers = require("transformers", "dense", "the transformers LLM backend")
        require("torch", "dense", "the transformers LLM backend")
        encoder_decoder = bool(
            json.loads((path / "config.json").read_text()).get("is_encoder_decoder")
        )
        auto = (
            transformers.AutoModelForSeq2SeqLM
            if encoder_decoder
            else transformers.AutoModelForCausalLM
        )
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        self.network = auto.from_pretrained(str(path)).to(device).eval()
        self.encoder_decoder = encoder_decoder

    def _prompt(self, messages: list[Message]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
        return messages_to_prompt(messages)

    def _request(self, messages: list[Message], params: dict[str, Any]) -> LLMResponse:
        import torch

        params = dict(params)
        top = int(params.pop("top_logprobs", 0) or 0)
        temperature = float(params.pop("temperature", 0.0) or 0.0)
        max_new = int(params.pop("max_tokens", 128))
        inputs = self.tokenizer(self._prompt(messages), return_tensors="pt").to(self.device)
        generate: dict[str, Any] = {
            "max_new_tokens": max_new,
            "do_sample": temperature > 0,
            "return_dict_in_generate": True,
            "output_scores": bool(top),
        }
        if temperature > 0:
            generate["temperature"] = temperature
        with self._lock, torch.no_grad():
            out = self.network.generate(**inputs, **generate)
        start = 0 if self.encoder_decoder else inputs["input_ids"].shape[1]
        new = out.sequences[0, start:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        logprobs = None
        if top and out.scores:
            values, ids = torch.log_softmax(out.scores[0][0].float(), -1).topk(top)
            logprobs = {
                self.tokenizer.decode([int(i)]): float(v) for v, i in zip(values, ids, strict=True)
            }
        completion = int((new != (self.tokenizer.pad_token_id or -1)).sum())
        return LLMResponse(
            text=text,
            logprobs=logprobs,
            prompt_tokens=int(inputs["input_ids"].shape[1]),
            completion_tokens=completion,
        )
