"""The one error the Mem0 Platform client raises: a ``MemoryUnavailable`` that says what went wrong.

Production code catches only ``MemoryUnavailable``; ``kind`` and the other attributes are for logs,
tests and the store's own decisions (a ``not_found`` delete is an answer, not a failure).
"""

from typing import Literal

from ...errors import MemoryUnavailable

Kind = Literal[
    "timeout", "unreachable", "server", "rate_limited", "auth", "not_found", "rejected", "bad_response"
]


class Mem0PlatformError(MemoryUnavailable):
    """Mem0 Platform could not serve a call.

    ``operation`` is "METHOD /path" (no query, no user id); ``kind`` is one of:

    * ``timeout``: the deadline passed before Mem0 answered;
    * ``unreachable``: no answer (connection refused or reset, name resolution or TLS failed);
    * ``server``: a 5xx;
    * ``rate_limited``: a 429, with its ``Retry-After`` in ``retry_after`` (seconds) when it gave one;
    * ``auth``: the API key was refused (401 or 403);
    * ``not_found``: a 404 (a wrong base URL, or a memory that is gone);
    * ``rejected``: the request itself was refused (400, 422, ...): a bug on our side, not an outage;
    * ``bad_response``: an answer that is not the JSON we expect.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        kind: Kind,
        status: int | None = None,
        detail: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.kind = kind
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


def bad_response(operation: str, problem: str, status: int | None = None) -> Mem0PlatformError:
    return Mem0PlatformError(
        f"Mem0 {operation}: {problem}", operation=operation, kind="bad_response", status=status
    )
