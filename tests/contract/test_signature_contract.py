"""Our webhook signatures agree with ElevenLabs' scheme and with the official SDK's verifier.

Secrets are generated per test; no real key is used anywhere.
"""

import hashlib
import hmac
import secrets
import time

import pytest
from elevenlabs import ElevenLabs
from elevenlabs.errors import BadRequestError

from agentic_memory.signature import SignatureError, sign, verify
from devtools.fixtures import fixture_bytes

# The test vector of docs/elevenlabs-contract.md (Signature), computed with the documented scheme.
VECTOR_SECRET = "wsec_example_secret"
VECTOR_TIMESTAMP = 1739537297
VECTOR_BODY = (
    b'{"type":"post_call_transcription","event_timestamp":1739537297,'
    b'"data":{"agent_id":"xyz","conversation_id":"abc"}}'
)
VECTOR_HEADER = "t=1739537297,v0=30a005259cea5affb30b5359f968d3995d2d8cf99c48541867bebf4082ab6cd6"

SIGNED_FIXTURES = [
    "transcription_twilio_inbound",
    "transcription_web",
    "audio",
    "initiation_failure_twilio",
]
SDK_TOLERANCE_SECONDS = 30 * 60


def sdk_accepts(body: bytes, header: str, secret: str) -> bool:
    webhooks = ElevenLabs(api_key="test").webhooks
    try:
        webhooks.construct_event(rawBody=body.decode("utf-8"), sig_header=header, secret=secret)
    except BadRequestError:
        return False
    return True


def we_accept(body: bytes, header: str, secret: str, now: float | None = None) -> bool:
    try:
        verify(body, header, [secret], now=now)
    except SignatureError:
        return False
    return True


def new_secret() -> str:
    return "wsec_" + secrets.token_hex(16)


def test_reference_vector_is_what_sign_produces() -> None:
    assert sign(VECTOR_BODY, VECTOR_SECRET, timestamp=VECTOR_TIMESTAMP) == VECTOR_HEADER


def test_reference_vector_is_accepted_by_verify_at_its_own_time() -> None:
    signed_at = verify(VECTOR_BODY, VECTOR_HEADER, [VECTOR_SECRET], now=VECTOR_TIMESTAMP + 5)

    assert signed_at == VECTOR_TIMESTAMP


def test_reference_vector_is_rejected_with_another_secret() -> None:
    with pytest.raises(SignatureError):
        verify(VECTOR_BODY, VECTOR_HEADER, [new_secret()], now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize("name", SIGNED_FIXTURES)
def test_header_made_by_our_sign_is_accepted_by_the_official_sdk(name: str) -> None:
    body, secret = fixture_bytes(name), new_secret()

    header = sign(body, secret)

    assert sdk_accepts(body, header, secret)


def documented_header(body_text: str, secret: str, timestamp: int) -> str:
    """The scheme as the documentation states it, built without our module."""
    message = f"{timestamp}.{body_text}".encode()
    return f"t={timestamp},v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("name", SIGNED_FIXTURES)
def test_header_the_official_sdk_accepts_is_accepted_by_our_verify(name: str) -> None:
    body, secret = fixture_bytes(name), new_secret()
    header = documented_header(body.decode("utf-8"), secret, int(time.time()))
    assert sdk_accepts(body, header, secret)

    assert we_accept(body, header, secret)


def test_fixture_with_non_ascii_text_is_signed_over_its_utf8_bytes_by_both() -> None:
    body, secret = fixture_bytes("transcription_twilio_inbound"), new_secret()
    assert any(byte > 0x7F for byte in body), "the fixture should exercise UTF-8 (a curly apostrophe)"

    header = sign(body, secret)

    assert sdk_accepts(body, header, secret) and we_accept(body, header, secret)


@pytest.mark.parametrize("name", SIGNED_FIXTURES)
def test_changed_body_is_rejected_by_both(name: str) -> None:
    body, secret = fixture_bytes(name), new_secret()
    header = sign(body, secret)
    changed = body.replace(b"conv_", b"conv-", 1)

    assert not sdk_accepts(changed, header, secret)
    assert not we_accept(changed, header, secret)


def test_header_signed_with_another_secret_is_rejected_by_both() -> None:
    body = fixture_bytes("transcription_twilio_inbound")
    header = sign(body, new_secret())

    secret = new_secret()

    assert not sdk_accepts(body, header, secret)
    assert not we_accept(body, header, secret)


def test_stale_header_beyond_thirty_minutes_is_rejected_by_both() -> None:
    body, secret = fixture_bytes("transcription_twilio_inbound"), new_secret()

    header = sign(body, secret, timestamp=int(time.time()) - SDK_TOLERANCE_SECONDS - 60)

    assert not sdk_accepts(body, header, secret)
    assert not we_accept(body, header, secret)


def test_future_header_beyond_tolerance_is_rejected_by_us_but_accepted_by_the_sdk() -> None:
    # Our rule is stricter than the SDK's: the window holds in both directions.
    body, secret = fixture_bytes("transcription_twilio_inbound"), new_secret()

    header = sign(body, secret, timestamp=int(time.time()) + SDK_TOLERANCE_SECONDS + 3600)

    assert sdk_accepts(body, header, secret)
    assert not we_accept(body, header, secret)


def test_future_header_within_tolerance_is_accepted_by_both() -> None:
    body, secret = fixture_bytes("audio"), new_secret()

    header = sign(body, secret, timestamp=int(time.time()) + 60)

    assert sdk_accepts(body, header, secret) and we_accept(body, header, secret)


def test_header_with_v0_before_t_is_accepted_by_both() -> None:
    body, secret = fixture_bytes("transcription_web"), new_secret()
    timestamp, digest = sign(body, secret).split(",")

    header = f"{digest},{timestamp}"

    assert sdk_accepts(body, header, secret) and we_accept(body, header, secret)


def test_header_with_a_space_after_the_comma_is_rejected_by_the_sdk_but_accepted_by_us() -> None:
    # ElevenLabs sends no space; we tolerate one in hand-made headers, the SDK does not.
    body, secret = fixture_bytes("transcription_web"), new_secret()

    header = sign(body, secret).replace(",", ", ")

    assert not sdk_accepts(body, header, secret)
    assert we_accept(body, header, secret)


def test_header_with_the_v1_scheme_is_rejected_by_both() -> None:
    body, secret = fixture_bytes("transcription_web"), new_secret()

    header = sign(body, secret).replace("v0=", "v1=")

    assert not sdk_accepts(body, header, secret)
    assert not we_accept(body, header, secret)


def test_sdk_rejects_the_body_as_bytes_which_is_why_we_verify_the_raw_bytes_ourselves() -> None:
    body, secret = fixture_bytes("transcription_web"), new_secret()
    header = sign(body, secret)
    webhooks = ElevenLabs(api_key="test").webhooks

    with pytest.raises(BadRequestError):
        webhooks.construct_event(rawBody=body, sig_header=header, secret=secret)  # type: ignore[arg-type]

    assert we_accept(body, header, secret)
