"""Hostile signatures on ``POST /post-call``: only a body signed with a current secret inside the time
window is acknowledged 200, with exactly one archive object at the archive key of the event; a missing,
garbled, stale or foreign signature is a short JSON 401 that writes nothing; a repeated delivery writes
nothing more; a base64 body (API Gateway's binary encoding) is verified over its decoded bytes.
"""

import base64
import json
import time
from collections.abc import Callable

import pytest
from helpers import api_event
from hostile_support import HOSTILE_SETTINGS, POST_CALL, Harness, HostileKeys, fixture, raw_fixture
from hypothesis import given, settings
from hypothesis import strategies as st
from post_call_support import (
    INBOUND,
    TOLERANCE_SECONDS,
    assert_acknowledged_at,
    assert_refused,
    digest,
    expected_key,
    signed_by,
)

from agentic_memory.signature import HEADER

# --- signature headers ----------------------------------------------------------------------------

Headers = Callable[[HostileKeys, bytes, int], dict[str, str]]


def _v0(keys: HostileKeys, body: bytes, t: int) -> str:
    return digest(body, keys.hmac, t)


ACCEPTED_SIGNATURES: dict[str, Headers] = {
    "the current secret": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t)}"},
    "the previous secret (rotation)": lambda k, b, t: {HEADER: f"t={t},v0={digest(b, k.previous_hmac, t)}"},
    "two v0, the second right": lambda k, b, t: {HEADER: f"t={t},v0={'0' * 64},v0={_v0(k, b, t)}"},
    "two v0, the first right": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t)},v0={'f' * 64}"},
    "one v0 per secret": lambda k, b, t: {
        HEADER: f"t={t},v0={_v0(k, b, t)},v0={digest(b, k.previous_hmac, t)}"
    },
    "upper-case hex of the right digest": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t).upper()}"},
    "spaces after the commas": lambda k, b, t: {HEADER: f"t={t}, v0={_v0(k, b, t)}"},
    "empty parts around": lambda k, b, t: {HEADER: f",t={t},,v0={_v0(k, b, t)},"},
    "v0 before t": lambda k, b, t: {HEADER: f"v0={_v0(k, b, t)},t={t}"},
    "an unknown scheme beside the right v0": lambda k, b, t: {
        HEADER: f"t={t},v1={'a' * 64},v0={_v0(k, b, t)}"
    },
    "header name in lower case": lambda k, b, t: {HEADER.lower(): f"t={t},v0={_v0(k, b, t)}"},
    "t 60 s ahead (clock skew)": lambda k, b, t: {HEADER: f"t={t + 60},v0={_v0(k, b, t + 60)}"},
    "t 25 minutes old": lambda k, b, t: {HEADER: f"t={t - 1500},v0={_v0(k, b, t - 1500)}"},
}

REFUSED_SIGNATURES: dict[str, Headers] = {
    "missing": lambda k, b, t: {},
    "empty": lambda k, b, t: {HEADER: ""},
    "only commas": lambda k, b, t: {HEADER: ",,,"},
    "only t": lambda k, b, t: {HEADER: f"t={t}"},
    "only v0": lambda k, b, t: {HEADER: f"v0={_v0(k, b, t)}"},
    "empty t and v0": lambda k, b, t: {HEADER: "t=,v0="},
    "empty t": lambda k, b, t: {HEADER: f"t=,v0={_v0(k, b, t)}"},
    "two t with the same value": lambda k, b, t: {HEADER: f"t={t},t={t},v0={_v0(k, b, t)}"},
    "two t, the second signed": lambda k, b, t: {HEADER: f"t={t - 5},t={t},v0={_v0(k, b, t)}"},
    "the header repeated (joined by a comma)": lambda k, b, t: {
        HEADER: f"t={t},v0={_v0(k, b, t)},t={t},v0={_v0(k, b, t)}"
    },
    "wrong scheme v1": lambda k, b, t: {HEADER: f"t={t},v1={_v0(k, b, t)}"},
    "scheme in capitals V0": lambda k, b, t: {HEADER: f"t={t},V0={_v0(k, b, t)}"},
    "T in capitals": lambda k, b, t: {HEADER: f"T={t},v0={_v0(k, b, t)}"},
    "key and value split by spaces": lambda k, b, t: {HEADER: f"t = {t},v0 = {_v0(k, b, t)}"},
    "non-hex digest": lambda k, b, t: {HEADER: f"t={t},v0={'z' * 64}"},
    "digest one character short": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t)[:-1]}"},
    "digest one character long": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t)}0"},
    "digest twice over": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t) * 2}"},
    "a 10 KB digest": lambda k, b, t: {HEADER: f"t={t},v0={'ab' * 5000}"},
    "a space inside the digest": lambda k, b, t: {
        HEADER: f"t={t},v0={_v0(k, b, t)[:30]} {_v0(k, b, t)[30:]}"
    },
    "base64 instead of hex": lambda k, b, t: {
        HEADER: f"t={t},v0={base64.b64encode(bytes.fromhex(_v0(k, b, t))).decode()}"
    },
    "a stranger's secret": lambda k, b, t: {HEADER: f"t={t},v0={digest(b, 'whsec_stranger_secret', t)}"},
    "both secrets joined as one": lambda k, b, t: {
        HEADER: f"t={t},v0={digest(b, f'{k.hmac},{k.previous_hmac}', t)}"
    },
    "an empty secret": lambda k, b, t: {HEADER: f"t={t},v0={digest(b, '', t)}"},
    "the secret's prefix": lambda k, b, t: {HEADER: f"t={t},v0={digest(b, k.hmac[:-1], t)}"},
    "the workspace key as secret": lambda k, b, t: {HEADER: f"t={t},v0={digest(b, k.workspace, t)}"},
    "signed for another t": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t - 1)}"},
    "stale: beyond the window": lambda k, b, t: {
        HEADER: f"t={t - TOLERANCE_SECONDS - 60},v0={_v0(k, b, t - TOLERANCE_SECONDS - 60)}"
    },
    "future: beyond the window": lambda k, b, t: {
        HEADER: f"t={t + TOLERANCE_SECONDS + 60},v0={_v0(k, b, t + TOLERANCE_SECONDS + 60)}"
    },
    "t is zero": lambda k, b, t: {HEADER: f"t=0,v0={_v0(k, b, 0)}"},
    "t negative": lambda k, b, t: {HEADER: f"t=-{t},v0={_v0(k, b, t)}"},
    "t with a plus sign": lambda k, b, t: {HEADER: f"t=+{t},v0={_v0(k, b, t)}"},
    "t as a decimal": lambda k, b, t: {HEADER: f"t={t}.0,v0={_v0(k, b, t)}"},
    "t in exponent form": lambda k, b, t: {HEADER: f"t={t / 1e9}e9,v0={_v0(k, b, t)}"},
    "t in hex": lambda k, b, t: {HEADER: f"t={hex(t)},v0={_v0(k, b, t)}"},
    "t in fullwidth digits": lambda k, b, t: {
        HEADER: f"t={''.join(chr(0xFF10 + int(c)) for c in str(t))},v0={_v0(k, b, t)}"
    },
    "t with a superscript digit": lambda k, b, t: {HEADER: f"t={t}\u00b2,v0={_v0(k, b, t)}"},
    "t of 40 digits": lambda k, b, t: {HEADER: f"t={'9' * 40},v0={_v0(k, b, t)}"},
    "NUL inside": lambda k, b, t: {HEADER: f"t={t},v0={_v0(k, b, t)}\x00"},
    "non-ASCII junk": lambda k, b, t: {HEADER: "t=\u00e9\U0001f600,v0=\u202e"},
    "a JSON object": lambda k, b, t: {HEADER: json.dumps({"t": t, "v0": _v0(k, b, t)})},
    "in another header": lambda k, b, t: {"X-ElevenLabs-Signature": f"t={t},v0={_v0(k, b, t)}"},
    "as a bearer token": lambda k, b, t: {"Authorization": f"Bearer {_v0(k, b, t)}"},
}


@pytest.mark.parametrize("name", ACCEPTED_SIGNATURES)
def test_a_signature_by_a_current_secret_inside_the_window_is_acknowledged(name, hostile_keys, open_settings):
    body = raw_fixture(INBOUND)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body, ACCEPTED_SIGNATURES[name](hostile_keys, body, int(time.time())))
        assert_acknowledged_at(exchange, expected_key(fixture(INBOUND)))
        assert harness.archive.get(exchange.written[0]) == body


@pytest.mark.parametrize("name", REFUSED_SIGNATURES)
def test_a_missing_garbled_stale_or_foreign_signature_is_401_and_writes_nothing(
    name, hostile_keys, open_settings
):
    body = raw_fixture(INBOUND)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body, REFUSED_SIGNATURES[name](hostile_keys, body, int(time.time())))
    assert_refused(exchange, 401)
    assert exchange.answer["error"] == "unauthorized"


CHANGED_BODIES: dict[str, Callable[[bytes], bytes]] = {
    "one word changed": lambda b: b.replace(b"Margaret", b"Mallory!", 1),
    "one byte flipped": lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:],
    "a newline appended": lambda b: b + b"\n",
    "a newline removed": lambda b: b.rstrip(b"\n"),
    "re-serialised compactly": lambda b: json.dumps(json.loads(b), separators=(",", ":")).encode(),
    "re-serialised with indent": lambda b: json.dumps(json.loads(b), indent=4).encode(),
    "a byte order mark in front": lambda b: b"\xef\xbb\xbf" + b,
    "cut by one byte": lambda b: b[:-2] + b"\n",
    "another caller's number": lambda b: b.replace(b"+15550100142", b"+15550100999"),
}


@pytest.mark.parametrize("name", CHANGED_BODIES)
def test_a_valid_signature_replayed_on_a_changed_body_is_401(name, hostile_keys, open_settings):
    original = raw_fixture(INBOUND)
    changed = CHANGED_BODIES[name](original)
    assert changed != original
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused(harness.post_call(changed, signed_by(original, hostile_keys.hmac)), 401)


@settings(HOSTILE_SETTINGS, max_examples=200)
@given(header=st.text(max_size=200))
def test_any_garbled_signature_header_is_401(header, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused(harness.post_call(raw_fixture(INBOUND), {HEADER: header}), 401)


@settings(HOSTILE_SETTINGS, max_examples=150)
@given(position=st.integers(0, 63), replacement=st.sampled_from("0123456789abcdefg "))
def test_a_digest_with_one_character_changed_is_401(position, replacement, hostile_keys, open_settings):
    body = raw_fixture(INBOUND)
    t = int(time.time())
    good = digest(body, hostile_keys.hmac, t)
    forged = good[:position] + replacement + good[position + 1 :]
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body, {HEADER: f"t={t},v0={forged}"})
    if forged == good:
        assert_acknowledged_at(exchange, expected_key(fixture(INBOUND)))
    else:
        assert_refused(exchange, 401)


@settings(HOSTILE_SETTINGS, max_examples=150)
@given(position=st.integers(0, 2**16), flip=st.integers(1, 255))
def test_a_signed_body_with_any_byte_changed_is_401(position, flip, hostile_keys, open_settings):
    body = raw_fixture(INBOUND)
    at = position % len(body)
    changed = body[:at] + bytes([body[at] ^ flip]) + body[at + 1 :]
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused(harness.post_call(changed, signed_by(body, hostile_keys.hmac)), 401)


@settings(HOSTILE_SETTINGS, max_examples=150)
@given(offset=st.integers(-(10**7), 10**7))
def test_a_signature_is_accepted_only_inside_the_window_both_ways(offset, hostile_keys, open_settings):
    # A margin of 5 s on either side of the window absorbs the time between signing and checking.
    if TOLERANCE_SECONDS - 5 <= abs(offset) <= TOLERANCE_SECONDS + 5:
        return
    body = raw_fixture(INBOUND)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body, signed_by(body, hostile_keys.hmac, int(time.time()) + offset))
    if abs(offset) < TOLERANCE_SECONDS:
        assert_acknowledged_at(exchange, expected_key(fixture(INBOUND)))
    else:
        assert_refused(exchange, 401)


def test_a_repeated_delivery_is_acknowledged_without_a_second_write(hostile_keys, open_settings):
    body = raw_fixture(INBOUND)
    with Harness(hostile_keys, open_settings) as harness:
        first = harness.post_call(body)
        again = harness.post_call(body, signed_by(body, hostile_keys.previous_hmac))
    assert_acknowledged_at(first, expected_key(fixture(INBOUND)))
    assert again.status == 200
    assert again.written == []


# --- base64 bodies (API Gateway encodes binary content) -------------------------------------------


def test_a_base64_encoded_event_is_verified_over_its_decoded_bytes(hostile_keys, open_settings):
    body = raw_fixture(INBOUND)
    event = api_event("POST", "/post-call", body, signed_by(body, hostile_keys.hmac))
    event.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
    with Harness(hostile_keys, open_settings) as harness:
        assert_acknowledged_at(harness.send(POST_CALL, event), expected_key(fixture(INBOUND)))


@pytest.mark.parametrize("encoded", ["not base64!", "QU=JD", "\u00e9\u00e9", "AAAA" * 3 + "A"], ids=repr)
def test_a_body_flagged_base64_that_is_not_base64_is_400(encoded, hostile_keys, open_settings):
    event = api_event("POST", "/post-call", b"{}", {HEADER: "t=1,v0=00"})
    event.update(body=encoded, isBase64Encoded=True)
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused(harness.send(POST_CALL, event), 400)
