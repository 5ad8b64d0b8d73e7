"""Domain errors. Entry points map them to HTTP in one place (``services.http_edge``)."""


class DomainError(Exception):
    """An error the caller of an endpoint caused or must know about."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsafeIdentifier(BadRequest):
    """An id that is not a safe path segment: it must never reach an archive key."""

    code = "unsafe_identifier"


class MissingCaller(BadRequest):
    code = "missing_caller"


class WithheldCaller(MissingCaller):
    """The only caller id is a carrier's placeholder for a withheld number: nobody to remember.

    Pre-call answers it with the neutral context, post-call archives it unattributed and the
    processor skips it; where it is not handled it is a missing caller.
    """

    code = "withheld_caller"


class ArchiveUnavailable(DomainError):
    """The archive could not store an event durably: ElevenLabs must retry, so this is a 5xx."""

    status = 503
    code = "archive_unavailable"


class ArchiveKeyMissing(LookupError):
    """A key asked for is not in the archive."""


class MemoryUnavailable(Exception):
    """The memory store failed or ran out of time. Never shown to ElevenLabs as a 5xx on pre-call."""


class ConfigurationError(RuntimeError):
    """The environment cannot configure this function; the message names the setting to fix.

    Not a DomainError: no request caused it. Entry points answer it 500 with the message, which holds
    setting names only, never their values.
    """
