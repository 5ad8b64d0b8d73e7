"""One HTTP exchange with a deadline, on urllib3's connection pool. Knows nothing of Mem0's JSON.

* **Nothing happens at import or construction**: urllib3 is imported, and for https the TLS context
  built, by ``prepare()`` or the first exchange.
* **Keep-alive**: idle connections wait in a small pool (urllib3's, LIFO) so that threads can overlap
  exchanges; one the server has closed (say while the Lambda was frozen) is noticed by urllib3 and
  replaced before it is used, and one idle for longer than ``MAX_IDLE_SECONDS`` is not trusted.
* **The deadline bounds the whole exchange**: urllib3's ``Timeout`` bounds each socket operation on its
  own, so a server dripping its answer a byte at a time would hold a caller for ever. The sockets here
  give every connect, send and receive only what is left until the exchange's deadline.
* **One attempt, no redirect**: an exchange is never retried here (``retries=False``; the store decides,
  knowing whether the request is a read and how much of its budget is left) and a 3xx is returned as
  it is (following one could leak the key).

Why urllib3 rather than the hand-written pool this replaced (``loadtests/mem0_transport_benchmark.py``,
one run on a 2-vCPU machine, medians): per call over loopback keep-alive 0.06 ms more for a search
(0.50 → 0.56 ms) and for an add (0.21 → 0.27 ms), against a 300 ms budget; the module's own import
the same (6.1 → 6.9 ms); importing urllib3 on first use costs about 1.3 ms more in Lambda, where
botocore has already loaded it; both return within 4 ms of the deadline under every fault (delay,
reset, 5xx, a body dripped a byte at a time). Nothing a budget feels, so the well-kept library wins.
``Retry`` is not used: the store's rule (a read retried once, only while time is left, one retry
shared by all the pages of a listing) is not one ``Retry`` can express.

urllib3 is the Lambda runtime's (botocore's): the artifact does not carry it, so that a handler's init
does not compile a second copy from source. AWS does not document which version the runtime has, so
this module works with 1.26 and 2.x (the tests pass on 1.26.20 and 2.8.0): the hooks overridden here
(``_new_conn``, ``_get_conn``, ``_put_conn``), ``Timeout`` and ``urlopen``'s options are the same in
both. One difference: 1.26 wraps a socket to an IP address without ``server_hostname``, which a context
that checks host names refuses; with 1.26 the host name is matched by urllib3 instead, as its own
default context does.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

    import urllib3

# Servers and NAT gateways drop idle connections silently after a minute or more; reconnecting is
# cheaper than waiting out a whole deadline on a dead socket.
MAX_IDLE_SECONDS = 55.0


class DeadlineExceeded(Exception):
    """The deadline passed before the answer was complete."""


class ExchangeFailed(Exception):
    """No answer: connection refused or reset, name resolution or TLS failed, the answer broke off."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str]


class Transport:
    """Exchanges with one origin (``scheme://host:port``) over pooled keep-alive connections."""

    def __init__(self, scheme: str, host: str, port: int, max_idle_connections: int = 4) -> None:
        self.tls = scheme == "https"
        self._host, self._port, self._max_idle = host, port, max_idle_connections
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Import urllib3 and, for https, build the TLS context, without connecting."""
        _pool_classes()
        if self.tls:
            _tls_context()

    def close(self) -> None:
        """Close the idle connections; a later exchange reconnects."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def exchange(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str], deadline: float
    ) -> Response:
        """Send one request and read its whole answer before ``deadline`` (``time.monotonic()``)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the deadline has passed")
        pool = self._pool or self._open()
        urllib3 = _urllib3()
        _deadline.value = deadline
        try:
            answer = pool.urlopen(
                method,
                target,
                body=body,
                headers=dict(headers),
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(connect=left, read=left),
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            if _timed_out(error, urllib3) or time.monotonic() >= deadline:
                raise DeadlineExceeded(_describe(error)) from error
            raise ExchangeFailed(_describe(error)) from error
        finally:
            _deadline.value = None
        return Response(answer.status, answer.data, answer.headers)

    def _open(self) -> urllib3.HTTPConnectionPool:
        plain, secure = _pool_classes()
        with self._lock:
            if self._pool is None:
                options: dict[str, Any] = {"maxsize": self._max_idle, "block": False, "retries": False}
                if self.tls:
                    context = _tls_context()
                    if _urllib3().__version__.startswith("1."):
                        # urllib3 1.26 matches the certificate against the host itself (IP addresses too).
                        context.check_hostname = False
                    self._pool = secure(self._host, self._port, ssl_context=context, **options)
                else:
                    self._pool = plain(self._host, self._port, **options)
            return self._pool


def _timed_out(error: BaseException, urllib3: Any) -> bool:
    """A timeout, however urllib3 wrapped it (a send that times out becomes "Connection aborted.")."""
    if isinstance(error, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        return False
    if isinstance(error, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return True
    return any(isinstance(arg, TimeoutError) for arg in error.args)


def _describe(error: BaseException) -> str:
    """The error's type and message, the innermost cause's type where urllib3 wrapped one."""
    reason = error.args[1] if len(error.args) == 2 and isinstance(error.args[1], BaseException) else None
    cause = reason or error.__cause__ or error
    return f"{type(cause).__name__}: {error}"


# -- sockets that honour the deadline of the exchange running on this thread -----------------------------


class _Deadline(threading.local):
    value: float | None = None


_deadline = _Deadline()


def _seconds_left() -> float | None:
    deadline = _deadline.value
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline has passed")
    return left


class _HonoursDeadline:
    """Mixed into a socket class: each blocking call waits only for what is left of the deadline."""

    __slots__ = ()

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        self._wait_what_is_left()
        return super().recv_into(*args, **kwargs)  # type: ignore[misc, no-any-return]

    def recv(self, *args: Any, **kwargs: Any) -> bytes:
        self._wait_what_is_left()
        return super().recv(*args, **kwargs)  # type: ignore[misc, no-any-return]

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        self._wait_what_is_left()
        super().sendall(*args, **kwargs)  # type: ignore[misc]

    def _wait_what_is_left(self) -> None:
        if (left := _seconds_left()) is not None:
            self.settimeout(left)  # type: ignore[attr-defined]


class _DeadlineSocket(_HonoursDeadline, socket.socket):
    """A TCP socket whose blocking calls each wait only for what is left of the current deadline."""

    __slots__ = ()

    @classmethod
    def adopt(cls, sock: socket.socket) -> _DeadlineSocket:
        timeout = sock.gettimeout()
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.settimeout(timeout)
        return adopted


@cache
def _tls_context() -> ssl.SSLContext:
    """Built once per process, on the first https exchange: loading the CA bundle costs tens of ms.
    The system's CAs, certificate and host name checked (urllib3 keeps both on: CERT_REQUIRED)."""
    import ssl

    class DeadlineSSLSocket(_HonoursDeadline, ssl.SSLSocket):
        pass

    context = ssl.create_default_context()
    context.sslsocket_class = DeadlineSSLSocket
    return context


@cache
def _urllib3() -> Any:
    import urllib3

    return urllib3


@cache
def _pool_classes() -> tuple[type[urllib3.HTTPConnectionPool], type[urllib3.HTTPSConnectionPool]]:
    """urllib3's pools with deadline sockets and an idle limit (defined on first use: urllib3 is
    imported then)."""
    from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.connection import HTTPConnection, HTTPSConnection

    class Connection(HTTPConnection):
        idle_since: float | None = None

        def _new_conn(self) -> socket.socket:
            # urllib3 resolves, connects (within the connect timeout: what is left) and sets TCP_NODELAY.
            return _DeadlineSocket.adopt(super()._new_conn())

    class SecureConnection(HTTPSConnection):
        idle_since: float | None = None

        def _new_conn(self) -> socket.socket:
            # The TLS handshake that follows is bounded by the socket's timeout: what is left.
            return _DeadlineSocket.adopt(super()._new_conn())

    class IdleLimit:
        def _get_conn(self, timeout: float | None = None) -> Any:
            connection = super()._get_conn(timeout)  # type: ignore[misc]
            idle_since = getattr(connection, "idle_since", None)
            if idle_since is not None and time.monotonic() - idle_since > MAX_IDLE_SECONDS:
                connection.close()
            return connection

        def _put_conn(self, connection: Any) -> None:
            if connection is not None:
                connection.idle_since = time.monotonic()
            super()._put_conn(connection)  # type: ignore[misc]

    class Pool(IdleLimit, HTTPConnectionPool):
        ConnectionCls = Connection

    class SecurePool(IdleLimit, HTTPSConnectionPool):
        ConnectionCls = SecureConnection

    return Pool, SecurePool
