"""ElevenLabs webhook signatures: ``ElevenLabs-Signature: t=<unix secs>,v0=<hex HMAC-SHA256>``.

The HMAC key is the secret's UTF-8 bytes; the message is ``"<t>." + raw body``. Verification works
on the exact raw bytes (never re-serialised JSON), compares in constant time, enforces the window in
both directions (the official SDK checks only the past) and accepts several secrets for rotation.
"""

import hashlib
import hmac
import time
from collections.abc import Sequence

HEADER = "ElevenLabs-Signature"
DEFAULT_TOLERANCE_SECONDS = 30 * 60


class SignatureError(Exception):
    """The signature is missing, malformed, stale, or matches none of the secrets."""


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value ElevenLabs would send for ``body``: used by tests, load tests and the CLI."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v0={_digest(body, secret, t)}"


def verify(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body``; return the signed timestamp or raise SignatureError."""
    if not secrets:
        raise SignatureError("no webhook secret is configured")
    if not header:
        raise SignatureError("missing signature header")
    timestamp, candidates = _parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside the tolerance window")
    expected = [_digest(body, secret, timestamp) for secret in secrets if secret]
    # Every pair is compared, so the time taken does not depend on which secret matched.
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise SignatureError("signature does not match the body")
    return timestamp


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamps.append(value.strip())
        elif key == "v0":
            signatures.append(value.strip().lower())
    t = timestamps[0] if len(timestamps) == 1 else ""
    # isascii(): isdigit() alone accepts characters such as "²" that int() refuses.
    if not (t.isascii() and t.isdigit()) or len(t) > 12:
        raise SignatureError("signature header needs exactly one numeric t=")
    if not signatures or len(signatures) > 8:
        raise SignatureError("no v0 signature in the header")
    return int(t), signatures
