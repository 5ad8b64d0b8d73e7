"""Our answers, checked against the schemas of what ElevenLabs accepts (docs/elevenlabs-contract.md)."""

from datetime import UTC, datetime

import contract_schemas
import pytest
from helpers import PROMISED_DYNAMIC_VARIABLES
from jsonschema import ValidationError

from agentic_memory.call_context import (
    CallContext,
    Greetings,
    build_call_context,
    neutral_call_context,
)
from agentic_memory.caller_profile import CallerProfile, call_facts, with_call
from agentic_memory.elevenlabs.post_call import PostCallTranscription
from agentic_memory.settings import (
    DEFAULT_RETURNING_GREETING,
    DEFAULT_RETURNING_GREETING_NO_NAME,
    DEFAULT_WELCOME,
)
from devtools.fixtures import load_fixture

MARGARET = "+15550100142"
NEW_CALLER = "+15550100199"
GREETINGS = Greetings(
    welcome=DEFAULT_WELCOME,
    returning=DEFAULT_RETURNING_GREETING,
    returning_without_name=DEFAULT_RETURNING_GREETING_NO_NAME,
)
FULL_PROMPT_TEMPLATE = (
    "You are Ada, the phone assistant of Riverside Vets.\n"
    "The caller is {{caller_name}} ({{caller_id}}); returning caller: {{returning_caller}}, "
    "{{memory_count}} previous interactions.\n"
    "Summary: {{memory_summary}}\n"
    "What you remember:\n{{memory_context}}\n"
    "Use the search_memory tool for anything else about this caller."
)


def returning_margaret() -> CallContext:
    event = PostCallTranscription.model_validate(load_fixture("transcription_twilio_inbound"))
    facts = call_facts(event.data, event.event_timestamp, datetime.now(UTC))
    return build_call_context(MARGARET, with_call(CallerProfile(caller_id=MARGARET), facts), GREETINGS)


def contexts() -> dict[str, CallContext]:
    return {
        "new caller": build_call_context(NEW_CALLER, None, GREETINGS),
        "returning caller": returning_margaret(),
        "neutral": neutral_call_context(MARGARET, GREETINGS),
    }


@pytest.mark.parametrize("kind", ["new caller", "returning caller", "neutral"])
def test_conversation_initiation_answer_is_accepted_by_elevenlabs(kind: str) -> None:
    wire = contexts()[kind].to_response().to_wire()

    contract_schemas.validate("conversation_initiation_response", wire)


@pytest.mark.parametrize("kind", ["new caller", "returning caller", "neutral"])
def test_every_dynamic_variable_is_present_and_a_string(kind: str) -> None:
    variables = contexts()[kind].to_response().to_wire()["dynamic_variables"]

    assert isinstance(variables, dict)
    assert set(variables) >= PROMISED_DYNAMIC_VARIABLES
    assert all(isinstance(value, str) for value in variables.values())


@pytest.mark.parametrize("kind", ["new caller", "returning caller", "neutral"])
def test_default_answer_overrides_only_the_first_message(kind: str) -> None:
    wire = contexts()[kind].to_response().to_wire()

    assert wire["conversation_config_override"] == {
        "agent": {"first_message": contexts()[kind].first_message}
    }


def test_returning_caller_answer_greets_margaret_and_remembers_biscuit() -> None:
    wire = returning_margaret().to_response().to_wire()
    variables = wire["dynamic_variables"]
    assert isinstance(variables, dict)

    assert variables["caller_name"] == "Margaret"
    assert variables["returning_caller"] == "yes"
    assert variables["memory_count"] == "1"
    assert "Biscuit" in variables["memory_context"]
    assert wire["conversation_config_override"] == {
        "agent": {"first_message": "Welcome back, Margaret! It's good to hear from you again."}
    }


def test_new_caller_answer_is_the_welcome_with_empty_memory() -> None:
    variables = contexts()["new caller"].dynamic_variables()

    assert variables == {
        "caller_id": NEW_CALLER,
        "caller_name": "",
        "returning_caller": "no",
        "memory_count": "0",
        "memory_summary": "",
        "memory_context": "",
        "caller_language": "",
    }


@pytest.mark.parametrize("kind", ["new caller", "returning caller", "neutral"])
def test_prompt_override_option_renders_a_complete_prompt_that_elevenlabs_accepts(kind: str) -> None:
    context = contexts()[kind]

    wire = context.to_response(prompt_template=FULL_PROMPT_TEMPLATE).to_wire()

    contract_schemas.validate("conversation_initiation_response", wire)
    prompt = wire["conversation_config_override"]["agent"]["prompt"]["prompt"]  # type: ignore[index]
    assert "{{" not in prompt and "}}" not in prompt
    assert prompt.startswith("You are Ada") and prompt.endswith("about this caller.")
    assert context.context in prompt


def test_returning_caller_prompt_override_holds_the_memory_context() -> None:
    wire = returning_margaret().to_response(prompt_template=FULL_PROMPT_TEMPLATE).to_wire()

    prompt = wire["conversation_config_override"]["agent"]["prompt"]["prompt"]  # type: ignore[index]

    assert "The caller is Margaret (+15550100142); returning caller: yes, 1 previous interactions." in prompt
    assert "Biscuit" in prompt


# The schemas must be able to fail, or the tests above prove nothing.


def valid_answer() -> dict[str, object]:
    return contexts()["returning caller"].to_response().to_wire()


def test_schema_rejects_an_object_as_a_dynamic_variable_value() -> None:
    answer = valid_answer()
    answer["dynamic_variables"] = {"caller_id": MARGARET, "memories": {"count": 1}}

    with pytest.raises(ValidationError):
        contract_schemas.validate("conversation_initiation_response", answer)


def test_schema_rejects_a_system_variable() -> None:
    answer = valid_answer()
    answer["dynamic_variables"] = {"caller_id": MARGARET, "system__caller_id": MARGARET}

    with pytest.raises(ValidationError):
        contract_schemas.validate("conversation_initiation_response", answer)


def test_schema_rejects_an_answer_without_type() -> None:
    answer = valid_answer()
    del answer["type"]

    with pytest.raises(ValidationError):
        contract_schemas.validate("conversation_initiation_response", answer)


def test_schema_rejects_a_wrong_type() -> None:
    answer = valid_answer()
    answer["type"] = "conversation_initiation_metadata"

    with pytest.raises(ValidationError):
        contract_schemas.validate("conversation_initiation_response", answer)


def test_schema_rejects_an_override_outside_the_documented_surface() -> None:
    answer = valid_answer()
    answer["conversation_config_override"] = {"agent": {"first_message": "Hi", "greeting": "Hi"}}

    with pytest.raises(ValidationError):
        contract_schemas.validate("conversation_initiation_response", answer)


def test_schema_rejects_a_prompt_override_without_its_prompt() -> None:
    answer = valid_answer()
    answer["conversation_config_override"] = {"agent": {"prompt": {"llm": "gpt-4o"}}}

    with pytest.raises(ValidationError):
        contract_schemas.validate("conversation_initiation_response", answer)


def test_schema_accepts_the_documented_full_example() -> None:
    documented = {
        "type": "conversation_initiation_client_data",
        "conversation_config_override": {
            "agent": {
                "prompt": {"prompt": "overriding", "llm": "gpt-4o"},
                "first_message": "Hi",
                "language": "en",
            },
            "tts": {"voice_id": "voice-id-here"},
            "conversation": {"text_only": False},
            "asr": {"keywords": ["Riverside Vets"]},
        },
        "custom_llm_extra_body": {"temperature": 0.7, "max_tokens": 100},
        "dynamic_variables": {
            "string_var": "text",
            "number_var": 1.2,
            "integer_var": 123,
            "boolean_var": True,
        },
        "user_id": "your_custom_user_id",
        "branch_id": "agtbrch_xxxx",
        "environment": "production",
    }

    contract_schemas.validate("conversation_initiation_response", documented)


@pytest.mark.parametrize(
    ("schema_name", "accepted", "rejected"),
    [
        (
            "search_memory_response",
            {"memories": ["Has a dog named Biscuit."]},
            {"memories": [{"memory": "x"}]},
        ),
        ("search_memory_response", {"memories": []}, {"results": []}),
        ("post_call_ack", {"status": "ok"}, {"status": "accepted"}),
        ("error", {"error": "unauthorized", "detail": "bad signature"}, {"error": "unauthorized"}),
        ("error", {"error": "bad_request", "detail": ""}, {"message": "bad request"}),
    ],
)
def test_small_response_schemas_accept_our_shape_and_reject_others(
    schema_name: str, accepted: object, rejected: object
) -> None:
    contract_schemas.validate(schema_name, accepted)

    with pytest.raises(ValidationError):
        contract_schemas.validate(schema_name, rejected)


def test_every_declared_schema_is_a_valid_draft_2020_12_schema() -> None:
    names = contract_schemas.schema_names()

    assert names == ["conversation_initiation_response", "error", "post_call_ack", "search_memory_response"]
    assert all(
        contract_schemas.schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        for name in names
    )
