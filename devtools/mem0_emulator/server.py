"""The HTTP server speaking Mem0 Platform's endpoints on loopback: routing, auth, faults, latency.

A real HTTP/1.1 server (keep-alive, Nagle off, optionally TLS) routing the endpoints ``mem0ai`` 2.x
calls (``docs/mem0-platform.md``, request shapes): ``GET /v1/ping/``; ``POST /v3/memories/add/``,
``/v3/memories/search/`` and ``/v3/memories/``; ``DELETE /v1/memories/`` with entity query parameters;
``GET|DELETE /v1/memories/{id}/``; ``GET /v1/event/{id}/``; ``GET /v1/entities/`` and
``DELETE /v2/entities/{type}/{name}/``. It requires ``Authorization: Token <key>`` (401 otherwise),
answers 429s with the ``Retry-After`` and ``X-RateLimit-*`` headers ``mem0ai`` parses, and
injects each request's fault and latency before answering. ``/_emulator/`` paths go to the admin API.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import struct
import sys
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from devtools.mem0_emulator.platform_api import EmulatorState
from devtools.mem0_emulator.query import ApiError
from devtools.mem0_emulator.records import RecordedRequest


class AdminEndpoints(Protocol):
    """What answers the ``/_emulator/`` paths (``admin._Admin``): a status and a JSON payload."""

    def handle(
        self, method: str, path: str, query: Mapping[str, list[str]], raw: bytes
    ) -> tuple[int, Any]: ...


_ROUTES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(r"/v1/ping/"), {"GET": "ping"}),
    (re.compile(r"/v3/memories/add/"), {"POST": "add"}),
    (re.compile(r"/v3/memories/search/"), {"POST": "search"}),
    (re.compile(r"/v3/memories/"), {"POST": "list"}),
    (re.compile(r"/v1/memories/"), {"DELETE": "delete_all"}),
    (re.compile(r"/v1/memories/([^/]+)/"), {"GET": "get", "DELETE": "delete", "PUT": "update"}),
    (re.compile(r"/v1/event/([^/]+)/"), {"GET": "event"}),
    (re.compile(r"/v1/entities/"), {"GET": "entities"}),
    (re.compile(r"/v2/entities/([^/]+)/([^/]+)/"), {"DELETE": "delete_entity"}),
]


def _route(method: str, path: str) -> tuple[str, tuple[str, ...]]:
    """The operation a request asks for and its path arguments; ``unknown`` or ``not_allowed`` else."""
    for pattern, methods in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            operation = methods.get(method)
            return (
                (operation, tuple(unquote(g) for g in match.groups())) if operation else ("not_allowed", ())
            )
    return "unknown", ()


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        state: EmulatorState,
        admin: AdminEndpoints,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.state = state
        self.admin = admin
        self.scheme = "https" if tls else "http"
        super().__init__(address, _Handler)
        if tls is not None:
            # Handshakes happen in each connection's thread (see _Handler.setup), never in the accept loop.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that left, or failed its TLS handshake: routine for a test server
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the client's delayed ACK adds ~40 ms.
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is dropped after this, as servers do
    server_version = "mem0-emulator"
    sys_version = ""

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()
        state = self.server.state
        with state.lock:
            state.connections_accepted += 1
            self.connection_id = state.connections_accepted
            state.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.state.lock:
            self.server.state.open_connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the connection may have been reset on purpose
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request log is kept instead; stderr stays quiet under load

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _handle(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/_emulator/"):
            status, payload = self.server.admin.handle(self.command, url.path, parse_qs(url.query), raw)
            self._send(status, payload)
            return
        operation, arguments = _route(self.command, url.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = state.record(
            RecordedRequest(
                seq=0,
                connection=self.connection_id,
                method=self.command,
                path=url.path,
                query=url.query,
                headers=dict(self.headers.items()),
                body=body,
                raw_body=raw,
                operation=operation,
            )
        )
        fault = "reset" if state.behaviour.outage == "reset" else state.draw_fault(operation)
        request.fault = fault
        if fault == "reset":
            self._reset()
            return
        delay = state.delay_for(operation)
        request.delay_seconds = delay
        if delay and state.stopping.wait(delay):
            self._reset()
            return
        status, payload, headers = self._answer(operation, arguments, url.query, raw, body, fault)
        request.status = status
        self._send(
            status, payload, headers, malformed=fault if fault in ("not_json", "wrong_shape") else None
        )

    def _answer(
        self, operation: str, arguments: tuple[str, ...], query: str, raw: bytes, body: Any, fault: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        authorization = self.headers.get("Authorization", "")
        token = authorization.removeprefix("Token ").strip() if authorization.startswith("Token ") else ""
        if token not in state.api_keys:
            return 401, {"detail": "Invalid API key or token."}, {}
        if fault == "error":
            return state.behaviour.error_status, {"detail": "Internal server error (emulated)."}, {}
        if fault == "rate_limit":
            wait = state.behaviour.retry_after_seconds
            headers = {
                "Retry-After": str(wait),
                "X-RateLimit-Limit": "1000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(wait),
            }
            return 429, {"detail": "Request was throttled (emulated rate limit)."}, headers
        if raw and body is None:
            return 400, {"detail": "JSON parse error."}, {}
        params = parse_qs(query)
        origin = f"{self.server.scheme}://{self.headers.get('Host') or '127.0.0.1'}"
        endpoints: dict[str, Callable[[], dict[str, Any]]] = {
            "ping": state.ping,
            "add": lambda: state.add(body),
            "search": lambda: state.search(body),
            "list": lambda: state.list_memories(body, params, origin),
            "delete_all": lambda: state.delete_all(params),
            "get": lambda: state.get(*arguments),
            "delete": lambda: state.delete(*arguments),
            "update": lambda: state.update(arguments[0], body),
            "entities": state.entities,
            "delete_entity": lambda: state.delete_entity(*arguments),
            "event": lambda: state.event(*arguments),
        }
        if operation == "not_allowed":
            return 405, {"detail": f'Method "{self.command}" not allowed.'}, {}
        if operation not in endpoints:
            return 404, {"detail": "Not found."}, {}
        try:
            return 200, endpoints[operation](), {}
        except ApiError as error:
            return error.status, {"detail": error.detail}, {}

    def _send(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        malformed: str | None = None,
    ) -> None:
        if malformed == "not_json":
            data, content_type = b"<html><body>502 Bad Gateway</body></html>", "text/html"
        elif malformed == "wrong_shape":
            data, content_type = (
                json.dumps({"results": "unavailable", "next": 7}).encode(),
                "application/json",
            )
        else:
            data, content_type = json.dumps(payload).encode("utf-8"), "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up (its deadline passed)

    def _reset(self) -> None:
        """Abort the connection with a TCP reset, as a failing load balancer does."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The reader holds a reference to the socket: only once it is closed does close() reach the
            # kernel, which then sends RST instead of FIN because of the zero linger.
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass
