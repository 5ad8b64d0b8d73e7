"""The local runtime's HTTP front door: each request becomes the payload 2.0 event API Gateway would
deliver, handed to the same Lambda handler that runs in AWS.

Mirrors the limits of the real front door: bodies over Lambda's 6 MB request limit get 413 without
being read into memory, and chunked request bodies (ElevenLabs streams audio webhooks) are
re-assembled first.
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from ..http import MAX_BODY_BYTES
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


class BodyTooLarge(Exception):
    def __init__(self, prefix: bytes, size: int) -> None:
        super().__init__(f"body of {size} bytes")
        self.prefix = prefix
        self.size = size


class MalformedBody(Exception):
    pass


class LocalRuntimeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connections under a burst of concurrent callers.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        routes: dict[tuple[str, str], Route],
        on_oversized: OversizedHook | None = None,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.routes = routes
        # Called with (path, the first bytes, the size) of a body refused as too large.
        self.on_oversized = on_oversized
        self.ready = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}" if isinstance(host, str) else f"http://{host.decode()}:{port}"


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalRuntimeServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the client's delayed ACK adds ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._dispatch("OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry query strings (a caller's number on GET /retrieve): keep them out of logs.
        return

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            status = 200 if self.server.ready.is_set() else 503
            self._send(status, {"status": "ok" if status == 200 else "starting"})
            return
        route = self.server.routes.get((method, url.path))
        if route is None:
            known = any(path == url.path for _, path in self.server.routes)
            self._discard_body()
            if known:
                self._send(
                    405, {"error": "method_not_allowed", "detail": f"{method} is not allowed on {url.path}"}
                )
            else:
                self._send(404, {"error": "not_found", "detail": f"no route {url.path}"})
            return
        try:
            body = self._read_body()
        except BodyTooLarge as refused:
            self.close_connection = True
            self._record_oversized(url.path, refused)
            self._send(
                413, {"error": "payload_too_large", "detail": f"the body exceeds {MAX_BODY_BYTES} bytes"}
            )
            return
        except MalformedBody as error:
            self.close_connection = True
            self._send(400, {"error": "bad_request", "detail": str(error)})
            return
        event = http_api_event(
            method, url.path, url.query, self.headers.items(), body, self.client_address[0]
        )
        context = LocalLambdaContext(route.function_name, route.timeout_seconds)
        try:
            response = route.handler(event, context)
        except Exception:
            log.exception("%s raised", route.function_name)
            self._send(500, {"error": "internal_error", "detail": "the handler raised"})
            return
        self._send_lambda_response(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        if not (raw_length.strip().isascii() and raw_length.strip().isdigit()):
            raise MalformedBody("Content-Length is not a number")
        length = int(raw_length)
        if length > MAX_BODY_BYTES:
            raise BodyTooLarge(self._read_prefix(min(length, OVERSIZED_PREFIX_BYTES)), length)
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16) if size_line.isalnum() else -1
            except ValueError:
                size = -1
            if size < 0:
                raise MalformedBody("malformed chunked encoding")
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise BodyTooLarge(b"".join(parts)[:OVERSIZED_PREFIX_BYTES], total)
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)  # the CRLF after each chunk

    def _read_prefix(self, limit: int) -> bytes:
        """What has arrived of a refused body, up to ``limit`` bytes, waiting at most a moment."""
        received = b""
        self.connection.settimeout(PREFIX_WAIT_SECONDS)
        try:
            while len(received) < limit:
                chunk = self.rfile.read1(limit - len(received))
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            pass
        return received

    def _record_oversized(self, path: str, refused: BodyTooLarge) -> None:
        if self.server.on_oversized is None:
            return
        try:
            self.server.on_oversized(path, refused.prefix, refused.size)
        except Exception:
            log.exception("recording an oversized delivery failed")

    def _discard_body(self) -> None:
        try:
            self._read_body()
        except (BodyTooLarge, MalformedBody):
            self.close_connection = True

    def _send_lambda_response(self, response: dict[str, Any]) -> None:
        body = str(response.get("body", "")).encode("utf-8")
        self.send_response(int(response.get("statusCode", 200)))
        for name, value in (response.get("headers") or {}).items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
