"""Errors as HTTP answers: the one table from an error class to its status and wire code.

The domain raises errors that know nothing of HTTP (``agentic_memory.errors``); the edge answers
them ``{"error": code, "detail": text}`` with the status found here. A class is looked up along its
MRO, so a subclass answers as its nearest listed ancestor (``_S3Failure`` as ``ArchiveUnavailable``).
"""

from dataclasses import dataclass

from agentic_memory.errors import (
    ArchiveUnavailable,
    BadRequest,
    ConfigurationError,
    DomainError,
    MissingCaller,
    PayloadTooLarge,
    Unauthorized,
    UnsafeIdentifier,
    WithheldCaller,
)


@dataclass(frozen=True)
class ErrorAnswer:
    """An HTTP status and the ``"error"`` code of the JSON body that goes with it."""

    status: int
    code: str


ANSWERS: dict[type[BaseException], ErrorAnswer] = {
    DomainError: ErrorAnswer(400, "bad_request"),
    BadRequest: ErrorAnswer(400, "bad_request"),
    UnsafeIdentifier: ErrorAnswer(400, "unsafe_identifier"),
    MissingCaller: ErrorAnswer(400, "missing_caller"),
    WithheldCaller: ErrorAnswer(400, "withheld_caller"),
    Unauthorized: ErrorAnswer(401, "unauthorized"),
    PayloadTooLarge: ErrorAnswer(413, "payload_too_large"),
    # ElevenLabs retries a post-call event only on a 5xx: an event not stored must be sent again.
    ArchiveUnavailable: ErrorAnswer(503, "archive_unavailable"),
    # No request caused it: the function cannot start until a setting is fixed.
    ConfigurationError: ErrorAnswer(500, "misconfigured"),
}
# Anything else is a bug or an outage.
UNHANDLED = ErrorAnswer(500, "internal_error")


def answer_for(error: BaseException | type[BaseException]) -> ErrorAnswer:
    """The answer of ``error`` (an instance or a class): its nearest class in ``ANSWERS``, else
    ``UNHANDLED``."""
    kind = error if isinstance(error, type) else type(error)
    for cls in kind.__mro__:
        if cls in ANSWERS:
            return ANSWERS[cls]
    return UNHANDLED
