"""Who may open the console: the holder of the console key, sent as ``X-Console-Key`` or as the session
cookie the login form sets. The cookie holds an HMAC of the key, never the key itself.

On a non-loopback address the console is served only with a key configured explicitly (``CONSOLE_KEY``
in the environment): a generated dev key lives in a file anyone on the machine may have read.
"""

import hashlib
import hmac
import ipaddress

from starlette.requests import Request

HEADER = "X-Console-Key"
COOKIE = "console_session"
_SESSION_LABEL = b"agentic-memory console session"


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
    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the console needs a key")
        self._key = key
        self.session_token = hmac.new(key.encode(), _SESSION_LABEL, hashlib.sha256).hexdigest()

    def key_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self._key.encode())

    def admits(self, request: Request) -> bool:
        header = request.headers.get(HEADER)
        if header is not None:
            return self.key_matches(header)
        cookie = request.cookies.get(COOKIE, "")
        return hmac.compare_digest(cookie.encode(), self.session_token.encode())
