"""Ids of a post-call event that reach an archive key: a traversal, separator or reserved folder name is
encoded into the archive layout or the event is kept under ``post-call/other/``; separators around the
external number are normalised away and a blank one falls back to the system caller id.
"""

from typing import Any

import pytest
from hostile_support import (
    BLANK_IDS,
    CALLER,
    HOSTILE_IDS,
    HOSTILE_SETTINGS,
    NORMALISED_PHONE_FORMS,
    RESERVED_CALLER_IDS,
    SAFE_ID,
    TRAVERSAL_IDS,
    UNTRIMMED_ID_ONLY,
    Harness,
    assert_archive_follows_the_layout,
    fixture,
    json_bytes,
    with_value,
)
from hypothesis import given, settings
from post_call_support import INBOUND, OTHER, assert_acknowledged_at, assert_kept, expected_key

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
