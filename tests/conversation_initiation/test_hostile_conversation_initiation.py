"""Hostile input to the pre-call webhook, ``POST /client-data``, through the real handler.

Every request here either gets 200 (only when the input is a valid initiation request) and writes exactly
the two archive objects of the caller's folder, or gets a short JSON 400/401 and writes nothing. A call
must start whatever ids it carries (issue 11): ids that fit no key are encoded into one safe segment, and
a request that names nobody is answered neutral and writes nothing.
"""

import pytest
from hostile_support import (
    AGENT_NUMBER,
    BLANK_IDS,
    BYTE_EDITS,
    CALLER,
    HOSTILE_IDS,
    HOSTILE_SETTINGS,
    INITIATION_FIXTURES,
    JSON_VALUES,
    MAX_BODY_BYTES,
    NORMALISED_PHONE_FORMS,
    PERSON_CALLED,
    RESERVED_CALLER_IDS,
    TRAVERSAL_IDS,
    UNTRIMMED_ID_ONLY,
    Exchange,
    Harness,
    assert_archive_follows_the_layout,
    body_of_exactly,
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

from agentic_memory.archive_keys import id_segment

INBOUND = "precall_twilio_inbound"
OUTBOUND = "precall_twilio_outbound"  # caller_id is the agent's number: the person is called_number
INITIATION_FIELDS = (
    "agent_id",
    "caller_id",
    "called_number",
    "call_sid",
    "conversation_id",
    "call_id",
    "sip_headers",
)


def assert_archived_in_the_callers_folder(exchange: Exchange, call_sid: str | None) -> None:
    """Exactly received.json and response.json, in the folder of the caller the answer names."""
    caller = exchange.answer["dynamic_variables"]["caller_id"]
    folder_end = f"_{id_segment(call_sid) if call_sid else 'no-call-sid'}/"
    assert sorted(key.rsplit("/", 1)[1] for key in exchange.written) == ["received.json", "response.json"]
    for key in exchange.written:
        assert key.startswith(f"client-data/{caller}/"), key
        assert folder_end in key, key


def assert_refused(exchange: Exchange, status: int) -> None:
    assert exchange.status == status, (exchange.status, exchange.answer)
    assert exchange.written == []


# --- malformed and truncated JSON -----------------------------------------------------------------


@pytest.mark.parametrize("name", INITIATION_FIXTURES)
def test_every_truncation_of_an_initiation_fixture_is_a_json_400_that_writes_nothing(
    name, hostile_keys, open_settings
):
    # Given a recorded initiation request, cut short at every offset
    body = raw_fixture(name)
    with Harness(hostile_keys, open_settings) as harness:
        outcomes = []
        for offset in truncation_offsets(len(body)):
            # When it arrives with the right workspace key
            exchange = harness.conversation_initiation(body[:offset])
            expected = 200 if parses_as_json(body[:offset]) else 400
            outcomes.append((offset, exchange.status, expected, exchange.written))
    # Then only the bodies that are still the whole document are answered, and nothing else is written
    wrong = [o for o in outcomes if o[1] != o[2] or (o[2] == 400 and o[3])]
    assert wrong == []


@pytest.mark.parametrize(
    "body",
    [b"", b" ", b"\n", b"null", b"[]", b"[{}]", b'"text"', b"0", b"true", b"{", b"}", b"{}", b'{"agent_id":'],
    ids=repr,
)
def test_a_body_that_is_not_an_initiation_object_is_400(body, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused(harness.conversation_initiation(body), 400)


@settings(HOSTILE_SETTINGS, max_examples=150)
@given(body=st.binary(max_size=300))
def test_random_bytes_are_a_json_400(body, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused(harness.conversation_initiation(body), 400)


@settings(HOSTILE_SETTINGS, max_examples=300)
@given(name=st.sampled_from(INITIATION_FIXTURES), edits=BYTE_EDITS)
def test_a_mutated_fixture_is_answered_or_refused_but_never_fails_the_handler(
    name, edits, hostile_keys, open_settings
):
    # Given a recorded request with a few bytes removed and JSON punctuation or junk inserted
    body = edited(raw_fixture(name), edits)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(body)
    # Then it is a valid request (200, archived in its caller's folder) or a 400 that wrote nothing
    assert exchange.status in (200, 400)
    if exchange.status == 400:
        assert exchange.written == []


# --- wrong types ----------------------------------------------------------------------------------

WRONG_SCALARS = (42, 4.2, True, [], {}, ["+15550100142"], {"number": "+15550100142"})
WRONG_HEADER_MAPS = (42, "X-Call-ID: 1", [], ["X-Call-ID"], {"X-Call-ID": 42}, {"X-Call-ID": None})


@pytest.mark.parametrize("field", INITIATION_FIELDS)
def test_a_field_of_the_wrong_type_is_400(field, hostile_keys, open_settings):
    wrong_values = WRONG_HEADER_MAPS if field == "sip_headers" else WRONG_SCALARS
    with Harness(hostile_keys, open_settings) as harness:
        outcomes = [
            (
                value,
                harness.conversation_initiation(
                    json_bytes(with_value(fixture("precall_sip_inbound"), (field,), value))
                ),
            )
            for value in wrong_values
        ]
    wrong = [(value, e.status, e.written) for value, e in outcomes if e.status != 400 or e.written]
    assert wrong == []


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("agent_id", 400),
        ("caller_id", 200),
        ("called_number", 200),
        ("call_sid", 200),
        ("conversation_id", 200),
        ("call_id", 200),
        ("sip_headers", 200),
    ],
)
def test_a_null_or_missing_field_is_400_only_when_the_answer_needs_it(
    field, expected, hostile_keys, open_settings
):
    request = fixture("precall_sip_inbound")
    missing = {k: v for k, v in request.items() if k != field}
    for body in (json_bytes(with_value(request, (field,), None)), json_bytes(missing)):
        with Harness(hostile_keys, open_settings) as harness:
            exchange = harness.conversation_initiation(body)
        assert exchange.status == expected, (field, exchange.answer)
        if field == "caller_id":
            # Nobody named: the neutral answer, nothing read or archived under anybody.
            assert exchange.answer["dynamic_variables"]["returning_caller"] == "no"
            assert exchange.written == []
        elif expected == 200:
            assert_archived_in_the_callers_folder(
                exchange, None if field == "call_sid" else request["call_sid"]
            )
        else:
            assert exchange.written == []


@settings(HOSTILE_SETTINGS, max_examples=300)
@given(field=st.sampled_from(INITIATION_FIELDS), value=JSON_VALUES)
def test_any_json_value_in_any_field_is_answered_or_refused_but_never_fails_the_handler(
    field, value, hostile_keys, open_settings
):
    body = json_bytes(with_value(fixture("precall_sip_inbound"), (field,), value))
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(body)
    assert exchange.status in (200, 400)
    if exchange.status == 400:
        assert exchange.written == []


# --- unicode, control characters and huge strings in fields that never reach a key ----------------


@settings(HOSTILE_SETTINGS, max_examples=200)
@given(
    field=st.sampled_from(("agent_id", "conversation_id", "call_id")),
    text=st.text(min_size=1, max_size=200),
    header_value=st.text(max_size=60),
)
def test_any_unicode_in_fields_that_never_reach_a_key_is_accepted_and_kept_out_of_the_key(
    field, text, header_value, hostile_keys, open_settings
):
    # Given a valid request whose free-text fields carry NUL, controls, RTL overrides, emoji, lookalikes
    request = with_value(fixture("precall_sip_inbound"), (field,), text)
    request["sip_headers"]["X-Contact-ID"] = header_value
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(json_bytes(request))
    # Then it is answered, and the archive keys are the caller's folder only
    assert exchange.status == 200, exchange.answer
    assert_archived_in_the_callers_folder(exchange, request["call_sid"])
    assert exchange.answer["dynamic_variables"]["caller_id"] == request["caller_id"]


@pytest.mark.parametrize("field", ("agent_id", "conversation_id", "call_sid", "caller_id"))
def test_escaped_lone_surrogates_are_refused_or_kept_out_of_every_key(field, hostile_keys, open_settings):
    # Given JSON that is valid but whose string is not valid Unicode ("\ud800" escapes)
    body = json_bytes(fixture(INBOUND)).replace(
        f'"{field}": "'.encode(), f'"{field}": "\\ud800\\udfff\\ud800'.encode(), 1
    )
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(body)
    # Then the handler refuses it, or answers it without the broken text reaching a key: a call_sid
    # is encoded, a caller_id that is no number names nobody; either way the call starts
    assert exchange.status in (200, 400)
    assert all(key.isascii() for key in exchange.written)
    assert_archive_follows_the_layout(exchange.written)
    if field in ("call_sid", "caller_id"):
        assert exchange.status == 200, exchange.answer
    if field == "call_sid":
        assert exchange.written


def test_a_huge_agent_id_within_the_limit_is_accepted_and_stays_out_of_the_key(hostile_keys, open_settings):
    request = with_value(fixture(INBOUND), ("agent_id",), "agent_" + "x" * (5 * 1024 * 1024))
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(json_bytes(request))
    assert exchange.status == 200
    assert_archived_in_the_callers_folder(exchange, request["call_sid"])


def test_a_huge_caller_id_is_hashed_into_a_short_key(hostile_keys, open_settings):
    # Found here: the detail echoed a starred copy of the whole id, a 400 over Lambda's 6 MB response limit.
    # Given a request of exactly the size limit whose caller_id is 6 MB of letters
    body = body_of_exactly(MAX_BODY_BYTES, {"agent_id": "agent_x", "caller_id": "x" * (MAX_BODY_BYTES - 50)})
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(body)
    # Then the call starts with neutral variables: text on the line that is no number is nobody
    assert exchange.status == 200
    assert exchange.answer["dynamic_variables"]["caller_id"] == ""
    assert exchange.answer["dynamic_variables"]["returning_caller"] == "no"
    assert exchange.written == []


# --- ids that reach a key: caller_id, called_number (outbound), call_sid --------------------------


@pytest.mark.parametrize(
    ("name", "field", "extra_ids"),
    [
        (INBOUND, "caller_id", RESERVED_CALLER_IDS + BLANK_IDS),
        (OUTBOUND, "called_number", RESERVED_CALLER_IDS),
        (INBOUND, "call_sid", UNTRIMMED_ID_ONLY + BLANK_IDS),
    ],
)
def test_a_traversal_or_separator_in_an_id_that_reaches_a_key_is_encoded_into_the_layout(
    name, field, extra_ids, hostile_keys, open_settings
):
    # Given a valid request with one id replaced by a traversal, a separator, a control or a lookalike
    with Harness(hostile_keys, open_settings) as harness:
        outcomes = [
            (
                hostile,
                harness.conversation_initiation(json_bytes(with_value(fixture(name), (field,), hostile))),
            )
            for hostile in TRAVERSAL_IDS + extra_ids
        ]
        # Then every call starts, and what it archives stays inside the layout
        wrong = [(hostile, e.status) for hostile, e in outcomes if e.status != 200]
        assert wrong == []
        assert_archive_follows_the_layout(harness.archive.objects)


@pytest.mark.parametrize("field", ("agent_id", "conversation_id", "call_id"))
def test_a_traversal_in_an_id_that_never_reaches_a_key_stays_out_of_the_key(
    field, hostile_keys, open_settings
):
    for hostile in TRAVERSAL_IDS:
        request = with_value(fixture("precall_sip_inbound"), (field,), hostile)
        with Harness(hostile_keys, open_settings) as harness:
            exchange = harness.conversation_initiation(json_bytes(request))
        assert exchange.status == 200, (hostile, exchange.answer)
        assert_archived_in_the_callers_folder(exchange, request["call_sid"])


@settings(HOSTILE_SETTINGS, max_examples=300)
@given(field=st.sampled_from(("caller_id", "call_sid")), hostile=HOSTILE_IDS)
def test_any_caller_id_or_call_sid_becomes_a_safe_key(field, hostile, hostile_keys, open_settings):
    request = with_value(fixture(INBOUND), (field,), hostile)
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(json_bytes(request))
    assert exchange.status == 200, exchange.answer
    assert_archive_follows_the_layout(exchange.written)
    if not exchange.answer["dynamic_variables"]["caller_id"]:
        assert exchange.written == []  # nobody named (blank or withheld)
    elif field == "call_sid":
        # The call sid is used as sent when safe, encoded otherwise, left out when empty.
        assert_archived_in_the_callers_folder(exchange, hostile)
    else:
        assert_archived_in_the_callers_folder(exchange, request["call_sid"])


@settings(HOSTILE_SETTINGS, max_examples=100)
@given(hostile=HOSTILE_IDS)
def test_any_called_number_of_an_outbound_call_becomes_a_safe_key(hostile, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(
            json_bytes(with_value(fixture(OUTBOUND), ("called_number",), hostile))
        )
    assert exchange.status == 200, exchange.answer
    assert_archive_follows_the_layout(exchange.written)
    if exchange.answer["dynamic_variables"]["caller_id"]:
        assert_archived_in_the_callers_folder(exchange, fixture(OUTBOUND)["call_sid"])


@pytest.mark.parametrize("form", NORMALISED_PHONE_FORMS, ids=repr)
def test_separators_around_a_phone_number_are_normalised_away_before_the_key(
    form, hostile_keys, open_settings
):
    # Given a caller id that is the caller's number wrapped in separators E.164 normalisation removes
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(
            json_bytes(with_value(fixture(INBOUND), ("caller_id",), form))
        )
    # Then the key holds the clean number, never the separators
    assert exchange.status == 200
    assert exchange.answer["dynamic_variables"]["caller_id"] == CALLER
    assert_archived_in_the_callers_folder(exchange, fixture(INBOUND)["call_sid"])


def test_an_outbound_call_is_archived_under_the_person_called_not_the_agent(hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(raw_fixture(OUTBOUND))
    assert exchange.status == 200
    assert exchange.answer["dynamic_variables"]["caller_id"] == PERSON_CALLED
    assert not any(AGENT_NUMBER in key for key in exchange.written)


# --- the workspace key ----------------------------------------------------------------------------


def wrong_workspace_keys(keys) -> dict[str, dict[str, str]]:
    right = keys.workspace
    return {
        "missing": {},
        "empty": {"X-Workspace-Key": ""},
        "whitespace only": {"X-Workspace-Key": " \t "},
        "prefix": {"X-Workspace-Key": right[:-1]},
        "suffix": {"X-Workspace-Key": right[1:]},
        "the first half": {"X-Workspace-Key": right[: len(right) // 2]},
        "extended": {"X-Workspace-Key": right + "0"},
        "prepended": {"X-Workspace-Key": "0" + right},
        "upper case": {"X-Workspace-Key": right.upper()},
        "space inside": {"X-Workspace-Key": right[:8] + " " + right[8:]},
        "zero width space after": {"X-Workspace-Key": right + "\u200b"},
        "NUL after": {"X-Workspace-Key": right + "\x00"},
        "sent twice (joined by a comma)": {"X-Workspace-Key": f"{right},{right}"},
        "both rotation keys at once": {"X-Workspace-Key": f"{right},{keys.next_workspace}"},
        "as a bearer token": {"X-Workspace-Key": f"Bearer {right}"},
        "in the Authorization header": {"Authorization": right},
        "the HMAC secret": {"X-Workspace-Key": keys.hmac},
        "the tool key": {"X-Workspace-Key": keys.tool},
        "a stranger's key": {"X-Workspace-Key": "wsk_hostile_" + "0" * 32},
        "non-ASCII": {"X-Workspace-Key": "wsk_\u00e9\U0001f600"},
    }


def test_every_wrong_workspace_key_is_401_and_writes_nothing(hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        outcomes = {
            name: harness.conversation_initiation(raw_fixture(INBOUND), headers)
            for name, headers in wrong_workspace_keys(hostile_keys).items()
        }
    wrong = {name: e.status for name, e in outcomes.items() if e.status != 401 or e.written}
    assert wrong == {}
    assert all(e.answer["error"] == "unauthorized" for e in outcomes.values())


@pytest.mark.parametrize(
    "variant",
    ["current", "next (rotation)", "leading space", "trailing space", "tabs around"],
)
def test_both_rotation_keys_are_accepted_with_optional_http_whitespace(variant, hostile_keys, open_settings):
    # HTTP trims optional whitespace (SP, HTAB) around a field value, so these are the right key.
    presented = {
        "current": hostile_keys.workspace,
        "next (rotation)": hostile_keys.next_workspace,
        "leading space": " " + hostile_keys.workspace,
        "trailing space": hostile_keys.workspace + " ",
        "tabs around": "\t" + hostile_keys.workspace + "\t",
    }[variant]
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.conversation_initiation(raw_fixture(INBOUND), {"X-Workspace-Key": presented})
    assert exchange.status == 200
    assert_archived_in_the_callers_folder(exchange, fixture(INBOUND)["call_sid"])


@pytest.mark.parametrize("body", [b"{", b"", json_bytes({"agent_id": "a", "caller_id": "../../x"})], ids=repr)
def test_without_the_workspace_key_even_a_malformed_request_is_401(body, hostile_keys, open_settings):
    with Harness(hostile_keys, open_settings) as harness:
        assert_refused(harness.conversation_initiation(body, {}), 401)
