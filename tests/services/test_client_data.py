"""The pre-call entry point, driven with API Gateway events and in-memory ports."""

import json
import time

from helpers import (
    DESIGN_DYNAMIC_VARIABLES,
    api_event,
    lambda_context,
    response_json,
    signed_headers,
    sqs_event,
)

from agentic_memory.errors import MemoryUnavailable
from agentic_memory.local.fixtures import fixture_bytes, load_fixture
from services.client_data.handler import lambda_handler as client_data
from services.post_call.handler import lambda_handler as post_call
from services.post_call.processor import lambda_handler as process


def precall(deps, keys, fixture="precall_twilio_inbound", key=None, body=None):
    body = body if body is not None else fixture_bytes(fixture)
    headers = {"Content-Type": "application/json"}
    if key is not False:
        headers["X-Workspace-Key"] = key or keys["workspace"]
    return client_data(api_event("POST", "/client-data", body, headers), lambda_context("client-data"))


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
    response = precall(deps, keys)
    # Then every dynamic variable is a string and the welcome greeting is used
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["type"] == "conversation_initiation_client_data"
    variables = body["dynamic_variables"]
    assert set(variables) >= DESIGN_DYNAMIC_VARIABLES
    assert all(isinstance(v, str) for v in variables.values())
    assert variables["returning_caller"] == "no"
    assert variables["memory_count"] == "0"
    assert variables["caller_id"] == load_fixture("precall_twilio_inbound")["caller_id"]
    assert body["conversation_config_override"]["agent"]["first_message"] == deps.settings.welcome_message


def test_a_returning_caller_is_greeted_by_name(deps, keys):
    # Given a processed call from the same number in which the caller gave her name
    remember_call(deps, keys)
    # When she calls again
    variables = response_json(precall(deps, keys))["dynamic_variables"]
    first_message = response_json(precall(deps, keys))["conversation_config_override"]["agent"][
        "first_message"
    ]
    # Then she is known, by name, with one previous conversation
    assert variables["returning_caller"] == "yes"
    assert variables["caller_name"] == "Margaret"
    assert variables["memory_count"] == "1"
    assert "Margaret" in first_message
    assert "Biscuit" in variables["memory_context"]


def test_the_exchange_is_archived_under_the_design_keys(deps, keys):
    precall(deps, keys)
    caller = load_fixture("precall_twilio_inbound")["caller_id"]
    archived = list(deps.archive.keys(f"client-data/{caller}/"))
    assert [k.rsplit("/", 1)[1] for k in archived] == ["received.json", "response.json"]
    assert deps.archive.get(archived[0]) == fixture_bytes("precall_twilio_inbound")
    assert json.loads(deps.archive.get(archived[1]))["type"] == "conversation_initiation_client_data"


def test_an_outbound_call_is_answered_for_the_person_called(deps, keys):
    request = load_fixture("precall_twilio_outbound")
    variables = response_json(precall(deps, keys, "precall_twilio_outbound"))["dynamic_variables"]
    assert variables["caller_id"] == request["called_number"]


def test_wrong_or_missing_workspace_key_is_401(deps, keys):
    for key in ("wsk_wrong", False):
        response = precall(deps, keys, key=key)
        assert response["statusCode"] == 401
        assert response_json(response)["error"] == "unauthorized"
    assert list(deps.archive.keys("")) == []


def test_malformed_json_and_missing_caller_are_400_with_a_json_error(deps, keys):
    for body in (b"{not json", b"", b"[]", json.dumps({"agent_id": "agent_1"}).encode()):
        response = precall(deps, keys, body=body)
        assert response["statusCode"] == 400, body
        assert set(response_json(response)) == {"error", "detail"}


def test_an_unsafe_call_sid_never_reaches_the_archive(deps, keys):
    request = load_fixture("precall_twilio_inbound") | {"call_sid": "../../etc/passwd"}
    response = precall(deps, keys, body=json.dumps(request).encode())
    assert response["statusCode"] == 400
    assert list(deps.archive.keys("")) == []


def test_memory_failure_still_answers_with_neutral_variables(deps, keys):
    deps.memory.fail_with = MemoryUnavailable("mem0 is down")
    response = precall(deps, keys)
    assert response["statusCode"] == 200
    variables = response_json(response)["dynamic_variables"]
    assert set(variables) >= DESIGN_DYNAMIC_VARIABLES
    assert variables["returning_caller"] == "no"


def test_a_memory_read_beyond_the_budget_yields_the_neutral_context(deps, keys):
    # Given a store that takes longer than the whole pre-call budget
    remember_call(deps, keys)
    slow_list_all = deps.memory.list_all

    def slow(user_id, timeout=None):
        time.sleep(deps.settings.precall_budget_seconds + 0.3)
        return slow_list_all(user_id, timeout)

    deps.memory.list_all = slow
    # When the pre-call arrives, Then it answers without the memories rather than late
    variables = response_json(precall(deps, keys))["dynamic_variables"]
    assert variables["returning_caller"] == "no"
    assert variables["caller_name"] == ""
