"""The pre-call entry point, driven with API Gateway events and in-memory ports."""

import json
import time

import pytest
from helpers import (
    PROMISED_DYNAMIC_VARIABLES,
    api_event,
    lambda_context,
    response_json,
    signed_headers,
    sqs_event,
)

from agentic_memory.errors import ArchiveUnavailable, MemoryUnavailable
from devtools.fixtures import fixture_bytes, load_fixture
from services.conversation_initiation.handler import lambda_handler as conversation_initiation
from services.post_call.handler import lambda_handler as post_call
from services.post_call.processor import lambda_handler as process


def initiate_conversation(deps, keys, fixture="precall_twilio_inbound", key=None, body=None):
    body = body if body is not None else fixture_bytes(fixture)
    headers = {"Content-Type": "application/json"}
    if key is not False:
        headers["X-Workspace-Key"] = key or keys["workspace"]
    return conversation_initiation(
        api_event("POST", "/client-data", body, headers), lambda_context("client-data")
    )


def remember_call(deps, keys, fixture="transcription_twilio_inbound"):
    body = fixture_bytes(fixture)
    assert (
        post_call(
            api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"])), lambda_context()
        )["statusCode"]
        == 200
    )
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}


def test_a_new_caller_gets_the_welcome_and_every_variable(deps, keys):
    # Given no memories
    # When the pre-call webhook arrives
    response = initiate_conversation(deps, keys)
    # Then every dynamic variable is a string and the welcome greeting is used
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["type"] == "conversation_initiation_client_data"
    variables = body["dynamic_variables"]
    assert set(variables) >= PROMISED_DYNAMIC_VARIABLES
    assert all(isinstance(v, str) for v in variables.values())
    assert variables["returning_caller"] == "no"
    assert variables["memory_count"] == "0"
    assert variables["caller_id"] == load_fixture("precall_twilio_inbound")["caller_id"]
    assert body["conversation_config_override"]["agent"]["first_message"] == deps.settings.welcome_message


def test_a_returning_caller_is_greeted_by_name(deps, keys):
    # Given a processed call from the same number in which the caller gave her name
    remember_call(deps, keys)
    # When she calls again
    variables = response_json(initiate_conversation(deps, keys))["dynamic_variables"]
    first_message = response_json(initiate_conversation(deps, keys))["conversation_config_override"]["agent"][
        "first_message"
    ]
    # Then she is known, by name, with one previous conversation
    assert variables["returning_caller"] == "yes"
    assert variables["caller_name"] == "Margaret"
    assert variables["memory_count"] == "1"
    assert "Margaret" in first_message
    assert "Biscuit" in variables["memory_context"]


def test_the_exchange_is_archived_under_the_design_keys(deps, keys):
    initiate_conversation(deps, keys)
    caller = load_fixture("precall_twilio_inbound")["caller_id"]
    archived = list(deps.archive.keys(f"client-data/{caller}/"))
    assert [k.rsplit("/", 1)[1] for k in archived] == ["received.json", "response.json"]
    assert deps.archive.get(archived[0]) == fixture_bytes("precall_twilio_inbound")
    assert json.loads(deps.archive.get(archived[1]))["type"] == "conversation_initiation_client_data"


def test_an_outbound_call_is_answered_for_the_person_called(deps, keys):
    request = load_fixture("precall_twilio_outbound")
    variables = response_json(initiate_conversation(deps, keys, "precall_twilio_outbound"))[
        "dynamic_variables"
    ]
    assert variables["caller_id"] == request["called_number"]


def test_wrong_or_missing_workspace_key_is_401(deps, keys):
    for key in ("wsk_wrong", False):
        response = initiate_conversation(deps, keys, key=key)
        assert response["statusCode"] == 401
        assert response_json(response)["error"] == "unauthorized"
    assert list(deps.archive.keys("")) == []


def test_malformed_json_is_400_with_a_json_error(deps, keys):
    for body in (b"{not json", b"", b"[]"):
        response = initiate_conversation(deps, keys, body=body)
        assert response["statusCode"] == 400, body
        assert set(response_json(response)) == {"error", "detail"}


def test_an_unsafe_call_sid_is_encoded_into_one_segment_of_the_archive(deps, keys):
    request = load_fixture("precall_twilio_inbound") | {"call_sid": "../../etc/passwd"}
    response = initiate_conversation(deps, keys, body=json.dumps(request).encode())
    assert response["statusCode"] == 200
    keys_written = list(deps.archive.keys(""))
    assert keys_written and all(
        key.endswith("_enc__2E_2E_2F_2E_2E_2Fetc_2Fpasswd/received.json")
        or key.endswith("_enc__2E_2E_2F_2E_2E_2Fetc_2Fpasswd/response.json")
        for key in keys_written
    )


def test_with_mem0_down_a_known_caller_is_still_greeted_by_name_with_the_last_call(deps, keys):
    # Given Margaret's processed call, and then Mem0 failing on every request
    remember_call(deps, keys)
    deps.memory.fail_with = MemoryUnavailable("mem0 is down")
    # When she calls again
    response = initiate_conversation(deps, keys)
    # Then the pre-call never needed Mem0: she is greeted by name with her last call's summary
    assert response["statusCode"] == 200
    body = response_json(response)
    variables = body["dynamic_variables"]
    assert set(variables) >= PROMISED_DYNAMIC_VARIABLES
    assert variables["returning_caller"] == "yes"
    assert variables["caller_name"] == "Margaret"
    assert variables["memory_count"] == "1"
    assert "Check-up booked for Biscuit" in variables["memory_summary"]
    assert "Margaret" in body["conversation_config_override"]["agent"]["first_message"]


def test_the_initiation_reads_the_brief_and_never_lists_memories(deps, keys):
    # Given a caller with a processed call, and a store that records every read
    remember_call(deps, keys)
    reads = []
    deps.memory.list_all = lambda user_id, timeout=None: reads.append(user_id) or []
    deps.memory.search = lambda *args, **kwargs: reads.append("search") or []
    # When she calls again
    variables = response_json(initiate_conversation(deps, keys))["dynamic_variables"]
    # Then the answer came from the brief alone
    assert variables["caller_name"] == "Margaret"
    assert reads == []


def test_a_brief_read_beyond_the_budget_yields_the_neutral_context(deps, keys):
    # Given an archive whose reads take longer than the whole pre-call budget
    remember_call(deps, keys)
    slow_get = deps.archive.get

    def slow(key):
        if key.startswith("profiles/"):
            time.sleep(deps.settings.conversation_initiation_budget_seconds + 0.3)
        return slow_get(key)

    deps.archive.get = slow
    # When the pre-call arrives, Then it answers without the brief rather than late
    variables = response_json(initiate_conversation(deps, keys))["dynamic_variables"]
    assert variables["returning_caller"] == "no"
    assert variables["caller_name"] == ""


def test_a_failing_archive_read_yields_the_neutral_context(deps, keys):
    # Given a processed call, and an archive that then fails every read
    remember_call(deps, keys)

    def broken(key):
        raise ArchiveUnavailable("S3 GetObject failed: InternalError (HTTP 500)")

    deps.archive.get = broken
    # When the pre-call arrives, Then it still answers, neutral
    response = initiate_conversation(deps, keys)
    assert response["statusCode"] == 200
    assert response_json(response)["dynamic_variables"]["returning_caller"] == "no"


def withheld(fixture: str, placeholder: str, conversation_id: str | None = None) -> bytes:
    """A fixture as a withheld caller makes it: every caller id field holds ``placeholder``."""
    event = load_fixture(fixture)
    if "data" not in event:
        return json.dumps(event | {"caller_id": placeholder}).encode()
    data = event["data"]
    data["metadata"]["phone_call"]["external_number"] = placeholder
    data["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] = placeholder
    data["conversation_id"] = conversation_id or data["conversation_id"]
    return json.dumps(event).encode()


def test_two_withheld_callers_share_nothing(deps, keys):
    # Given a first caller who withheld her number, gave her name and was processed
    first = withheld("transcription_twilio_inbound", "+266696687", "conv_first_withheld")
    headers = signed_headers(first, keys["hmac"])
    assert post_call(api_event("POST", "/post-call", first, headers), lambda_context())["statusCode"] == 200
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    # When a second caller, also withheld (in another notation), starts a call
    for placeholder in ("+266696687", "Anonymous", "sip:anonymous@anonymous.invalid"):
        response = initiate_conversation(deps, keys, body=withheld("precall_twilio_inbound", placeholder))
        # Then she is a stranger: not greeted by the first caller's name, told nothing of her call
        assert response["statusCode"] == 200
        body = response_json(response)
        variables = body["dynamic_variables"]
        assert set(variables) >= PROMISED_DYNAMIC_VARIABLES
        assert variables["returning_caller"] == "no"
        assert variables["caller_name"] == ""
        assert variables["memory_count"] == "0"
        assert variables["memory_context"] == ""
        assert variables["caller_id"] == ""
        assert "Margaret" not in json.dumps(body)
        assert body["conversation_config_override"]["agent"]["first_message"] == deps.settings.welcome_message
    # And nothing was remembered or archived under anybody for either of them
    assert deps.memory._records == {}
    assert list(deps.archive.keys("client-data/")) == []
    assert list(deps.archive.keys("post-call/")) == ["post-call/unattributed/conv_first_withheld.json"]


@pytest.mark.parametrize("line_text", ["Private Number", "0000", "Out of area"])
def test_two_callers_behind_a_wording_no_list_holds_share_nothing(deps, keys, line_text):
    # Given a first caller whose line showed carrier text instead of a number, processed
    first = withheld("transcription_twilio_inbound", line_text, "conv_first_private")
    headers = signed_headers(first, keys["hmac"])
    assert post_call(api_event("POST", "/post-call", first, headers), lambda_context())["statusCode"] == 200
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}
    # When a second caller arrives with the same text on the line
    response = initiate_conversation(deps, keys, body=withheld("precall_twilio_inbound", line_text))
    # Then she is a stranger, and nothing was remembered under that text
    variables = response_json(response)["dynamic_variables"]
    assert (variables["returning_caller"], variables["caller_name"], variables["caller_id"]) == ("no", "", "")
    assert "Margaret" not in json.dumps(response_json(response))
    assert deps.memory._records == {}
    assert list(deps.archive.keys("post-call/")) == ["post-call/unattributed/conv_first_private.json"]


def test_a_withheld_caller_is_answered_without_reading_memory(deps, keys):
    # Given a store that records every read
    reads = []
    deps.memory.list_all = lambda user_id, timeout=None: reads.append(user_id) or []
    # When a withheld caller starts a call
    response = initiate_conversation(deps, keys, body=withheld("precall_twilio_inbound", "RESTRICTED"))
    # Then the neutral answer comes without a read, and nothing is archived
    assert response["statusCode"] == 200
    assert response_json(response)["dynamic_variables"]["returning_caller"] == "no"
    assert reads == []
    assert list(deps.archive.keys("")) == []


def deliver_and_process(deps, keys, event: dict) -> None:
    """Signs and delivers a post-call ``event``, then processes everything archived."""
    body = json.dumps(event).encode()
    headers = signed_headers(body, keys["hmac"])
    assert post_call(api_event("POST", "/post-call", body, headers), lambda_context())["statusCode"] == 200
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}


def test_a_failed_call_is_no_previous_call(deps, keys):
    # Given a signed transcription of a call that failed, with ElevenLabs' placeholder summary
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["status"] = "failed"
    event["data"]["analysis"]["transcript_summary"] = "Summary couldn't be generated"
    deliver_and_process(deps, keys, event)
    # When the same number calls next
    variables = response_json(initiate_conversation(deps, keys))["dynamic_variables"]
    # Then it is not a returning caller and hears nothing of the failed call
    assert variables["returning_caller"] == "no"
    assert variables["memory_count"] == "0"
    assert "Summary couldn't be generated" not in variables["memory_context"]


def test_a_call_in_which_only_the_agent_spoke_is_no_previous_call(deps, keys):
    # Given a transcription where the agent greeted a line that said nothing but blank turns
    event = load_fixture("transcription_twilio_inbound")
    agent = [turn for turn in event["data"]["transcript"] if turn["role"] == "agent"]
    blank = [{**agent[0], "role": "user", "message": message} for message in ("", "   ")]
    event["data"]["transcript"] = agent[:1] + blank
    deliver_and_process(deps, keys, event)
    # When the same number calls next
    variables = response_json(initiate_conversation(deps, keys))["dynamic_variables"]
    # Then it is archived, but the caller is not returning and nothing was remembered
    assert list(deps.archive.keys("post-call/"))
    assert (variables["returning_caller"], variables["memory_count"], variables["memory_context"]) == (
        "no",
        "0",
        "",
    )
    assert deps.memory.list_all(event["data"]["metadata"]["phone_call"]["external_number"]) == []
