"""Every channel through the real handlers (issue 18, item 1): a WhatsApp or SMS conversation is
remembered under its person, and their next conversation, on WhatsApp or on the phone, greets them
as returning. The numbers are made up (see ``test_channel_identity``).
"""

import json
from typing import Any

import pytest
from helpers import response_json
from test_every_caller import deliver_and_process, initiate_conversation, search

from agentic_memory import archive_keys
from devtools.fixtures import load_fixture
from local_runtime.operations import caller_event_keys, replay

ROSA = "+15550100188"
LUPE = "+525500000142"
BSUID = "US.13491208655302741918"
AGENT_NUMBER = "+15550100001"


def sms_conversation(conversation_id: str, **sms: Any) -> dict[str, Any]:
    """The Twilio transcription moved to SMS: no phone_call, no system caller variables, the person
    only in the ``sms`` block."""
    event = load_fixture("transcription_twilio_inbound")
    data = event["data"]
    data["conversation_id"] = conversation_id
    data["metadata"].pop("phone_call", None)
    data["metadata"] |= {"conversation_initiation_source": "twilio_sms", "sms": sms}
    data["conversation_initiation_client_data"]["dynamic_variables"] = {}
    return event


def whatsapp_conversation(conversation_id: str, whatsapp_user_id: str) -> dict[str, Any]:
    """The WhatsApp transcription fixture (the person only in ``metadata.whatsapp``) as another one."""
    event = load_fixture("transcription_whatsapp")
    event["data"]["conversation_id"] = conversation_id
    event["data"]["metadata"]["whatsapp"]["whatsapp_user_id"] = whatsapp_user_id
    return event


def whatsapp_precall(keys: dict[str, str], caller_id: str) -> dict[str, Any]:
    request = load_fixture("precall_whatsapp") | {"caller_id": caller_id}
    return response_json(initiate_conversation(keys, request))


def test_a_whatsapp_conversation_is_remembered_and_the_next_whatsapp_precall_greets_the_caller_back(
    deps, keys
):
    # Given a WhatsApp conversation that names the person only in metadata.whatsapp
    deliver_and_process(deps, keys, whatsapp_conversation("conv_whatsapp_rosa_1", "15550100188"))

    # Then it is archived and remembered under their number, not as unattributed
    assert list(deps.archive.keys("post-call/")) == [f"post-call/{ROSA}/conv_whatsapp_rosa_1.json"]
    assert deps.memory.list_all(ROSA)

    # When they write again on WhatsApp (the recorded pre-call: caller_id is the WhatsApp user id)
    answer = whatsapp_precall(keys, load_fixture("precall_whatsapp")["caller_id"])

    # Then they are greeted as returning, by name, under the same key
    assert answer["dynamic_variables"]["returning_caller"] == "yes"
    assert answer["dynamic_variables"]["caller_name"] == "Margaret"
    assert answer["user_id"] == ROSA


def test_a_mexican_whatsapp_conversation_is_known_when_the_caller_phones(deps, keys):
    # Given a WhatsApp conversation from a Mexican mobile, whose id keeps the old "1" (521…)
    deliver_and_process(deps, keys, whatsapp_conversation("conv_whatsapp_lupe_1", "5215500000142"))

    # When they phone from today's number, +52 and ten digits
    request = load_fixture("precall_twilio_inbound") | {"caller_id": "+52 55 0000 0142"}
    answer = response_json(initiate_conversation(keys, request))

    # Then they are one caller
    assert deps.memory.list_all(LUPE)
    assert answer["dynamic_variables"]["returning_caller"] == "yes"
    assert answer["user_id"] == LUPE


def test_a_mexican_phone_call_is_known_when_the_caller_writes_on_whatsapp(deps, keys):
    # Given a phone call from +52 and ten digits
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["metadata"]["phone_call"]["external_number"] = LUPE
    deliver_and_process(deps, keys, event)

    # When they write on WhatsApp from an id with the old "1"
    answer = whatsapp_precall(keys, "5215500000142")

    # Then they are one caller
    assert answer["dynamic_variables"]["returning_caller"] == "yes"
    assert answer["user_id"] == LUPE


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_an_sms_conversation_is_remembered_under_the_person_and_known_at_the_next_sms(deps, keys, direction):
    # Given an SMS conversation naming the person and the agent in their own fields
    sms = {"direction": direction, "sms_user_phone_number": ROSA, "agent_phone_number": AGENT_NUMBER}
    deliver_and_process(deps, keys, sms_conversation("conv_sms_rosa_1", **sms))

    # Then it is the person's, never the agent's
    assert list(deps.archive.keys("post-call/")) == [f"post-call/{ROSA}/conv_sms_rosa_1.json"]
    assert deps.memory.list_all(ROSA)
    assert deps.memory.list_all(AGENT_NUMBER) == []

    # And the next SMS pre-call (empty call_sid) greets them as returning
    request = load_fixture("precall_twilio_inbound") | {"caller_id": ROSA, "call_sid": ""}
    answer = response_json(initiate_conversation(keys, request))
    assert answer["dynamic_variables"]["returning_caller"] == "yes"


def test_a_whatsapp_username_user_is_remembered_under_their_business_scoped_id(deps, keys):
    # Given a person who hides their number behind a WhatsApp username
    deliver_and_process(deps, keys, whatsapp_conversation("conv_whatsapp_bsuid_1", BSUID))

    # Then their business-scoped id is their key: archived, remembered, searchable by the tool
    assert list(deps.archive.keys("post-call/")) == [f"post-call/{BSUID}/conv_whatsapp_bsuid_1.json"]
    assert deps.memory.list_all(BSUID)
    assert response_json(search(BSUID))["memories"]

    # And their next WhatsApp conversation greets them back
    answer = whatsapp_precall(keys, BSUID)
    assert answer["dynamic_variables"]["returning_caller"] == "yes"
    assert answer["user_id"] == BSUID


@pytest.mark.parametrize("placeholder", ["Anonymous", "0000000000"])
def test_a_whatsapp_placeholder_is_still_nobody(deps, keys, placeholder):
    # Given a WhatsApp conversation whose user id is a placeholder
    deliver_and_process(deps, keys, whatsapp_conversation("conv_whatsapp_nobody", placeholder))

    # Then it is kept unattributed and remembered by no one
    assert list(deps.archive.keys("post-call/")) == ["post-call/unattributed/conv_whatsapp_nobody.json"]
    assert deps.memory.list_all(placeholder) == []

    # And a WhatsApp pre-call with it is answered neutral, archiving nothing
    answer = whatsapp_precall(keys, placeholder)
    assert answer["dynamic_variables"]["returning_caller"] == "no"
    assert "user_id" not in answer
    assert list(deps.archive.keys("client-data/")) == []


def test_replay_finds_and_attributes_a_whatsapp_conversation_archived_unattributed_before(deps, keys):
    # Given a WhatsApp conversation archived unattributed by a version that did not read metadata.whatsapp
    body = json.dumps(whatsapp_conversation("conv_whatsapp_rosa_old", "15550100188")).encode()
    unattributed = archive_keys.unattributed_transcription_key("conv_whatsapp_rosa_old")
    deps.archive.put(unattributed, body, "application/json")

    # When the operator looks for the person's events and replays them
    found = caller_event_keys(deps.archive, ROSA, deps.settings)
    report = replay(found, deps.settings, deps.archive, deps.memory)

    # Then the same resolution found it theirs, moved it to their key byte for byte and remembered it
    assert found == [unattributed]
    assert report.failed == {}
    assert list(deps.archive.keys("post-call/")) == [f"post-call/{ROSA}/conv_whatsapp_rosa_old.json"]
    assert deps.archive.get(f"post-call/{ROSA}/conv_whatsapp_rosa_old.json") == body
    assert deps.memory.list_all(ROSA)
