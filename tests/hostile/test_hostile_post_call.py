"""Hostile input to the post-call webhooks, ``POST /post-call``: signatures, bodies and ids.

A request is acknowledged 200 only when it is signed with a current secret inside the time window and is a
valid event; then exactly one archive object is written, at the DESIGN key of that event. Everything else is
a short JSON 401 that writes nothing; a signed one is never refused (issue 11): what cannot be filed by
its ids is kept under ``post-call/other/``, ids that fit no key are encoded.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from helpers import api_event
from hostile_support import (
    BLANK_IDS,
    BYTE_EDITS,
    CALLER,
    HOSTILE_IDS,
    HOSTILE_SETTINGS,
    JSON_VALUES,
    MAX_BODY_BYTES,
    NORMALISED_PHONE_FORMS,
    POST_CALL,
    POST_CALL_FIXTURES,
    RESERVED_CALLER_IDS,
    SAFE_ID,
    TRAVERSAL_IDS,
    UNTRIMMED_ID_ONLY,
    Exchange,
    Harness,
    HostileKeys,
    assert_archive_follows_the_layout,
    edited,
    fixture,
    json_bytes,
    parses_as_json,
    raw_fixture,
    truncation_offsets,
    with_value,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from agentic_memory.errors import MemoryUnavailable
from agentic_memory.ports import ChatMessage
from agentic_memory.signature import HEADER
from devtools.fakes import InMemoryMemoryStore

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
    """Signed is never refused (issue 11): 200, one object in the DESIGN layout, under ``prefix``."""
    assert exchange.status == 200, (exchange.status, exchange.answer)
    assert exchange.answer == {"status": "ok"}
    [key] = exchange.written
    assert_archive_follows_the_layout([key])
    assert key.startswith(prefix), key
    return key


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


# --- malformed and truncated bodies (all signed) --------------------------------------------------


@pytest.mark.parametrize("name", POST_CALL_FIXTURES)
def test_every_signed_truncation_of_a_post_call_fixture_is_kept_and_acknowledged(
    name, hostile_keys, open_settings
):
    body = raw_fixture(name)
    stride = max(1, len(body) // 400)
    with Harness(hostile_keys, open_settings) as harness:
        outcomes = []
        for offset in truncation_offsets(len(body), stride=stride):
            exchange = harness.post_call(body[:offset])
            # What no longer parses is kept for the record under other/, never refused.
            expected = "post-call/" if parses_as_json(body[:offset]) else OTHER
            written = exchange.written
            outcomes.append(
                (offset, exchange.status, len(written), bool(written) and written[0].startswith(expected))
            )
    wrong = [o for o in outcomes if o[1:] != (200, 1, True)]
    assert wrong == []


@pytest.mark.parametrize("name", POST_CALL_FIXTURES)
def test_an_unsigned_truncation_is_401_whatever_it_holds(name, hostile_keys, open_settings):
    body = raw_fixture(name)
    with Harness(hostile_keys, open_settings) as harness:
        for offset in (0, 1, len(body) // 2, len(body) - 2):
            assert_refused(harness.post_call(body[:offset], {}), 401)


@pytest.mark.parametrize(
    "body",
    [b" ", b"null", b"[]", b'"text"', b"0", b"true", b"{", b"{}", b'{"type":"post_call_transcription"}'],
    ids=repr,
)
def test_a_signed_body_that_is_not_an_event_is_kept_under_other(body, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_kept(harness.post_call(body), OTHER)


@settings(HOSTILE_SETTINGS, max_examples=150)
@given(body=st.binary(min_size=1, max_size=300))
def test_signed_random_bytes_are_kept_under_other(body, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_kept(harness.post_call(body), OTHER)


@settings(HOSTILE_SETTINGS, max_examples=300)
@given(name=st.sampled_from(POST_CALL_FIXTURES), edits=BYTE_EDITS)
def test_a_signed_mutated_fixture_is_acknowledged_or_refused_but_never_fails_the_handler(
    name, edits, hostile_keys, open_settings
):
    body = edited(raw_fixture(name), edits)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body)
    assert_kept(exchange)


# --- wrong types ----------------------------------------------------------------------------------

# (fixture, path, value, expected status)
WRONG_TYPES = [
    (INBOUND, ("type",), None, 400),
    (INBOUND, ("type",), 1, 400),
    (INBOUND, ("type",), ["post_call_transcription"], 400),
    (INBOUND, ("type",), "post_call_transcription ", 400),
    (INBOUND, ("type",), "POST_CALL_TRANSCRIPTION", 400),
    (INBOUND, ("event_timestamp",), "soon", 400),
    (INBOUND, ("event_timestamp",), {}, 400),
    (INBOUND, ("event_timestamp",), [], 400),
    (INBOUND, ("event_timestamp",), None, 200),
    (INBOUND, ("event_timestamp",), "1763478362", 200),
    (INBOUND, ("data",), None, 400),
    (INBOUND, ("data",), [], 400),
    (INBOUND, ("data",), "data", 400),
    (INBOUND, ("data", "conversation_id"), None, 400),
    (INBOUND, ("data", "conversation_id"), 123, 400),
    (INBOUND, ("data", "conversation_id"), True, 400),
    (INBOUND, ("data", "conversation_id"), ["conv_x"], 400),
    (INBOUND, ("data", "conversation_id"), "", 400),
    (INBOUND, ("data", "agent_id"), None, 400),
    (INBOUND, ("data", "agent_id"), 7, 400),
    (INBOUND, ("data", "agent_id"), "", 400),
    (INBOUND, ("data", "user_id"), 42, 400),
    (INBOUND, ("data", "transcript"), "Hello", 400),
    (INBOUND, ("data", "transcript"), {}, 400),
    (INBOUND, ("data", "transcript"), [1], 400),
    (INBOUND, ("data", "transcript"), None, 200),
    (INBOUND, ("data", "transcript", 1, "role"), "system", 400),
    (INBOUND, ("data", "transcript", 1, "role"), None, 400),
    (INBOUND, ("data", "transcript", 1, "message"), 5, 400),
    (INBOUND, ("data", "transcript", 1, "message"), {"text": "hi"}, 400),
    (INBOUND, ("data", "transcript", 1, "time_in_call_secs"), "five", 400),
    (INBOUND, ("data", "transcript", 3, "tool_calls"), "search_memory", 400),
    (INBOUND, ("data", "metadata"), None, 400),
    (INBOUND, ("data", "metadata"), "metadata", 400),
    (INBOUND, ("data", "metadata", "start_time_unix_secs"), "yesterday", 400),
    (INBOUND, ("data", "metadata", "call_duration_secs"), "long", 400),
    (INBOUND, ("data", "metadata", "phone_call"), "twilio", 400),
    (INBOUND, ("data", "metadata", "phone_call"), None, 200),
    (INBOUND, ("data", "metadata", "phone_call", "external_number"), 15550100142, 400),
    (INBOUND, ("data", "metadata", "phone_call", "external_number"), ["+15550100142"], 400),
    (INBOUND, ("data", "metadata", "phone_call", "direction"), "sideways", 400),
    (INBOUND, ("data", "analysis"), "analysis", 400),
    (INBOUND, ("data", "analysis"), None, 200),
    (INBOUND, ("data", "analysis", "transcript_summary"), 3, 400),
    (INBOUND, ("data", "analysis", "data_collection_results"), [], 400),
    (INBOUND, ("data", "analysis", "data_collection_results"), None, 200),
    (INBOUND, ("data", "analysis", "data_collection_results", "first_name"), "Margaret", 400),
    (INBOUND, ("data", "analysis", "evaluation_criteria_results"), "success", 400),
    (INBOUND, ("data", "conversation_initiation_client_data"), "data", 400),
    (INBOUND, ("data", "conversation_initiation_client_data", "dynamic_variables"), [], 400),
    ("audio", ("data", "full_audio"), None, 400),
    ("audio", ("data", "full_audio"), 12345, 400),
    ("audio", ("data", "full_audio"), "", 400),
    ("audio", ("data", "agent_id"), 1, 400),
    ("audio", ("data", "conversation_id"), {}, 400),
    ("initiation_failure_twilio", ("data", "metadata"), "twilio", 400),
    ("initiation_failure_twilio", ("data", "metadata", "body"), "busy", 400),
    ("initiation_failure_twilio", ("data", "failure_reason"), 486, 400),
    ("initiation_failure_twilio", ("data", "conversation_id"), None, 400),
]


@pytest.mark.parametrize(
    ("name", "path", "value", "expected"),
    WRONG_TYPES,
    ids=[f"{n}:{'.'.join(map(str, p))}={v!r}" for n, p, v, _ in WRONG_TYPES],
)
def test_a_field_of_the_wrong_type_gets_its_status(name, path, value, expected, hostile_keys, open_settings):
    payload = with_value(fixture(name), path, value)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(json_bytes(payload))
    if expected == 200:
        assert exchange.status == 200, exchange.answer
        assert len(exchange.written) == 1
    else:
        # A shape we cannot read (once a 400) is kept for the record and answered 200.
        assert_kept(exchange, OTHER)


TRANSCRIPTION_PATHS = sorted({path for name, path, _, _ in WRONG_TYPES if name == INBOUND})


@settings(HOSTILE_SETTINGS, max_examples=300)
@given(path=st.sampled_from(TRANSCRIPTION_PATHS), value=JSON_VALUES)
def test_any_json_value_in_any_field_is_acknowledged_or_refused_but_never_fails_the_handler(
    path, value, hostile_keys, open_settings
):
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(json_bytes(with_value(fixture(INBOUND), path, value)))
    assert_kept(exchange)


@pytest.mark.parametrize("literal", [b"Infinity", b"-Infinity", b"1e999", b'"inf"', b'"-1e999"'])
def test_an_infinite_event_timestamp_is_kept_under_other(literal, hostile_keys, open_settings):
    # Found here: int(float("inf")) raised OverflowError, which pydantic does not turn into a 400 (a 500).
    body = raw_fixture(INBOUND).replace(b'"event_timestamp": 1763478362', b'"event_timestamp": ' + literal)
    assert literal in body
    with Harness(hostile_keys, open_settings) as harness:
        assert_kept(harness.post_call(body), OTHER)


@pytest.mark.parametrize(
    ("path", "literal"),
    [
        (("data", "metadata", "start_time_unix_secs"), 10**12),
        (("data", "metadata", "start_time_unix_secs"), -(10**12)),
        (("data", "metadata", "call_duration_secs"), float("inf")),
    ],
)
def test_an_acknowledged_transcription_is_one_processing_can_store(
    path, literal, hostile_keys, open_settings
):
    # Found here: such events were acknowledged, then failed processing on every attempt (dead letter).
    # Given a signed transcription with an out-of-range number in its metadata
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(json_bytes(with_value(fixture(INBOUND), path, literal)))
        # Then it is kept for the record under other/ and skipped, or stored as memories
        key = assert_kept(exchange)
        assert harness.process(key) == {"batchItemFailures": []}
        if not key.startswith(OTHER):
            assert harness.memory.list_all(CALLER)


# --- unicode, control characters and huge strings -------------------------------------------------


def precall_for(caller: str) -> bytes:
    return json_bytes({"agent_id": "agent_hostile", "caller_id": caller, "call_sid": "CA0123456789"})


@settings(HOSTILE_SETTINGS, max_examples=100)
@given(
    said=st.lists(st.text(min_size=1, max_size=120), min_size=1, max_size=4),
    summary=st.text(max_size=200),
    name=st.text(max_size=30),
)
def test_any_unicode_in_the_transcript_is_archived_processed_and_answered_later(
    said, summary, name, hostile_keys, open_settings
):
    # Given a signed transcription whose words carry NUL, controls, RTL overrides, emoji, lookalikes
    payload = fixture(INBOUND)
    turns = [{"role": "user", "message": text} for text in said]
    payload = with_value(payload, ("data", "transcript"), payload["data"]["transcript"] + turns)
    payload = with_value(payload, ("data", "analysis", "transcript_summary"), summary)
    payload = with_value(
        payload, ("data", "analysis", "data_collection_results", "first_name", "value"), name
    )
    body = json_bytes(payload)
    with Harness(hostile_keys, open_settings) as harness:
        # When it is delivered and processed
        exchange = harness.post_call(body)
        assert_acknowledged_at(exchange, expected_key(payload))
        assert harness.archive.get(exchange.written[0]) == body
        assert harness.process(exchange.written[0]) == {"batchItemFailures": []}
        # Then the next pre-call and a search of that caller are answered (the harness checks the bodies)
        precall = harness.client_data(precall_for(CALLER))
        found = harness.retrieve_post(json_bytes({"query": said[0], "user_id": CALLER}))
    assert precall.status == 200
    assert all(isinstance(v, str) for v in precall.answer["dynamic_variables"].values())
    assert found.status == 200


def test_a_5_mb_utterance_is_archived_processed_and_answered_within_the_limits(hostile_keys, open_settings):
    payload = fixture(INBOUND)
    long_turn = {"role": "user", "message": "Biscuit " * (5 * 1024 * 1024 // 8)}
    payload = with_value(payload, ("data", "transcript"), payload["data"]["transcript"] + [long_turn])
    body = json_bytes(payload)
    assert len(body) < MAX_BODY_BYTES
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body)
        assert_acknowledged_at(exchange, expected_key(payload))
        assert harness.process(exchange.written[0]) == {"batchItemFailures": []}
        precall = harness.client_data(precall_for(CALLER))
        found = harness.retrieve_get({"query": "Biscuit", "user_id": CALLER})
    assert precall.status == 200
    assert len(precall.answer["dynamic_variables"]["memory_context"]) <= 1500
    assert found.status == 200


@pytest.mark.parametrize("answer", ["pre-call", "retrieve"])
def test_a_lone_surrogate_in_a_transcript_never_makes_a_later_answer_unencodable(
    answer, hostile_keys, open_settings
):
    # An escaped lone surrogate is valid JSON but not valid Unicode: stored as it is, it would make every
    # later answer for the caller impossible to encode as UTF-8 (the local server would drop the connection).
    body = raw_fixture(INBOUND).replace(
        b"Just his yearly vaccinations.", b"Just his yearly vaccinations \\ud800."
    )
    assert b"\\ud800" in body
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body)
        if exchange.status == 200:
            harness.process(exchange.written[0])
        # The harness fails any answer whose body cannot be encoded as UTF-8.
        if answer == "pre-call":
            later = harness.client_data(precall_for(CALLER))
        else:
            later = harness.retrieve_post(json_bytes({"query": "yearly vaccinations", "user_id": CALLER}))
    assert later.status == 200


class StoreRefusingInvalidUnicode(InMemoryMemoryStore):
    """Adds messages one at a time, as Mem0 does with ``infer=False``, and refuses a text that is not valid
    Unicode as the embedded engine does (its tokenizer raises TypeError, reported as MemoryUnavailable)."""

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        ids = []
        for message in messages:
            try:
                message.content.encode("utf-8")
            except UnicodeEncodeError as error:
                raise MemoryUnavailable(f"could not add memories: {type(error).__name__}") from error
            ids += super().add(user_id, [message], metadata)
        return ids


def test_a_turn_the_memory_store_refuses_does_not_cost_the_other_turns(hostile_keys, open_settings):
    # Given a signed transcription whose second caller turn carries an escaped lone surrogate
    body = raw_fixture(INBOUND).replace(
        b"Just his yearly vaccinations.", b"Just his yearly vaccinations \\ud800."
    )
    store = StoreRefusingInvalidUnicode()
    with Harness(hostile_keys, open_settings, store) as harness:
        exchange = harness.post_call(body)
        if exchange.status == 400:
            return  # refused at the door: nothing can be half stored
        # When processing fails on that turn and the queue retries
        harness.process(exchange.written[0])
        retry = harness.process(exchange.written[0])
    # Then the retry fails again (so the event ends in the dead-letter queue) or the later turns are
    # stored (within a passage of question-and-answer exchanges, since transcripts are kept as passages)
    stored = [memory.text for memory in store.list_all(CALLER)]
    later_turn = "Caller: Thursday at ten is perfect. Thank you, dear."
    assert retry["batchItemFailures"] or any(later_turn in text for text in stored)


def test_a_huge_user_id_in_a_transcription_is_hashed_into_a_short_key(hostile_keys, open_settings):
    # Found here: the detail echoed a starred copy of the whole id, as large as the request.
    # Given a signed transcription of exactly the size limit, nearly all of it a user_id of letters
    minimal = {
        "type": "post_call_transcription",
        "data": {"agent_id": "a", "conversation_id": "c", "user_id": ""},
    }
    compact = {"separators": (",", ":")}
    filler = MAX_BODY_BYTES - len(json.dumps(minimal, **compact))
    body = json.dumps(with_value(minimal, ("data", "user_id"), "u" * filler), **compact).encode()
    assert len(body) == MAX_BODY_BYTES
    with Harness(hostile_keys, open_settings) as harness:
        key = assert_kept(harness.post_call(body), "post-call/sha_")
    assert len(key) < 100


def test_a_huge_conversation_id_is_kept_under_other_with_a_short_key(hostile_keys, open_settings):
    payload = with_value(fixture(INBOUND), ("data", "conversation_id"), "c" * (5 * 1024 * 1024))
    with Harness(hostile_keys, open_settings) as harness:
        key = assert_kept(harness.post_call(json_bytes(payload)), OTHER)
    assert len(key) < 200


# --- ids that reach a key -------------------------------------------------------------------------

NO_PHONE_CALL = (("data", "metadata", "phone_call"), None)
ID_FIELDS = {
    # name: (fixture, path to the id, other changes, extra hostile ids)
    "transcription conversation_id": (
        INBOUND,
        ("data", "conversation_id"),
        [],
        UNTRIMMED_ID_ONLY + BLANK_IDS,
    ),
    "transcription external_number": (
        INBOUND,
        ("data", "metadata", "phone_call", "external_number"),
        [],
        RESERVED_CALLER_IDS,
    ),
    "transcription user_id": ("transcription_web", ("data", "user_id"), [], RESERVED_CALLER_IDS),
    "transcription system__caller_id": (
        INBOUND,
        ("data", "conversation_initiation_client_data", "dynamic_variables", "system__caller_id"),
        [NO_PHONE_CALL],
        RESERVED_CALLER_IDS,
    ),
    "audio agent_id": ("audio", ("data", "agent_id"), [], UNTRIMMED_ID_ONLY + BLANK_IDS),
    "audio conversation_id": ("audio", ("data", "conversation_id"), [], UNTRIMMED_ID_ONLY + BLANK_IDS),
    "failure agent_id": ("initiation_failure_sip", ("data", "agent_id"), [], UNTRIMMED_ID_ONLY + BLANK_IDS),
    "failure conversation_id": (
        "initiation_failure_twilio",
        ("data", "conversation_id"),
        [],
        UNTRIMMED_ID_ONLY + BLANK_IDS,
    ),
}


def event_with_id(field: str, value: str) -> dict[str, Any]:
    name, path, changes, _ = ID_FIELDS[field]
    payload = fixture(name)
    for other_path, other_value in changes:
        payload = with_value(payload, other_path, other_value)
    return with_value(payload, path, value)


@pytest.mark.parametrize("field", ID_FIELDS)
def test_a_traversal_or_separator_in_an_id_that_reaches_a_key_is_encoded_into_the_layout(
    field, hostile_keys, open_settings
):
    with Harness(hostile_keys, open_settings) as harness:
        outcomes = [
            (hostile, harness.post_call(json_bytes(event_with_id(field, hostile))))
            for hostile in TRAVERSAL_IDS + ID_FIELDS[field][3]
        ]
        # Ids that fit no key file the event under other/ by its conversation: later ones are duplicates.
        wrong = [(hostile, e.status) for hostile, e in outcomes if e.status != 200 or len(e.written) > 1]
        assert wrong == []
        assert_archive_follows_the_layout(harness.archive.objects)


@pytest.mark.parametrize("field", ID_FIELDS)
@settings(HOSTILE_SETTINGS, max_examples=80)
@given(hostile=HOSTILE_IDS)
def test_any_id_that_reaches_a_key_becomes_that_key_verbatim_or_an_encoded_one(
    field, hostile, hostile_keys, open_settings
):
    payload = event_with_id(field, hostile)
    with Harness(hostile_keys, open_settings) as harness:
        key = assert_kept(harness.post_call(json_bytes(payload)))
    if "caller" in field or "external_number" in field or "user_id" in field:
        assert key.startswith("post-call/") and key.endswith(f"/{payload['data']['conversation_id']}.json")
    elif SAFE_ID.fullmatch(hostile):
        # Conversation and agent ids that are safe are used exactly as sent.
        assert f"/{hostile}/" in key or key.endswith(f"/{hostile}.json")
    else:
        # Others are kept for the record under other/, their ids encoded.
        assert key.startswith(OTHER), key


@pytest.mark.parametrize("name", ("transcription_twilio_inbound", "audio", "initiation_failure_twilio"))
@pytest.mark.parametrize("hostile", TRAVERSAL_IDS[:12], ids=repr)
def test_an_agent_id_outside_the_key_of_a_transcription_is_harmless_but_inside_it_is_refused(
    name, hostile, hostile_keys, open_settings
):
    payload = with_value(fixture(name), ("data", "agent_id"), hostile)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(json_bytes(payload))
    if name == INBOUND:
        assert_acknowledged_at(exchange, expected_key(payload))
    else:
        assert_kept(exchange, OTHER)


@pytest.mark.parametrize("caller", ["Audio-Only", "INITIATION-FAILURE", "Oversized-Audio"])
def test_a_caller_id_naming_a_layout_folder_in_another_case_is_encoded(caller, hostile_keys, open_settings):
    payload = with_value(fixture("transcription_web"), ("data", "user_id"), caller)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(json_bytes(payload))
    assert_acknowledged_at(exchange, f"post-call/enc_{caller}/{payload['data']['conversation_id']}.json")


@pytest.mark.parametrize("form", NORMALISED_PHONE_FORMS, ids=repr)
def test_separators_around_the_external_number_are_normalised_away_before_the_key(
    form, hostile_keys, open_settings
):
    payload = with_value(fixture(INBOUND), ("data", "metadata", "phone_call", "external_number"), form)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(json_bytes(payload))
    assert_acknowledged_at(exchange, f"post-call/{CALLER}/{payload['data']['conversation_id']}.json")


@pytest.mark.parametrize("blank", BLANK_IDS, ids=repr)
def test_a_blank_external_number_falls_back_to_the_system_caller_id(blank, hostile_keys, open_settings):
    payload = with_value(fixture(INBOUND), ("data", "metadata", "phone_call", "external_number"), blank)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(json_bytes(payload))
    assert_acknowledged_at(exchange, f"post-call/{CALLER}/{payload['data']['conversation_id']}.json")


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
