"""Local Hugging Face generation models (causal or seq2seq) from a folder on disk.

Besides folders, the packaged offline LLM ``"gemma3-270m"`` (google/gemma-3-270m base,
from the ``polyret[llm]`` extra) resolves to its export in the model cache, made on first
use (:func:`polyret.models.gemma3_model_path`).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from polyret.errors import InvalidInputError
from polyret.io.sqlite import SQLiteCache
from polyret.llm.base import BaseLLMClient, LLMConfig, LLMResponse, Message
from polyret.llm.cache import cache_key
from polyret.llm.openai import messages_to_prompt
from polyret.models.resolve import resolve_model
from polyret.optional import require


class TransformersClient(BaseLLMClient):
    """Generation with ``transformers`` on the local CPU/GPU, one request at a time.

    The folder's ``config.json`` decides between ``AutoModelForSeq2SeqLM``
    (``is_encoder_decoder``) and ``AutoModelForCausalLM``; a tokenizer chat template is
    used when the tokenizer has one, else the messages are joined with blank lines (base
    models: give few-shot examples and a ``stop`` string). ``top_logprobs=n`` returns the
    first generated token's top ``n`` log-probabilities; ``stop`` (a string or a list)
    ends generation at the first stop string, which is cut from the answer.
    :meth:`loglikelihood` scores a continuation (query likelihood).

    Args:
        model: A model folder (hub ids need network and are refused offline), or the
            packaged ``"gemma3-270m"``, exported into ``cache_dir`` on first use (~1.5 min).
        config: Transport options (retries do not apply to local errors).
        cache: SQLite cache (or its path) of answers and log-likelihoods.
        device: torch device (``"cpu"``, ``"cuda"``).
        threads: torch intra-op threads, set process-wide (torch has one pool); ``None``
            keeps torch's setting (one per core). On 2 cores shared with other busy
            processes, ``1`` generated 3.5x faster than 2; on idle ones 2 was 1.6x faster.
        cache_dir: Cache root for the exported packaged model (default:
            ``$POLYRET_CACHE`` or ``~/.cache/polyret``).
        **options: Overrides of ``config`` fields.

    Raises:
        InvalidInputError: ``model`` is neither a folder with a ``config.json`` nor a
            packaged LLM.
        MissingExtraError: transformers/torch (or, for the packaged model's first use,
            the ``llm`` extra) are not installed.

    Example:
        >>> client = TransformersClient("gemma3-270m", threads=1)  # doctest: +SKIP
        >>> prompt = ("Passage: The Eiffel Tower was completed in 1889.\\n"
        ...           "Question: When was the Eiffel Tower completed?\\n\\n"
        ...           "Passage: Berlin is the capital of Germany.\\nQuestion:")
        >>> client.chat([{"role": "user", "content": prompt}], max_tokens=20,
        ...             stop=["\\n"]).text  # doctest: +SKIP
        ' What is Berlin?'
    """

    kind = "transformers"

    def __init__(
        self,
        model: str | os.PathLike[str],
        config: LLMConfig | None = None,
        *,
        cache: SQLiteCache | str | os.PathLike[str] | None = None,
        device: str = "cpu",
        threads: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        path, name = _resolve(model, cache_dir)
        super().__init__(name, config, cache=cache, **options)
        self.path = path
        self.device = device
        self._lock = threading.Lock()
        transformers = require("transformers", "dense", "the transformers LLM backend")
        torch = require("torch", "dense", "the transformers LLM backend")
        if threads is not None:
            torch.set_num_threads(max(1, int(threads)))
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
        stop = _stop_strings(params.pop("stop", None))
        inputs = self.tokenizer(self._prompt(messages), return_tensors="pt").to(self.device)
        start = 0 if self.encoder_decoder else inputs["input_ids"].shape[1]
        generate: dict[str, Any] = {
            "max_new_tokens": max_new,
            "do_sample": temperature > 0,
            "return_dict_in_generate": True,
            "output_scores": bool(top),
        }
        if temperature > 0:
            generate["temperature"] = temperature
        if stop:
            generate["stopping_criteria"] = self._stopping(stop, start)
        with self._lock, torch.no_grad():
            out = self.network.generate(**inputs, **generate)
        new = out.sequences[0, start:]
        text = _cut(self.tokenizer.decode(new, skip_special_tokens=True), stop)
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

    def loglikelihood(self, context: str, continuation: str) -> float:
        """Summed log-probability of ``continuation``'s tokens after ``context``.

        The two strings are concatenated as plain text (no chat template) and tokenized
        together; the tokens after those of ``context`` alone are scored in one forward
        pass (when a token straddles the boundary, scoring starts at the first token that
        differs). With a cache, the value is stored under its own key kind
        (``"transformers-loglik"``). Used for query likelihood: ``context`` a passage and
        a prompt, ``continuation`` a query.

        Args:
            context: The conditioning text (the tokenizer's BOS is prepended, if any).
            continuation: The text to score; ``""`` scores ``0.0``.

        Returns:
            The natural-log probability, ≤ 0.

        Raises:
            InvalidInputError: the model is encoder-decoder (only causal LMs are scored).

        Example:
            >>> client = TransformersClient("gemma3-270m")  # doctest: +SKIP
            >>> passage = "Passage: Berlin is the capital of Germany.\\nQuestion:"
            >>> (client.loglikelihood(passage, " What is the capital of Germany?")
            ...  > client.loglikelihood(passage, " How do whales sleep?"))  # doctest: +SKIP
            True
        """
        if self.encoder_decoder:
            raise InvalidInputError(
                "loglikelihood scores causal (decoder-only) models only", field="model"
            )
        key = cache_key(
            "transformers-loglik",
            self.model,
            {"context": context, "continuation": continuation},
            {},
        )
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self._count(cached=1)
                return float(hit["loglik"])
        value, tokens = self._loglikelihood(context, continuation)
        self._count(requests=1, prompt_tokens=tokens)
        if self.cache is not None:
            self.cache.put(key, {"loglik": value})
        return value

    def _loglikelihood(self, context: str, continuation: str) -> tuple[float, int]:
        import torch

        whole = list(self.tokenizer(context + continuation)["input_ids"])
        prefix = list(self.tokenizer(context)["input_ids"])
        shared = 0
        for a, b in zip(prefix, whole, strict=False):
            if a != b:
                break
            shared += 1
        first = max(shared, 1)  # the first token has no context to be scored against
        if not continuation or first >= len(whole):
            return 0.0, len(whole)
        ids = torch.tensor([whole], device=self.device)
        with self._lock, torch.no_grad():
            logits = self.network(input_ids=ids).logits[0, first - 1 : -1].float()
        scores = torch.log_softmax(logits, -1).gather(-1, ids[0, first:, None])
        return float(scores.sum()), len(whole)

    def _stopping(self, stop: list[str], start: int) -> Any:
        """A stopping criterion that ends generation once a stop string appears."""
        import torch
        import transformers

        tokenizer = self.tokenizer

        class StopStrings(transformers.StoppingCriteria):  # type: ignore[misc]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                done = [
                    any(s in tokenizer.decode(row[start:], skip_special_tokens=True) for s in stop)
                    for row in input_ids
                ]
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        return transformers.StoppingCriteriaList([StopStrings()])


def _resolve(
    model: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None
) -> tuple[Path, str]:
    """``(folder, name)``: a model folder as is, or a packaged LLM's export."""
    resolved = resolve_model(model, kind="llm", cache_dir=cache_dir, hub=False, needs="config.json")
    return Path(resolved.ref), resolved.model.name if resolved.model else resolved.ref


def _stop_strings(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    stop = [stop] if isinstance(stop, str) else [str(s) for s in stop]
    return [s for s in stop if s]


def _cut(text: str, stop: list[str]) -> str:
    """``text`` up to the first occurrence of any stop string.

    Example:
        >>> _cut("What is it?\\nPassage: more", ["\\n", "Passage:"])
        'What is it?'
    """
    ends = [i for i in (text.find(s) for s in stop) if i >= 0]
    return text[: min(ends)] if ends else text
