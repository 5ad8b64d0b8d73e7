"""Domain errors: what went wrong, in the domain's words (a detail message, nothing more).

The domain knows no HTTP: the entry points answer each error class with a status and a wire code
from one table beside them (``services.error_answers``).
"""


class DomainError(Exception):
    """An error the caller of an endpoint caused or must know about; ``detail`` says what, for the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(DomainError):
    """The request cannot be read or does not say what the endpoint needs."""


class Unauthorized(DomainError):
    """The request lacks the shared secret or signature the endpoint requires."""


class PayloadTooLarge(DomainError):
    """The request body exceeds what the endpoint accepts."""


class UnsafeIdentifier(BadRequest):
    """An id that is not a safe path segment: it must never reach an archive key."""


class MissingCaller(BadRequest):
    """The request names no caller to remember."""


class WithheldCaller(MissingCaller):
    """The only caller id is a carrier's placeholder for a withheld number: nobody to remember.

    Pre-call answers it with the neutral context, post-call archives it unattributed and the
    processor skips it; where it is not handled it is a missing caller.
    """


class ArchiveUnavailable(DomainError):
    """The archive could not store an event durably: the sender must deliver it again later."""


class ArchiveKeyMissing(LookupError):
    """A key asked for is not in the archive."""


class MemoryUnavailable(Exception):
    """The memory store failed or ran out of time. Never refuses a pre-call: it gets the neutral context."""


class ConfigurationError(RuntimeError):
    """The environment cannot configure this function; the message names the setting to fix.

    Not a DomainError: no request caused it. Entry points answer it with the message, which holds
    setting names only, never their values.
    """
