"""Mem0 Platform (Mem0 Cloud) behind the ``MemoryStore`` port: a thin REST client on ``http.client``.

Not ``mem0ai.MemoryClient``: importing it costs about a second, its constructor pings the API, its
timeout is 300 s and it sends telemetry (``reference/mem0.md`` §2-3). This client speaks the same v3
wire format (``tests/mem0_platform/test_parity_with_mem0ai.py`` pins it against what mem0ai 2.2.1 sends)
and behaves as a voice call needs:

* **Nothing happens at import or construction.** The first call connects. A keep-alive connection is
  reused across invocations; idle ones wait in a small pool so that threads can overlap calls. An
  idle connection the server has closed (say while the Lambda was frozen) is noticed and replaced
  before it is used.
* **Every call has a deadline**: ``timeout`` is what the caller can still wait (reads default to
  ``read_timeout``, writes to ``write_timeout``). Connecting, sending and every receive together stay
  within it, not each of them on its own.
* **At most one retry, for reads only** (search, list), on a connection error or a 5xx, and only
  while time remains. ``add`` is never retried: a lost answer may hide a stored memory.
* **Failures are domain errors**: subclasses of ``MemoryUnavailable`` carrying the status and the
  response detail (never the key; the user id masked). No telemetry of any kind.

Wire decisions, where the Platform differs from the port:

* **Roles.** The port stores messages verbatim; the Platform does that with ``infer: false`` but
  keeps only ``user`` messages ("direct import"). So every message is sent as ``user`` and its real
  role travels in metadata as ``message_role``: one request per role present (two at most per add).
  An add with inference (``add_inferred``) sends the conversation as it was, agent turns as
  ``assistant``, in one request with ``infer: true``: Mem0 extracts and consolidates the facts, and
  answers ``{"event_id", "status": "PENDING"}`` before it has (the memories appear later, each with
  the metadata sent).
* **Agent id.** ``agent_id`` is a Mem0 entity, and a filter on ``user_id`` alone only matches
  memories whose agent, app and run are null (implicit null scoping). The ElevenLabs agent id we keep
  in metadata therefore travels as ``elevenlabs_agent_id``; reads put both names back.
* **Org and project.** mem0ai 2.x resolves them from the API key and sends neither (1.0.x put them in
  every query string), so they are kept for reference and not sent.
* **Delete.** As ``MemoryClient.delete_all(user_id=...)``: ``DELETE /v1/memories/?user_id=...``. Its
  answer carries no count, so the memories are listed first.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from ..errors import MemoryUnavailable
from ..identity import mask
from ..ports import ChatMessage, InferredAdd, MemoryRecord

if TYPE_CHECKING:
    import http.client
    import ssl

    from ..settings import MemorySettings

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.mem0.ai"
DEFAULT_READ_TIMEOUT = 0.35
# Writes run in the asynchronous post-call path: no caller is waiting on the line.
DEFAULT_WRITE_TIMEOUT = 10.0
# The Platform's largest page: a caller's memories rarely need a second request.
DEFAULT_PAGE_SIZE = 200
MAX_PAGES = 500
# A retry needs time for a round trip; below this it would only be cut off.
MIN_SECONDS_FOR_RETRY = 0.02
# Servers and NAT gateways drop idle connections silently after a minute or more; reconnecting is
# cheaper than waiting out a whole deadline on a dead socket.
MAX_IDLE_SECONDS = 55.0
USER_AGENT = "agentic-memory (python http.client)"

# Metadata keys the Platform treats as its own, and the names they travel under.
_WIRE_NAMES = {"agent_id": "elevenlabs_agent_id", "role": "message_role"}
_PORT_NAMES = {wire: ours for ours, wire in _WIRE_NAMES.items()}


# -- errors ---------------------------------------------------------------------------------------------


class Mem0PlatformError(MemoryUnavailable):
    """Mem0 Platform could not serve a call. ``operation`` is "METHOD /path" (no query, no user id)."""

    def __init__(self, message: str, *, operation: str, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status
        self.detail = detail


class Mem0Timeout(Mem0PlatformError):
    """The deadline passed before Mem0 answered."""


class Mem0Unreachable(Mem0PlatformError):
    """No answer: connection refused or reset, name resolution or TLS failed."""


class Mem0ServerError(Mem0PlatformError):
    """Mem0 answered 5xx."""


class Mem0RateLimited(Mem0PlatformError):
    """Mem0 answered 429. ``retry_after`` (seconds) is its ``Retry-After``, when it gave one."""

    def __init__(self, message: str, *, operation: str, detail: str, retry_after: float | None) -> None:
        super().__init__(message, operation=operation, status=429, detail=detail)
        self.retry_after = retry_after


class Mem0AuthError(Mem0PlatformError):
    """Mem0 refused the API key (401 or 403)."""


class Mem0NotFound(Mem0PlatformError):
    """Mem0 answered 404: a wrong base URL, or a memory that is gone."""


class Mem0RequestRejected(Mem0PlatformError):
    """Mem0 refused the request itself (400, 422, ...): a bug on our side, not an outage."""


class Mem0BadResponse(Mem0PlatformError):
    """Mem0 answered something that is not the JSON we expect."""


# -- the store ------------------------------------------------------------------------------------------


class Mem0PlatformStore:
    """A caller's memories in Mem0 Platform, keyed by ``user_id`` (see the module doc)."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_idle_connections: int = 4,
    ) -> None:
        if not api_key:
            raise ValueError("a Mem0 API key is required")
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("MEM0_BASE_URL must be an http:// or https:// URL")
        if not 1 <= page_size <= 200:
            raise ValueError("page_size must be between 1 and 200")
        self.base_url = base_url.rstrip("/")
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.page_size = page_size
        self._api_key = api_key
        self._path_prefix = url.path.rstrip("/")
        self._headers = {
            "Authorization": f"Token {api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._pool = _ConnectionPool(
            url.hostname,
            url.port or (443 if url.scheme == "https" else 80),
            url.scheme == "https",
            max_idle_connections,
        )

    @classmethod
    def from_settings(cls, settings: MemorySettings) -> Mem0PlatformStore:
        if settings.mem0_api_key is None:
            raise ValueError("MEM0_API_KEY is not set")
        return cls(
            settings.mem0_api_key.get_secret_value(),
            settings.mem0_base_url,
            read_timeout=settings.mem0_timeout,
        )

    def __repr__(self) -> str:
        return f"Mem0PlatformStore({self.base_url!r})"

    def prepare(self) -> None:
        """Load the HTTP stack and, for https, build the TLS context, without connecting: call it in an
        init phase so that the first request does not pay for them (~15 ms and ~50 ms)."""
        _http()
        if self._pool.tls:
            _tls_context()

    def close(self) -> None:
        """Close the idle connections (the runtime calls this on shutdown); a later call reconnects."""
        self._pool.close_idle()

    # -- the MemoryStore port ------------------------------------------------------------------------

    @property
    def infers(self) -> bool:
        return True

    def add_inferred(
        self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]
    ) -> InferredAdd:
        if not messages:
            return InferredAdd()
        operation = "POST /v3/memories/add/"
        body = {
            "messages": [{"role": message.role, "content": message.content} for message in messages],
            "user_id": user_id,
            "metadata": {_WIRE_NAMES.get(key, key): value for key, value in metadata.items()},
            "infer": True,
        }
        deadline = time.monotonic() + self.write_timeout
        answer = self._call("POST", "/v3/memories/add/", user_id, deadline, _Retries(0), body=body)
        event_id = answer.get("event_id") if isinstance(answer, dict) else None
        return InferredAdd(
            ids=tuple(_ids_added(answer, operation)),
            event_id=str(event_id) if isinstance(event_id, (str, int)) and event_id != "" else None,
        )

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        deadline = time.monotonic() + self.write_timeout
        ids: list[str] = []
        for role, contents in _contents_by_role(messages).items():
            body = {
                "messages": [{"role": "user", "content": content} for content in contents],
                "user_id": user_id,
                "metadata": _wire_metadata(metadata, role),
                "infer": False,
            }
            try:
                answer = self._call("POST", "/v3/memories/add/", user_id, deadline, _Retries(0), body=body)
            except MemoryUnavailable:
                # Half an add would read as a stored call and never be completed by a retry.
                self._forget(ids, user_id, deadline)
                raise
            ids.extend(_ids_added(answer, "POST /v3/memories/add/"))
        return ids

    def search(
        self, user_id: str, query: str, limit: int, timeout: float | None = None
    ) -> list[MemoryRecord]:
        query = query.strip()
        if limit <= 0 or not query:
            return []
        deadline = self._deadline(timeout, self.read_timeout)
        # ``top_k``, not ``limit`` (which the Platform ignores); rerank stays off: it adds 150-400 ms.
        body = {"query": query, "filters": {"user_id": user_id}, "top_k": min(limit, 1000), "rerank": False}
        answer = self._call("POST", "/v3/memories/search/", user_id, deadline, _Retries(1), body=body)
        return [
            _record_from(item, "POST /v3/memories/search/")
            for item in _results(answer, "POST /v3/memories/search/")
        ]

    def list_all(self, user_id: str, timeout: float | None = None) -> list[MemoryRecord]:
        deadline = self._deadline(timeout, self.read_timeout)
        return self._list(user_id, deadline, _Retries(1))

    def delete_all(self, user_id: str) -> int:
        deadline = time.monotonic() + self.write_timeout
        count = len(self._list(user_id, deadline, _Retries(0)))
        if count:
            self._call("DELETE", "/v1/memories/", user_id, deadline, _Retries(0), query={"user_id": user_id})
        return count

    def delete(self, memory_id: str) -> bool:
        deadline = time.monotonic() + self.write_timeout
        path = f"/v1/memories/{quote(memory_id, safe='')}/"
        try:
            self._call("DELETE", path, "", deadline, _Retries(0))
        except Mem0NotFound:
            return False
        return True

    # -- requests ------------------------------------------------------------------------------------

    def _list(self, user_id: str, deadline: float, retries: _Retries) -> list[MemoryRecord]:
        operation = "POST /v3/memories/"
        records: list[MemoryRecord] = []
        page: int | None = 1
        pages = 0
        while page is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise Mem0BadResponse(f"Mem0 {operation}: more than {MAX_PAGES} pages", operation=operation)
            answer = self._call(
                "POST",
                "/v3/memories/",
                user_id,
                deadline,
                retries,
                query={"page": page, "page_size": self.page_size},
                body={"filters": {"user_id": user_id}},
            )
            records.extend(_record_from(item, operation) for item in _results(answer, operation))
            page = _next_page(cast(dict[str, Any], answer).get("next"), page, operation)
        # Oldest first, as the calls happened (the Platform lists newest first).
        return sorted(records, key=_creation_order)

    def _forget(self, ids: list[str], user_id: str, deadline: float) -> None:
        for memory_id in ids:
            try:
                path = f"/v1/memories/{quote(memory_id, safe='')}/"
                self._call("DELETE", path, user_id, deadline, _Retries(0))
            except MemoryUnavailable:
                log.warning("a partly stored add could not be rolled back (%d memories)", len(ids))
                return

    def _call(
        self,
        method: str,
        path: str,
        user_id: str,
        deadline: float,
        retries: _Retries,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> Any:
        operation = f"{method} {path}"
        target = self._path_prefix + path + ("?" + urlencode(query, quote_via=quote) if query else "")
        payload = None if body is None else _json_bytes(body)
        headers = self._headers if payload is None else self._json_headers
        while True:
            try:
                status, response, raw = self._pool.exchange(method, target, payload, headers, deadline)
            except TimeoutError as error:
                raise Mem0Timeout(f"Mem0 {operation}: no answer in time", operation=operation) from error
            except (OSError, _http().HTTPException) as error:
                if retries.take(deadline):
                    continue
                raise Mem0Unreachable(
                    f"Mem0 {operation}: {type(error).__name__}: {self._scrub(str(error), user_id)}",
                    operation=operation,
                ) from error
            if status >= 500 and retries.take(deadline):
                continue
            return self._answer(status, response, raw, operation, user_id)

    def _answer(
        self, status: int, response: http.client.HTTPResponse, raw: bytes, operation: str, user_id: str
    ) -> Any:
        if 200 <= status < 300:
            try:
                return json.loads(raw) if raw.strip() else None
            except ValueError:
                snippet = self._scrub(raw[:120].decode("utf-8", "replace"), user_id)
                raise Mem0BadResponse(
                    f"Mem0 {operation} -> {status}: not JSON: {snippet!r}", operation=operation, status=status
                ) from None
        detail = self._scrub(_detail_of(raw), user_id)
        message = f"Mem0 {operation} -> {status}: {detail}"
        if status == 429:
            retry_after = _seconds_from_retry_after(response.getheader("Retry-After"))
            raise Mem0RateLimited(message, operation=operation, detail=detail, retry_after=retry_after)
        error_type: type[Mem0PlatformError]
        if status >= 500:
            error_type = Mem0ServerError
        elif status in (401, 403):
            error_type = Mem0AuthError
        elif status == 404:
            error_type = Mem0NotFound
        elif status >= 400:
            error_type = Mem0RequestRejected
        else:  # 1xx/3xx: the Platform never redirects an API call; following one could leak the key
            error_type = Mem0BadResponse
        raise error_type(message, operation=operation, status=status, detail=detail)

    def _scrub(self, text: str, user_id: str) -> str:
        """Error text fit for logs: no key, and the caller's number masked."""
        text = text.replace(self._api_key, "****")
        return text.replace(user_id, mask(user_id)) if user_id else text

    @staticmethod
    def _deadline(timeout: float | None, default: float) -> float:
        return time.monotonic() + (default if timeout is None else timeout)


class _Retries:
    """What is left of an operation's retry budget (shared by the pages of a list)."""

    def __init__(self, allowed: int) -> None:
        self.left = allowed

    def take(self, deadline: float) -> bool:
        if self.left <= 0 or deadline - time.monotonic() < MIN_SECONDS_FOR_RETRY:
            return False
        self.left -= 1
        return True


# -- mapping to and from the wire ------------------------------------------------------------------------


def _contents_by_role(messages: Sequence[ChatMessage]) -> dict[str, list[str]]:
    """Message contents grouped by role, in the order each role first speaks; each keeps its order."""
    groups: dict[str, list[str]] = {}
    for message in messages:
        groups.setdefault(message.role, []).append(message.content)
    return groups


def _wire_metadata(metadata: Mapping[str, Any], role: str) -> dict[str, Any]:
    wire = {_WIRE_NAMES.get(key, key): value for key, value in metadata.items() if key != "role"}
    wire[_WIRE_NAMES["role"]] = role
    return wire


def _port_metadata(wire: Mapping[str, Any]) -> dict[str, Any]:
    return {_PORT_NAMES.get(key, key): value for key, value in wire.items()}


def _json_bytes(body: Any) -> bytes:
    # As httpx serialises ``json=`` (what mem0ai sends): compact, UTF-8, no NaN.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _results(answer: Any, operation: str) -> list[dict[str, Any]]:
    items = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise Mem0BadResponse(f"Mem0 {operation}: no list of results in the answer", operation=operation)
    return items


def _record_from(item: dict[str, Any], operation: str) -> MemoryRecord:
    memory_id, text, metadata = item.get("id"), item.get("memory"), item.get("metadata") or {}
    if not isinstance(memory_id, (str, int)) or not isinstance(text, str) or not isinstance(metadata, dict):
        raise Mem0BadResponse(f"Mem0 {operation}: a result lacks id, memory or metadata", operation=operation)
    score = item.get("score")
    created_at = item.get("created_at")
    return MemoryRecord(
        id=str(memory_id),
        text=text,
        metadata=_port_metadata(metadata),
        created_at=created_at if isinstance(created_at, str) else None,
        score=float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
    )


def _ids_added(answer: Any, operation: str) -> list[str]:
    # With ``infer: false`` the Platform answers the stored memories; an answer without results (an
    # accepted event) means nothing to report, not a failure.
    if not isinstance(answer, dict):
        raise Mem0BadResponse(f"Mem0 {operation}: the answer is not an object", operation=operation)
    items = answer.get("results") or []
    if not isinstance(items, list):
        raise Mem0BadResponse(f"Mem0 {operation}: results is not a list", operation=operation)
    return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id") is not None]


def _next_page(next_url: Any, page: int, operation: str) -> int | None:
    """The page ``next`` points at. Only its number is used: the token never follows a URL we were sent."""
    if not next_url:
        return None
    if not isinstance(next_url, str):
        raise Mem0BadResponse(f"Mem0 {operation}: next is not a URL", operation=operation)
    numbers = parse_qs(urlsplit(next_url).query).get("page", [])
    following = int(numbers[0]) if numbers and numbers[0].isdigit() else page + 1
    if following <= page:
        raise Mem0BadResponse(f"Mem0 {operation}: pagination does not advance", operation=operation)
    return following


def _creation_order(record: MemoryRecord) -> tuple[float, str]:
    stamp = record.created_at or ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return (0.0, stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment.timestamp(), stamp)


def _detail_of(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:300] or "(empty body)"
    if isinstance(parsed, dict):
        for key in ("detail", "error", "message"):
            if parsed.get(key):
                return str(parsed[key])[:300]
    return text[:300]


def _seconds_from_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


# -- transport: keep-alive connections whose every socket operation honours the deadline -----------------


@cache
def _http() -> Any:
    """``http.client``, imported on the first request: it pulls in ``ssl`` and ``email`` (~10 ms)."""
    import http.client

    return http.client


def _seconds_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline has passed")
    return left


class _DeadlineSocket(socket.socket):
    """A TCP socket whose blocking calls each wait only for what is left until ``deadline``."""

    __slots__ = ("deadline",)
    deadline: float

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self.settimeout(_seconds_left(self.deadline))
        return super().recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self.settimeout(_seconds_left(self.deadline))
        return super().recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self.settimeout(_seconds_left(self.deadline))
        super().sendall(data, flags)


@cache
def _tls_context() -> ssl.SSLContext:
    """Built once per process, on the first https request: loading the CA bundle costs tens of ms."""
    import ssl

    class DeadlineSSLSocket(ssl.SSLSocket):
        deadline: float

        def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
            self.settimeout(_seconds_left(self.deadline))
            return super().recv_into(buffer, nbytes, flags)  # type: ignore[arg-type]

        def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
            self.settimeout(_seconds_left(self.deadline))
            return super().recv(buflen, flags)

        def sendall(self, data: Any, flags: int = 0) -> None:
            self.settimeout(_seconds_left(self.deadline))
            super().sendall(data, flags)

    context = ssl.create_default_context()
    context.sslsocket_class = DeadlineSSLSocket
    return context


def _connect(host: str, port: int, tls: bool, deadline: float) -> socket.socket:
    last_error: OSError | None = None
    # Name resolution has no timeout of its own (the system resolver's apply); it runs once per connection.
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = _DeadlineSocket(family, kind, proto)
        try:
            sock.deadline = deadline
            sock.settimeout(_seconds_left(deadline))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(address)
        except TimeoutError:
            sock.close()
            raise
        except OSError as error:
            sock.close()
            last_error = error
            continue
        if not tls:
            return sock
        try:
            # The handshake is bounded by the socket timeout set above; then the TLS socket takes over.
            secure = _tls_context().wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        secure.deadline = deadline  # type: ignore[attr-defined]
        return secure
    raise last_error or OSError(f"no address for {host}")


class _ConnectionPool:
    """Idle keep-alive connections to one host, most recently used first."""

    def __init__(self, host: str, port: int, tls: bool, max_idle: int) -> None:
        self._host, self._port, self.tls = host, port, tls
        self._max_idle = max_idle
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        self._lock = threading.Lock()

    def exchange(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str], deadline: float
    ) -> tuple[int, http.client.HTTPResponse, bytes]:
        connection = self._acquire()
        try:
            _arm(connection, deadline, lambda: _connect(self._host, self._port, self.tls, deadline))
            connection.request(method, target, body=body, headers=dict(headers))
            response = connection.getresponse()
            raw = response.read()
        except BaseException:
            connection.close()
            raise
        self._release(connection)
        return response.status, response, raw

    def close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.close()

    def _acquire(self) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                entry = self._idle.pop() if self._idle else None
            if entry is None:
                connection = cast(
                    "http.client.HTTPConnection", _http().HTTPConnection(self._host, self._port)
                )
                if self.tls:
                    connection.default_port = 443  # so that the Host header carries no ":443"
                return connection
            connection, idle_since = entry
            if time.monotonic() - idle_since <= MAX_IDLE_SECONDS and _still_open(connection):
                return connection
            connection.close()

    def _release(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append((connection, time.monotonic()))
                return
        connection.close()


def _arm(
    connection: http.client.HTTPConnection, deadline: float, connect: Callable[[], socket.socket]
) -> None:
    """Give this exchange's deadline to the connection's socket, connecting first if it has none."""
    if connection.sock is None:
        connection.sock = connect()
    else:
        cast(_DeadlineSocket, connection.sock).deadline = deadline


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that is readable has been closed by the server (or holds junk)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
