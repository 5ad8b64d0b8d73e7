"""Shared-secret headers: ``X-Workspace-Key`` on pre-call, ``X-Tool-Key`` on retrieve."""

import hmac
from collections.abc import Sequence

from pydantic import SecretStr

from .errors import Unauthorized


def require_key(presented: str | None, accepted: Sequence[SecretStr], header: str) -> None:
    """Raise Unauthorized unless ``presented`` equals one of the accepted keys (constant time)."""
    if not accepted:
        raise Unauthorized(f"no key is configured for {header}; the endpoint refuses every request")
    if not presented:
        raise Unauthorized(f"missing {header} header")
    given = presented.strip().encode("utf-8", errors="replace")
    matched = False
    for key in accepted:
        matched |= hmac.compare_digest(given, key.get_secret_value().encode("utf-8"))
    if not matched:
        raise Unauthorized(f"wrong {header}")


def require_key_if_configured(presented: str | None, accepted: Sequence[SecretStr], header: str) -> None:
    """Open when no key is configured (the original system's retrieve was), strict otherwise."""
    if accepted:
        require_key(presented, accepted, header)
