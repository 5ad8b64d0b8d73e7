"""Who may open the console: the holder of the console key, sent as ``X-Console-Key`` (scripts) or
signed in through the login form, which opens a session.

A session is a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie, known to this process only:
it ends after ``SessionPolicy.lifetime_seconds`` (8 hours) whatever happens, after
``idle_seconds`` (30 minutes) without a request, on sign-out (the token is dropped here, so a copy of
the cookie is worthless), and when the process stops.

On a non-loopback address the console is served only with a key configured explicitly (``CONSOLE_KEY``
in the environment): a generated dev key lives in a file anyone on the machine may have read.
"""

import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

HEADER = "X-Console-Key"
COOKIE = "console_session"
# Sessions open at once: signing in again and again must not grow memory without bound.
MAX_SESSIONS = 256


@dataclass(frozen=True)
class SessionPolicy:
    lifetime_seconds: float = 8 * 3600
    idle_seconds: float = 30 * 60


@dataclass
class _Session:
    opened: float
    seen: float


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; False for 0.0.0.0, a LAN or public address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def console_allowed(host: str, key_from_environment: bool) -> bool:
    return is_loopback(host) or key_from_environment


class ConsoleAccess:
    def __init__(
        self,
        key: str,
        policy: SessionPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not key:
            raise ValueError("the console needs a key")
        self._key = key
        self.policy = policy or SessionPolicy()
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def key_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self._key.encode())

    def open_session(self) -> str:
        """A new session's token (the cookie's value)."""
        now = self._clock()
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_expired(now)
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions, key=lambda t: self._sessions[t].seen)
                del self._sessions[oldest]
            self._sessions[token] = _Session(opened=now, seen=now)
        return token

    def close_session(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def session_of(self, request: Request) -> str | None:
        """The request's session token while the session is open (and marks it used), else None."""
        token = request.cookies.get(COOKIE, "")
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token) if token else None
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[token]
                return None
            session.seen = now
        return token

    def admits(self, request: Request) -> bool:
        header = request.headers.get(HEADER)
        if header is not None:
            return self.key_matches(header)
        return self.session_of(request) is not None

    def _expired(self, session: _Session, now: float) -> bool:
        return (
            now - session.opened >= self.policy.lifetime_seconds
            or now - session.seen >= self.policy.idle_seconds
        )

    def _drop_expired(self, now: float) -> None:
        for token in [t for t, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[token]
