"""A card, an id or an account number said in one call is not replayed into later calls; the
archive keeps what was said."""

import json

import pytest
from helpers import api_event, lambda_context, memory_texts, response_json, signed_headers, sqs_event

from agentic_memory.ports import ChatMessage
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fixtures import fixture_bytes, load_fixture
from services.conversation_initiation.handler import lambda_handler as conversation_initiation
from services.post_call.handler import lambda_handler as post_call
from services.post_call.processor import lambda_handler as process
from services.search_memory.handler import lambda_handler as search_memory

CALLER = "+15550100142"  # the caller of the transcription_twilio_inbound fixture
CARD = "4111 1111 1111 1111"
SSN = "123-45-6789"
IBAN = "GB82 WEST 1234 5698 7654 32"


def call_with_numbers() -> bytes:
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["transcript"][1]["message"] = f"My card is {CARD} and my SSN is {SSN}."
    event["data"]["analysis"]["transcript_summary"] = f"The caller paid from IBAN {IBAN}."
    return json.dumps(event).encode()


def deliver_and_process(keys, body: bytes) -> None:
    event = api_event("POST", "/post-call", body, signed_headers(body, keys["hmac"]))
    answer = post_call(event, lambda_context())
    assert answer["statusCode"] == 200


def process_all(deps) -> None:
    for key in list(deps.archive.keys("post-call/")):
        assert process(sqs_event(key), lambda_context()) == {"batchItemFailures": []}


def initiation_variables(keys) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Workspace-Key": keys["workspace"]}
    event = api_event("POST", "/client-data", fixture_bytes("precall_twilio_inbound"), headers)
    return response_json(conversation_initiation(event, lambda_context("client-data")))["dynamic_variables"]


def test_numbers_said_in_a_call_reach_neither_memories_nor_the_next_initiation(deps, keys) -> None:
    # Given a call in which the caller said a card, an SSN and (in the summary) an IBAN
    body = call_with_numbers()
    deliver_and_process(keys, body)
    process_all(deps)

    # Then the stored memories hold placeholders, not the numbers
    texts = "\n".join(record.text for record in deps.memory.list_all(CALLER))
    assert "[card number]" in texts and "[national id]" in texts and "[bank account]" in texts
    assert "4111" not in texts and "6789" not in texts and "WEST" not in texts
    # And the next call's context carries none of them
    variables = initiation_variables(keys)
    assert variables["returning_caller"] == "yes"
    assert not any(number in value for value in variables.values() for number in ("4111", "6789", "WEST"))
    # And the archive keeps what was said
    archived = [deps.archive.get(key) for key in deps.archive.keys("post-call/")]
    assert any(CARD.encode() in raw and SSN.encode() in raw for raw in archived)


def test_a_memory_stored_before_redaction_is_not_read_back(deps, keys) -> None:
    # Given a memory stored by an older version, with a card number in it
    deps.memory.add(CALLER, [ChatMessage(role="user", content=f"Charge my card {CARD} please")], {})

    # When the search tool reads it
    body = json.dumps({"query": "which card", "user_id": CALLER}).encode()
    found = memory_texts(
        search_memory(
            api_event("POST", "/retrieve", body, {"Content-Type": "application/json"}), lambda_context()
        )
    )

    # Then the agent hears the placeholder
    assert found == ["Charge my card [card number] please"]


def test_redact_kinds_limits_what_is_redacted(deps, keys, tmp_path) -> None:
    # Given a deployment that redacts only payment cards
    settings = Settings.from_environment(
        {
            "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
            "ELEVENLABS_HMAC_KEY": keys["hmac"],
            "AGENTIC_MEMORY_HOME": str(tmp_path / "home"),
            "REDACT_KINDS": "payment_card",
        }
    )
    use_dependencies(Dependencies(settings=settings, memory=deps.memory, archive=deps.archive))

    deliver_and_process(keys, call_with_numbers())
    process_all(deps)

    texts = "\n".join(record.text for record in deps.memory.list_all(CALLER))
    assert "[card number]" in texts and SSN in texts


def deliver_collected(deps, keys, event: dict, field: str, value: object) -> None:
    """Delivers and processes ``event`` with ``value`` collected under ``field``."""
    event["data"]["analysis"]["data_collection_results"][field] = {
        "data_collection_id": field,
        "value": value,
        "rationale": "The caller read it out.",
    }
    deliver_and_process(keys, json.dumps(event).encode())
    process_all(deps)


def test_the_caller_brief_keeps_no_sensitive_number(deps, keys) -> None:
    # Given a call whose summary names an IBAN and whose data collection caught a card number
    event = json.loads(call_with_numbers())
    deliver_collected(deps, keys, event, "card_number", CARD)

    # Then the brief, read into every later call, holds placeholders in the summary and the fields
    [key] = [key for key in deps.archive.keys("profiles/")]
    brief = json.loads(deps.archive.get(key))
    assert "[bank account]" in brief["recent_calls"][0]["summary"]
    assert brief["collected"]["card_number"]["value"] == "[card number]"
    assert not any(number in json.dumps(brief) for number in ("4111", "WEST 1234", "6789"))


@pytest.mark.parametrize(
    ("field", "value", "placeholder"),
    [
        ("ssn", "123456789", "[national id]"),
        ("social_security_number", 123456789, "[national id]"),
        ("card_number", "1234 5678 1234 5678", "[card number]"),
        ("iban", "DE00123456780000", "[bank account]"),
        ("account_number", "12345678", "[bank account]"),
        ("order_id", "123456", "123456"),
        ("ssn", "not given", "not given"),
    ],
)
def test_a_collected_value_is_redacted_by_what_its_field_names(deps, keys, field, value, placeholder) -> None:
    # Given a call whose data collection caught a bare number under a field that says what it is
    deliver_collected(deps, keys, load_fixture("transcription_twilio_inbound"), field, value)

    # Then the brief holds the placeholder for a sensitive field, the value for any other
    [key] = [key for key in deps.archive.keys("profiles/")]
    brief = json.loads(deps.archive.get(key))
    assert brief["collected"][field]["value"] == placeholder
    # And the next call's context and the call's memories read the same
    assert f"- {field}: {placeholder}" in initiation_variables(keys)["memory_context"]
    texts = "\n".join(record.text for record in deps.memory.list_all(CALLER))
    assert f"Collected {field}: {placeholder}." in texts
