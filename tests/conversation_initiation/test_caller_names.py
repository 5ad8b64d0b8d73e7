"""Names end to end: a post-call event is processed into the caller brief, and the next pre-call
greets the caller by the name collected, said or echoed in that call, whole and in any script."""

import json
from typing import Any

import pytest
from helpers import api_event, lambda_context, response_json, signed_headers, sqs_event

from agentic_memory.settings import DEFAULT_RETURNING_GREETING_NO_NAME
from devtools.fixtures import fixture_bytes, load_fixture
from services.conversation_initiation.handler import lambda_handler as conversation_initiation
from services.post_call.handler import lambda_handler as post_call
from services.post_call.processor import lambda_handler as process

JIRI_DECOMPOSED = "Jir\u030ci\u0301"  # J, i, r + combining caron, i + combining acute
JIRI = "Ji\u0159\u00ed"
NOTHING_SAID = "I'd like to book a check-up for my dog."


def a_call(collected: dict[str, Any], said: str, caller_name: str) -> bytes:
    """The recorded inbound call, with its collected fields, the caller's one line and the echoed variable."""
    event = load_fixture("transcription_twilio_inbound")
    data = event["data"]
    data["analysis"]["data_collection_results"] = {
        field: {"data_collection_id": field, "value": value, "rationale": "Stated by the caller."}
        for field, value in collected.items()
    }
    data["transcript"] = [
        {
            "role": "agent",
            "message": "Hello! Who do I have the pleasure of speaking with?",
            "time_in_call_secs": 0,
        },
        {"role": "user", "message": said, "time_in_call_secs": 3},
    ]
    data["conversation_initiation_client_data"]["dynamic_variables"]["caller_name"] = caller_name
    return json.dumps(event).encode()


def process_call(keys: dict[str, str], deps: Any, body: bytes) -> None:
    headers = signed_headers(body, keys["hmac"])
    assert post_call(api_event("POST", "/post-call", body, headers), lambda_context())["statusCode"] == 200
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}


def next_initiation(keys: dict[str, str]) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "X-Workspace-Key": keys["workspace"]}
    event = api_event("POST", "/client-data", fixture_bytes("precall_twilio_inbound"), headers)
    response = conversation_initiation(event, lambda_context("client-data"))
    assert response["statusCode"] == 200
    return response_json(response)


@pytest.mark.parametrize(
    ("collected", "said", "caller_name", "name"),
    [
        ({"Given Name": JIRI_DECOMPOSED, "familyName": "Novák"}, NOTHING_SAID, "", f"{JIRI} Novák"),
        ({"firstName": "Łucja"}, NOTHING_SAID, "", "Łucja"),
        ({}, f"Dobrý den, jmenuji se {JIRI_DECOMPOSED}.", "", JIRI),
        ({}, "Hola, me llamo María José y llamo por la vacuna.", "", "María José"),
        ({}, "Merhaba, benim adım Şükrü.", "", "Şükrü"),
        ({}, "Здравствуйте, меня зовут Дмитрий.", "", "Дмитрий"),
        ({}, "你好，我叫李小龙。", "", "李小龙"),
        ({}, NOTHING_SAID, "Дмитрий", "Дмитрий"),
        ({}, "Hi, it's Priyanka …", "", "Priyanka"),
        ({}, "Priyanka here, calling about my cat.", "", "Priyanka"),
    ],
)
def test_the_next_call_greets_the_caller_by_the_whole_name(
    deps: Any, keys: dict[str, str], collected: dict[str, Any], said: str, caller_name: str, name: str
) -> None:
    # Given a processed call in which the caller's name was collected, said or echoed
    process_call(keys, deps, a_call(collected, said, caller_name))
    # When the same number calls again
    body = next_initiation(keys)
    # Then the agent knows the name, exactly, and greets with it
    variables = body["dynamic_variables"]
    assert variables["returning_caller"] == "yes"
    assert variables["caller_name"] == name
    assert body["conversation_config_override"]["agent"]["first_message"] == (
        deps.settings.returning_greeting.replace("{name}", name)
    )
    assert f"Caller's name: {name}." in variables["memory_context"]


@pytest.mark.parametrize(
    ("collected", "said", "caller_name"),
    [
        ({"caller_name": "unknown"}, "I'm fine, thanks.", "there"),
        ({}, "Soy de Madrid y quiero una cita.", ""),
        ({}, "Hallo, ich bin müde.", "Unknown"),
        ({"pet_name": "Biscuit"}, "Hi, this is about my order.", ""),
        ({}, "This is Rex – he's so lovable.", ""),
        ({}, "Hello, this is my daughter Anna.", ""),
    ],
)
def test_a_call_that_named_nobody_gives_a_returning_caller_without_a_name(
    deps: Any, keys: dict[str, str], collected: dict[str, Any], said: str, caller_name: str
) -> None:
    # Given a processed call with no name in it: a placeholder, adjectives, a topic, a pet, a daughter
    process_call(keys, deps, a_call(collected, said, caller_name))
    # When the same number calls again
    body = next_initiation(keys)
    # Then the caller is returning but unnamed, and greeted without a name
    assert body["dynamic_variables"]["returning_caller"] == "yes"
    assert body["dynamic_variables"]["caller_name"] == ""
    assert (
        body["conversation_config_override"]["agent"]["first_message"] == DEFAULT_RETURNING_GREETING_NO_NAME
    )
