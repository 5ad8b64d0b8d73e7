"""The local runtime's HTTP front door: uvicorn frames each request (h11), Starlette routes it, and it
becomes the payload 2.0 event API Gateway would deliver, handed to the same Lambda handler that runs in
AWS, in a worker thread (off the event loop) with that function's timeout in its context.

Mirrors the limits of the real front door: a body over Lambda's 6 MB request limit is answered 413
(JSON) as soon as it is announced or crosses the limit, read in chunks and never buffered past it.
The 413 closes the connection, but not at once: closing a socket with unread data in it sends a reset,
which makes a client still sending (urllib, and any client that asked for ``Connection: close``) lose
the answer. So the runtime half-closes (its answer, then end of stream) and reads and drops the rest of
the body, up to ``LINGER_MAX_BYTES`` or ``LINGER_SECONDS``, before it closes. Every error the runtime
itself gives is JSON ``{"error", "detail"}``: 404 for unknown paths, 405 for other methods, 400 for
malformed framing.
"""

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import anyio
import h11
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute
from uvicorn.protocols.http.h11_impl import H11Protocol

from agentic_memory.errors import PayloadTooLarge
from services.error_answers import UNHANDLED, answer_for
from services.http_edge import MAX_BODY_BYTES

from .events import http_api_event
from .lambda_context import LocalLambdaContext

log = logging.getLogger(__name__)
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    function_name: str
    handler: LambdaHandler
    timeout_seconds: float


# How much of an oversized body is read, to learn which call it belongs to.
OVERSIZED_PREFIX_BYTES = 16 * 1024
PREFIX_WAIT_SECONDS = 0.5
OversizedHook = Callable[[str, bytes, int], None]
# Connections waiting to be accepted while the runtime is busy (a burst of callers).
LISTEN_BACKLOG = 1024
# On stop, requests still running get this long to finish.
GRACEFUL_STOP_SECONDS = 5
# What is drained of a body still arriving after its answer (a refused one) before the connection closes.
LINGER_SECONDS = 15.0
LINGER_MAX_BYTES = 64 * 1024 * 1024


class BodyTooLarge(Exception):
    def __init__(self, prefix: bytes, size: int) -> None:
        super().__init__(f"body of {size} bytes")
        self.prefix = prefix
        self.size = size


def error_response(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


class JsonErrorsH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering malformed HTTP with the runtime's JSON error.

    A client that stops sending half-way through a body (end of stream before the announced length)
    gets its 400 too, where uvicorn would close the connection without an answer.
    """

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"error": "bad_request", "detail": msg}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._socket_transport = transport
        self._lingering: asyncio.TimerHandle | None = None
        self._drained = 0
        super().connection_made(cast(asyncio.Transport, _LingeringTransport(transport, self)))

    def close_connection(self) -> None:
        """What uvicorn's ``transport.close()`` does here: close, unless the client is still sending a
        body we answered without reading; then linger (see the module's docstring)."""
        transport = self._socket_transport
        if self._lingering is not None or transport.is_closing():
            return
        if self.conn.their_state is not h11.SEND_BODY:
            transport.close()
            return
        if transport.can_write_eof():
            transport.write_eof()  # after the answer already written: the client reads it, then EOF
        transport.resume_reading()
        self._lingering = self.loop.call_later(LINGER_SECONDS, self._stop_lingering)

    @property
    def lingering(self) -> bool:
        return self._lingering is not None

    def _stop_lingering(self) -> None:
        if self._lingering is not None:
            self._lingering.cancel()
        self._socket_transport.close()

    def data_received(self, data: bytes) -> None:
        if self._lingering is None:
            super().data_received(data)
            return
        self._drained += len(data)  # the rest of a refused body: dropped
        if self._drained > LINGER_MAX_BYTES:
            self._stop_lingering()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lingering is not None:
            self._lingering.cancel()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        if self._lingering is not None:
            self._stop_lingering()
            return
        super().shutdown()

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio.Protocol's own signature
        if self._lingering is not None:
            self._stop_lingering()  # the client has sent everything and read the answer
            return None
        if self.conn.their_state is h11.SEND_BODY and self.conn.our_state is h11.SEND_RESPONSE:
            self.conn.receive_data(b"")
            self.handle_events()  # the truncated body is a RemoteProtocolError: send_400_response
            return True
        return None


class _LingeringTransport:
    """The connection's transport as uvicorn's protocol sees it, but for ``close``."""

    def __init__(self, transport: asyncio.Transport, protocol: JsonErrorsH11Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def close(self) -> None:
        self._protocol.close_connection()

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class LocalRuntimeServer:
    """The runtime's routes on ``address``, listening from construction (``OSError`` if it cannot)."""

    def __init__(
        self,
        address: tuple[str, int],
        routes: dict[tuple[str, str], Route],
        on_oversized: OversizedHook | None = None,
        extra_routes: Sequence[BaseRoute] = (),
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.routes = routes
        # What /health adds to its status: backend kinds and counts, never personal data.
        self.health = health
        # Routes served beside the handlers' (the operator's console), as they are.
        self.extra_routes = list(extra_routes)
        # Called with (path, the first bytes, the size) of a body refused as too large.
        self.on_oversized = on_oversized
        self.ready = threading.Event()
        self._socket = _listen(address)
        self.server_address: tuple[str, int] = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self.app(),
            http=JsonErrorsH11Protocol,
            lifespan="off",
            # Request lines carry query strings (a caller's number on GET /retrieve): no access log.
            access_log=False,
            log_config=None,
            server_header=False,
            backlog=LISTEN_BACKLOG,
            timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._serving = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{host}:{port}"

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    def serve_forever(self) -> None:
        """Serve until ``shutdown()``. Must not run on the main thread of a process that expects its own
        signal handlers: uvicorn installs its own there."""
        with self._serving:
            asyncio.run(self._server.serve(sockets=[self._socket]))

    def shutdown(self) -> None:
        """Stop serving and wait until ``serve_forever`` has returned (requests get a moment to finish)."""
        self._server.should_exit = True
        with self._serving:
            pass

    def server_close(self) -> None:
        self._socket.close()

    def app(self) -> Starlette:
        methods: dict[str, list[str]] = {}
        for method, path in self.routes:
            methods.setdefault(path, []).append(method)
        routes: list[BaseRoute] = [StarletteRoute("/health", self._health, methods=["GET"])]
        routes += [StarletteRoute(path, self._dispatch, methods=known) for path, known in methods.items()]
        routes += self.extra_routes
        app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
        # API Gateway matches paths exactly: /client-data/ is no route, not a redirect.
        app.router.redirect_slashes = False
        return app

    async def _health(self, request: Request) -> Response:
        ready = self.ready.is_set()
        status: dict[str, Any] = {"status": "ok" if ready else "starting"}
        if ready and self.health is not None:
            status.update(await run_in_threadpool(self.health))
        return JSONResponse(status, status_code=200 if ready else 503)

    async def _dispatch(self, request: Request) -> Response:
        method, path = request.method, request.url.path
        route = self.routes.get((method, path))
        if route is None:  # HEAD, which Starlette adds beside GET
            return error_response(405, "method_not_allowed", f"{method} is not allowed on {path}")
        try:
            body = await read_body(request)
        except BodyTooLarge as refused:
            await run_in_threadpool(self._record_oversized, path, refused)
            too_large = answer_for(PayloadTooLarge)
            detail = f"the body exceeds {MAX_BODY_BYTES} bytes"
            # Connection: close bounds what is drained of the rest (JsonErrorsH11Protocol.close_connection).
            return error_response(too_large.status, too_large.code, detail, {"Connection": "close"})
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
        query = request.scope["query_string"].decode("latin-1")
        client = request.client.host if request.client else "127.0.0.1"
        event = http_api_event(method, path, query, headers, body, client)
        context = LocalLambdaContext(route.function_name, route.timeout_seconds)
        try:
            response = await run_in_threadpool(route.handler, event, context)
        except Exception:
            log.exception("%s raised", route.function_name)
            return error_response(UNHANDLED.status, UNHANDLED.code, "the handler raised")
        return lambda_response(response)

    def _record_oversized(self, path: str, refused: BodyTooLarge) -> None:
        if self.on_oversized is None:
            return
        try:
            self.on_oversized(path, refused.prefix, refused.size)
        except Exception:
            log.exception("recording an oversized delivery failed")


async def read_body(request: Request) -> bytes:
    """The body, read in chunks. Raises ``BodyTooLarge`` (with what arrived of it, up to
    ``OVERSIZED_PREFIX_BYTES``) once it is announced or grows over ``MAX_BODY_BYTES``."""
    # h11 has already refused a Content-Length that is not a number.
    announced = int(request.headers.get("content-length", "0"))
    if announced > MAX_BODY_BYTES:
        raise BodyTooLarge(await _prefix(request), announced)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge(b"".join(parts)[:OVERSIZED_PREFIX_BYTES], size)
    return b"".join(parts)


async def _prefix(request: Request) -> bytes:
    """What arrives of a refused body within a moment, up to ``OVERSIZED_PREFIX_BYTES``."""
    received = b""
    with anyio.move_on_after(PREFIX_WAIT_SECONDS):
        async for chunk in request.stream():
            received += chunk
            if len(received) >= OVERSIZED_PREFIX_BYTES:
                break
    return received[:OVERSIZED_PREFIX_BYTES]


def lambda_response(response: dict[str, Any]) -> Response:
    """The HTTP answer API Gateway makes of a handler's payload 2.0 response."""
    # Starlette sets Content-Length from the body.
    given = (response.get("headers") or {}).items()
    headers = {str(name): str(value) for name, value in given if str(name).lower() != "content-length"}
    return Response(
        content=str(response.get("body", "")).encode("utf-8"),
        status_code=int(response.get("statusCode", 200)),
        headers=headers,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return error_response(404, "not_found", f"no route {request.url.path}")
    if status == 405:
        allowed = exc.headers if isinstance(exc, HTTPException) else None
        detail = f"{request.method} is not allowed on {request.url.path}"
        return error_response(405, "method_not_allowed", detail, dict(allowed or {}))
    return error_response(status, "http_error", str(getattr(exc, "detail", "")))


def _listen(address: tuple[str, int]) -> socket.socket:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose protocol says TCP;
    # with Nagle on, a response's two writes wait ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock
