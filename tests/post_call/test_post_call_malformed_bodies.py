"""Signed but malformed post-call bodies: truncated, not an event, mutated, or a field of the wrong type.

A signed event is never refused (issue 11): what cannot be filed by its ids is kept under
``post-call/other/``; the handler never fails, and an acknowledged transcription is one processing can
store.
"""

import pytest
from hostile_support import (
    BYTE_EDITS,
    CALLER,
    HOSTILE_SETTINGS,
    JSON_VALUES,
    POST_CALL_FIXTURES,
    Harness,
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
from post_call_support import INBOUND, OTHER, assert_kept, assert_refused

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
