"""A real OpenAI-compatible HTTP server on 127.0.0.1 that answers from a Python function.

The handler function gets ``(path, body, call_number)`` and returns one of:
a string (the answer text), a dict ``{"text", "logprobs", "token_logprobs", "status",
"headers", "sleep", "raw"}`` for full control (HTTP status, Retry-After, slow answers,
malformed bodies). ``token_logprobs`` (a list, one value per whitespace-separated token of
the text) makes a request that asked for logprobs get every generated token's logprob.

``/completions`` requests with ``echo=True`` (log-likelihood scoring) are answered like
vLLM: the prompt split into tokens (words with their leading spaces), their ``text_offset`` and
``token_logprobs`` (``None`` for the first), then one generated token. Each prompt token's
logprob is the handler's ``prompt_logprob`` (a number, or a function of the token text),
default -1.0.

Every request is recorded (path, body, headers) so tests can count HTTP calls and check
what reached the wire.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = str | dict[str, Any]
Handler = Callable[[str, dict[str, Any], int], Answer]


class FakeServer:
    """State shared with the request handler."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.url = ""

    @property
    def calls(self) -> int:
        return len(self.requests)

    def bodies(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests]


_TOKEN = re.compile(r"\s*\S+")


def _completion(
    path: str,
    body: dict[str, Any],
    text: str,
    logprobs: dict[str, float] | None,
    token_logprobs: list[float] | None = None,
):
    usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    words = _TOKEN.findall(text)
    if path.endswith("/chat/completions"):
        choice: dict[str, Any] = {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": text},
        }
        if body.get("logprobs") and (logprobs is not None or token_logprobs is not None):
            tops = [{"token": t, "logprob": lp} for t, lp in (logprobs or {}).items()]
            if token_logprobs is not None:
                content = [
                    {"token": w, "logprob": lp, "top_logprobs": []}
                    for w, lp in zip(words, token_logprobs, strict=False)
                ]
                if content and tops:
                    content[0]["top_logprobs"] = tops
            else:
                content = [{**tops[0], "top_logprobs": tops}]
            choice["logprobs"] = {"content": content}
        return {
            "id": "x",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [choice],
            "usage": usage,
        }
    choice = {"index": 0, "text": text, "finish_reason": "stop"}
    if body.get("logprobs") and (logprobs is not None or token_logprobs is not None):
        choice["logprobs"] = {"top_logprobs": [logprobs] if logprobs else []}
        if token_logprobs is not None:
            choice["logprobs"]["tokens"] = words[: len(token_logprobs)]
            choice["logprobs"]["token_logprobs"] = token_logprobs[: len(words)]
    return {"id": "x", "object": "text_completion", "choices": [choice], "usage": usage}


def _echo(body: dict[str, Any], prompt_logprob: Any) -> dict[str, Any]:
    """A vLLM-style ``echo=True`` answer: the prompt's tokens with offsets and logprobs."""
    prompt = body.get("prompt", "")
    tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(prompt)]
    values: list[float | None] = []
    for number, (_, token) in enumerate(tokens):
        if number == 0:
            values.append(None)
        elif callable(prompt_logprob):
            values.append(float(prompt_logprob(token)))
        else:
            values.append(float(prompt_logprob))
    offsets = [start for start, _ in tokens]
    # one generated token after the prompt (max_tokens=1)
    tokens.append((len(prompt), " the"))
    offsets.append(len(prompt))
    values.append(-0.7)
    choice = {
        "index": 0,
        "text": prompt + " the",
        "finish_reason": "length",
        "logprobs": {
            "tokens": [t for _, t in tokens],
            "token_logprobs": values,
            "text_offset": offsets,
            "top_logprobs": [None] * len(tokens),
        },
    }
    usage = {"prompt_tokens": len(tokens) - 1, "completion_tokens": 1, "total_tokens": len(tokens)}
    return {"id": "x", "object": "text_completion", "choices": [choice], "usage": usage}


def _handler_class(state: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                number = len(state.requests)
                state.requests.append(
                    {"path": self.path, "body": body, "headers": dict(self.headers)}
                )
            answer = state.answer(self.path, body, number)
            if isinstance(answer, str):
                answer = {"text": answer}
            if answer.get("sleep"):
                time.sleep(answer["sleep"])
            status = int(answer.get("status", 200))
            if "raw" in answer:
                payload = answer["raw"].encode()
            elif status == 200 and body.get("echo") and self.path.endswith("/completions"):
                payload = json.dumps(_echo(body, answer.get("prompt_logprob", -1.0))).encode()
            elif status == 200:
                payload = json.dumps(
                    _completion(
                        self.path,
                        body,
                        answer.get("text", ""),
                        answer.get("logprobs"),
                        answer.get("token_logprobs"),
                    )
                ).encode()
            else:
                payload = json.dumps({"error": {"message": f"status {status}"}}).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in (answer.get("headers") or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out
                pass

    return Handler


@contextmanager
def fake_openai(answer: Handler) -> Iterator[FakeServer]:
    """Serve ``answer`` on ``http://127.0.0.1:<free port>/v1`` for the ``with`` block."""
    state = FakeServer(answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def user_text(body: dict[str, Any]) -> str:
    """The last user message (chat) or the prompt (completions) of a request body."""
    if "messages" in body:
        return [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    return body.get("prompt", "")
