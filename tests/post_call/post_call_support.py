"""What the hostile post-call tests share: the signature computed independently of the product's
``sign()``, the key an event is filed under, and the three outcomes (acknowledged at a key, refused
with nothing written, kept under the archive layout)."""

import hashlib
import hmac
import time
from typing import Any

from hostile_support import Exchange, assert_archive_follows_the_layout

from agentic_memory.signature import HEADER

INBOUND = "transcription_twilio_inbound"
TOLERANCE_SECONDS = 30 * 60  # the product's default window, both directions


def digest(body: bytes, secret: str, timestamp: int) -> str:
    """HMAC-SHA256 of ``"<t>." + body``, computed here rather than with the product's ``sign()``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_by(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    t = int(time.time()) if timestamp is None else timestamp
    return {HEADER: f"t={t},v0={digest(body, secret, t)}"}


def expected_key(payload: dict[str, Any]) -> str:
    data = payload["data"]
    if payload["type"] == "post_call_audio":
        return f"post-call/audio-only/{data['agent_id']}/{data['conversation_id']}.json"
    if payload["type"] == "call_initiation_failure":
        return f"post-call/initiation-failure/{data['agent_id']}/{data['conversation_id']}.json"
    phone_call = data["metadata"].get("phone_call") or {}
    caller = phone_call.get("external_number") or data["user_id"]
    return f"post-call/{caller}/{data['conversation_id']}.json"


def assert_acknowledged_at(exchange: Exchange, key: str) -> None:
    assert exchange.status == 200, exchange.answer
    assert exchange.answer == {"status": "ok"}
    assert exchange.written == [key]


def assert_refused(exchange: Exchange, status: int) -> None:
    assert exchange.status == status, (exchange.status, exchange.answer)
    assert exchange.written == []


OTHER = "post-call/other/"


def assert_kept(exchange: Exchange, prefix: str = "post-call/") -> str:
    """Signed is never refused (issue 11): 200, one object in the archive layout, under ``prefix``."""
    assert exchange.status == 200, (exchange.status, exchange.answer)
    assert exchange.answer == {"status": "ok"}
    [key] = exchange.written
    assert_archive_follows_the_layout([key])
    assert key.startswith(prefix), key
    return key
