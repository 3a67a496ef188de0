"""The FastAPI application: ``GET /health``, ``GET /indexes``, ``POST /search``.

Every error is JSON ``{"detail": "<message>"}``: 413 for a body over the limit (refused
from its ``Content-Length`` before it is read, or as soon as a streamed body passes the
limit), 400 for a body that is not JSON, 422 for a request the model rejects, 404 for an
unknown index, 500 for a bug (logged; the connection and the service keep serving).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from polyret._version import __version__
from polyret.errors import InvalidInputError, UnknownNameError
from polyret.optional import require
from polyret.serve.schemas import (
    ErrorBody,
    Health,
    IndexesResponse,
    SearchRequest,
    SearchResponse,
)
from polyret.serve.service import SearchService

log = logging.getLogger(__name__)

THREADS = 4
"""Requests searched at once by default (see :func:`create_app`)."""
MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted: a 2,000-character query JSON-escaped is ~12 KB."""

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "The body is not JSON."),
        (404, "Unknown index."),
        (413, "The body is over the size limit."),
        (422, "Invalid request (the message names the field)."),
    )
}


def create_app(
    service: SearchService, *, max_body_bytes: int = MAX_BODY_BYTES, threads: int = THREADS
) -> Any:
    """The search service's FastAPI application.

    Args:
        service: The loaded :class:`~polyret.serve.SearchService`.
        max_body_bytes: Larger request bodies get a 413.
        threads: Requests searched at once (the size of the thread pool that runs the
            endpoints); the others wait, as cheap coroutines, for a free thread.

    Returns:
        A ``fastapi.FastAPI`` application (serve it with uvicorn).

    Raises:
        MissingExtraError: fastapi is not installed (``polyret[serve]``).
    """
    fastapi = require("fastapi", "serve", "the search service")
    import anyio.to_thread
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        # The default pool has 40 threads; searches are CPU-bound and mostly serialized
        # by the index and encoder locks, so 40 runnable threads only fight for the GIL
        # and starve the event loop (late keep-alive and socket handling). A few suffice
        # to overlap BM25 of one request with the encoding of another.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = fastapi.FastAPI(
        lifespan=lifespan,
        title="polyret search",
        version=__version__,
        description="BM25, dense, multi-vector, learned-sparse, hybrid and reranked search over "
        f"{service.served.source.name}.",
    )
    app.state.service = service

    # Sync endpoints: FastAPI runs them in its thread pool, so a CPU-bound search never
    # blocks the event loop (SearchService serializes what is not thread-safe).
    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Status, version, loaded indexes and document count."""
        return service.health()

    @app.get("/indexes", response_model=IndexesResponse)
    def indexes() -> IndexesResponse:
        """The loaded indexes and the defaults of each mode."""
        return service.describe()

    @app.post("/search", response_model=SearchResponse, responses=_ERRORS)
    def search(request: SearchRequest) -> SearchResponse:
        """Search one query in the bm25, dense, multivector, sparse, hybrid or rerank mode."""
        return service.search(request)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Any, error: RequestValidationError) -> Any:
        problems = list(error.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            context = problems[0].get("ctx", {}).get("error", "")
            return _error(400, f"the body is not valid JSON: {context}".rstrip(": "))
        return _error(422, "; ".join(_describe(p) for p in problems) or "invalid request")

    @app.exception_handler(UnknownNameError)
    async def unknown_index(_: Any, error: UnknownNameError) -> Any:
        return _error(404, str(error))

    @app.exception_handler(InvalidInputError)
    async def invalid_input(_: Any, error: InvalidInputError) -> Any:
        return _error(422, str(error))

    @app.exception_handler(HTTPException)
    async def http_error(_: Any, error: HTTPException) -> Any:
        return _error(error.status_code, str(error.detail), getattr(error, "headers", None))

    app.add_middleware(CatchErrors)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)  # type: ignore[arg-type]
    return app


def _describe(problem: dict[str, Any]) -> str:
    """``body.k: Input should be greater than or equal to 1`` from one pydantic error."""
    where = ".".join(str(part) for part in problem.get("loc", ()))
    message = str(problem.get("msg", "invalid"))
    if problem.get("type") == "missing" and where == "body":
        message = "a JSON body is required"
    return f"{where}: {message}" if where else message


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse({"detail": message}, status_code=status, headers=headers)


class _TrackedSend:
    """An ASGI ``send`` that remembers whether the response has started.

    Once it has, an error can no longer be answered cleanly: the middlewares re-raise.
    """

    def __init__(self, send: Any) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: dict[str, Any]) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


class CatchErrors:
    """ASGI middleware: a bug in one request becomes a logged 500 JSON answer.

    Starlette's own last-resort handler re-raises after answering, and uvicorn then drops
    the connection, so a client's next keep-alive request on it would fail too; here the
    exception stops, and the connection and every other request carry on.

    Args:
        app: The wrapped ASGI application.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            log.exception("serve: %s %s failed", scope.get("method"), scope.get("path"))
            if tracked.started:  # too late for a clean answer: let the server close the connection
                raise
            await _send_json(send, 500, f"internal error: {type(error).__name__}: {error}")


class BodyLimit:
    """ASGI middleware: a 413 for any body over ``max_bytes``, without reading it.

    A declared ``Content-Length`` over the limit is refused before the application runs;
    a body without one (chunked) is counted as it streams in and refused at the chunk
    that passes the limit. Either way the connection is not kept for the rest of it.

    Args:
        app: The wrapped ASGI application.
        max_bytes: The limit.
    """

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send_json(send, 400, "invalid Content-Length header")
                return
            if int(declared) > self.max_bytes:
                await _send_json(send, 413, self._message(int(declared)))
                return
        from starlette.exceptions import HTTPException

        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # FastAPI re-raises an HTTPException as is
                    raise HTTPException(413, self._message(None))
            return message

        tracked = _TrackedSend(send)
        try:
            await self.app(scope, limited_receive, tracked)
        except HTTPException as error:  # raised outside a route (no handler saw it)
            if tracked.started or error.status_code != 413:
                raise
            await _send_json(send, 413, str(error.detail))

    def _message(self, size: int | None) -> str:
        if size is None:
            return f"request body too large: more than the limit of {self.max_bytes:,} bytes"
        return f"request body too large: {size:,} bytes, the limit is {self.max_bytes:,} bytes"


async def _send_json(send: Any, status: int, message: str) -> None:
    """``{"detail": message}``; a 413 also closes the connection (the body is unread)."""
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
