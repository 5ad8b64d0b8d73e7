"""The webhook signature module: parsing, window, rotation, and one error type for every refusal."""

import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic_memory.signature import DEFAULT_TOLERANCE_SECONDS, SignatureError, sign, verify

BODY = b'{"type":"post_call_transcription","event_timestamp":1763478362,"data":{"conversation_id":"conv_1"}}'
SIGNED_AT = 1763478362


@pytest.fixture
def secret() -> str:
    return "wsec_" + secrets.token_hex(16)


def digest_of(header: str) -> str:
    return header.split("v0=", 1)[1]


def test_sign_produces_the_documented_header_format(secret: str) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT)

    assert re.fullmatch(rf"t={SIGNED_AT},v0=[0-9a-f]{{64}}", header)


def test_signed_body_verifies_and_returns_its_timestamp(secret: str) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT)

    assert verify(BODY, header, [secret], now=SIGNED_AT) == SIGNED_AT


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_refused(secret: str, header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(BODY, header, [secret], now=SIGNED_AT)


def test_no_configured_secret_refuses_everything(secret: str) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT)

    with pytest.raises(SignatureError):
        verify(BODY, header, [], now=SIGNED_AT)


@pytest.mark.parametrize(
    "t_part",
    ["", "t=", "t=abc", "t=-5", "t=1.5", "t= ", "t=1763478362abc", "t=1234567890123", "T=1763478362"],
    ids=[
        "absent",
        "empty",
        "letters",
        "negative",
        "decimal",
        "blank",
        "trailing-junk",
        "overlong",
        "upper-T",
    ],
)
def test_missing_or_garbled_timestamp_is_refused(secret: str, t_part: str) -> None:
    digest = digest_of(sign(BODY, secret, timestamp=SIGNED_AT))
    header = ",".join(part for part in (t_part, f"v0={digest}") if part)

    with pytest.raises(SignatureError):
        verify(BODY, header, [secret], now=SIGNED_AT)


def test_timestamp_of_superscript_digits_is_refused_with_signature_error(secret: str) -> None:
    digest = digest_of(sign(BODY, secret, timestamp=SIGNED_AT))

    with pytest.raises(SignatureError):
        verify(BODY, f"t=²,v0={digest}", [secret], now=SIGNED_AT)


def test_duplicated_timestamp_is_refused_even_when_one_is_right(secret: str) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT) + f",t={SIGNED_AT + 1}"

    with pytest.raises(SignatureError):
        verify(BODY, header, [secret], now=SIGNED_AT)


@pytest.mark.parametrize("scheme", ["v1", "v00", "sha256", ""])
def test_header_without_a_v0_signature_is_refused(secret: str, scheme: str) -> None:
    digest = digest_of(sign(BODY, secret, timestamp=SIGNED_AT))

    with pytest.raises(SignatureError):
        verify(BODY, f"t={SIGNED_AT},{scheme}={digest}", [secret], now=SIGNED_AT)


def test_one_matching_v0_among_several_is_accepted(secret: str) -> None:
    digest = digest_of(sign(BODY, secret, timestamp=SIGNED_AT))
    header = f"t={SIGNED_AT},v0={'0' * 64},v0={digest},v0={'f' * 64}"

    assert verify(BODY, header, [secret], now=SIGNED_AT) == SIGNED_AT


def test_several_v0_values_none_matching_are_refused(secret: str) -> None:
    header = f"t={SIGNED_AT},v0={'0' * 64},v0={'f' * 64}"

    with pytest.raises(SignatureError):
        verify(BODY, header, [secret], now=SIGNED_AT)


def test_more_than_eight_v0_values_are_refused_even_with_a_match(secret: str) -> None:
    digest = digest_of(sign(BODY, secret, timestamp=SIGNED_AT))
    header = f"t={SIGNED_AT}," + ",".join([f"v0={'0' * 64}"] * 8 + [f"v0={digest}"])

    with pytest.raises(SignatureError):
        verify(BODY, header, [secret], now=SIGNED_AT)


def test_spaces_and_part_order_do_not_matter(secret: str) -> None:
    digest = digest_of(sign(BODY, secret, timestamp=SIGNED_AT))

    assert verify(BODY, f" v0={digest} , t={SIGNED_AT} ", [secret], now=SIGNED_AT) == SIGNED_AT


def test_unknown_header_parts_are_ignored(secret: str) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT) + ",v1=ignored,garbage"

    assert verify(BODY, header, [secret], now=SIGNED_AT) == SIGNED_AT


@pytest.mark.parametrize("signing", ["old", "new"])
def test_during_rotation_either_secret_is_accepted(signing: str) -> None:
    rotation = {"old": "wsec_" + secrets.token_hex(16), "new": "wsec_" + secrets.token_hex(16)}
    header = sign(BODY, rotation[signing], timestamp=SIGNED_AT)

    assert verify(BODY, header, [rotation["new"], rotation["old"]], now=SIGNED_AT) == SIGNED_AT


def test_after_rotation_the_retired_secret_is_refused(secret: str) -> None:
    retired = "wsec_" + secrets.token_hex(16)
    header = sign(BODY, retired, timestamp=SIGNED_AT)

    with pytest.raises(SignatureError):
        verify(BODY, header, [secret], now=SIGNED_AT)


def test_empty_secret_in_the_list_never_matches() -> None:
    header = sign(BODY, "", timestamp=SIGNED_AT)

    with pytest.raises(SignatureError):
        verify(BODY, header, [""], now=SIGNED_AT)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (0, True),
        (DEFAULT_TOLERANCE_SECONDS, True),
        (DEFAULT_TOLERANCE_SECONDS + 1, False),
        (-DEFAULT_TOLERANCE_SECONDS, True),
        (-DEFAULT_TOLERANCE_SECONDS - 1, False),
    ],
    ids=["now", "stale-at-boundary", "stale", "future-at-boundary", "future"],
)
def test_timestamp_window_holds_in_both_directions(secret: str, offset: int, accepted: bool) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT)
    now = SIGNED_AT + offset

    if accepted:
        assert verify(BODY, header, [secret], now=now) == SIGNED_AT
    else:
        with pytest.raises(SignatureError):
            verify(BODY, header, [secret], now=now)


def test_a_custom_tolerance_narrows_the_window(secret: str) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT)

    with pytest.raises(SignatureError):
        verify(BODY, header, [secret], tolerance_seconds=60, now=SIGNED_AT + 61)


@pytest.mark.parametrize(
    "changed",
    [BODY + b"\n", BODY.replace(b"conv_1", b"conv_2"), b" " + BODY, BODY.replace(b":", b": ")],
    ids=["trailing-newline", "other-id", "leading-space", "reserialised"],
)
def test_any_change_to_the_body_is_refused(secret: str, changed: bytes) -> None:
    header = sign(BODY, secret, timestamp=SIGNED_AT)

    with pytest.raises(SignatureError):
        verify(changed, header, [secret], now=SIGNED_AT)


def test_a_signature_for_another_timestamp_is_refused(secret: str) -> None:
    digest = digest_of(sign(BODY, secret, timestamp=SIGNED_AT))

    with pytest.raises(SignatureError):
        verify(BODY, f"t={SIGNED_AT + 1},v0={digest}", [secret], now=SIGNED_AT)


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40), timestamp=st.integers(0, 2**33))
def test_any_body_signed_with_any_secret_verifies(body: bytes, secret: str, timestamp: int) -> None:
    header = sign(body, secret, timestamp=timestamp)

    assert verify(body, header, [secret], now=timestamp) == timestamp


@given(body=st.binary(min_size=1, max_size=256), position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_single_byte_change_is_refused(body: bytes, position: int, flip: int) -> None:
    secret = "wsec_property_secret"
    header = sign(body, secret, timestamp=SIGNED_AT)
    index = position % len(body)
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]

    with pytest.raises(SignatureError):
        verify(changed, header, [secret], now=SIGNED_AT)
