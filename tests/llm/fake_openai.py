"""A real OpenAI-compatible HTTP server on 127.0.0.1 that answers from a Python function.

The handler function gets ``(path, body, call_number)`` and returns one of:
a string (the answer text), a dict ``{"text", "logprobs", "status", "headers", "sleep",
"raw"}`` for full control (HTTP status, Retry-After, slow answers, malformed bodies).
Every request is recorded (path, body, headers) so tests can count HTTP calls and check
what reached the wire.
"""

from __future__ import annotations

import json
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


def _completion(path: str, body: dict[str, Any], text: str, logprobs: dict[str, float] | None):
    usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    if path.endswith("/chat/completions"):
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": text}}
        if logprobs is not None and body.get("logprobs"):
            tops = [{"token": t, "logprob": lp} for t, lp in logprobs.items()]
            choice["logprobs"] = {"content": [{**tops[0], "top_logprobs": tops}]}
        return {"id": "x", "object": "chat.completion", "model": body.get("model"),
                "choices": [choice], "usage": usage}
    choice = {"index": 0, "text": text, "finish_reason": "stop"}
    if logprobs is not None and body.get("logprobs"):
        choice["logprobs"] = {"top_logprobs": [logprobs]}
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
                state.requests.append({"path": self.path, "body": body,
                                       "headers": dict(self.headers)})
            answer = state.answer(self.path, body, number)
            if isinstance(answer, str):
                answer = {"text": answer}
            if answer.get("sleep"):
                time.sleep(answer["sleep"])
            status = int(answer.get("status", 200))
            if "raw" in answer:
                payload = answer["raw"].encode()
            elif status == 200:
                payload = json.dumps(_completion(self.path, body, answer.get("text", ""),
                                                 answer.get("logprobs"))).encode()
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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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
