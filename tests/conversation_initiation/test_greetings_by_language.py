"""Greetings that fit the call: the caller's language, the language override only where the agent
allows it, no first message where we have none in that language, and outbound wording on calls the
agent places."""

import json
import time
from datetime import UTC, datetime

import pytest
from helpers import PROMISED_DYNAMIC_VARIABLES

from agentic_memory.caller_profile import CallerProfile, CallFacts, GivenName, with_call
from agentic_memory.conversation_initiation import answer_conversation_initiation, answer_from_brief
from agentic_memory.elevenlabs.conversation_initiation import ConversationInitiationRequest
from agentic_memory.profile_store import record_call
from agentic_memory.settings import (
    DEFAULT_RETURNING_GREETING_NO_NAME,
    ConfigurationError,
    ConversationInitiationSettings,
)
from devtools.fakes import InMemoryArchive
from devtools.fixtures import fixture_bytes, load_fixture

LUCIA = "+15550100173"
AGENT_NUMBER = "+15550100001"  # precall_twilio_outbound's caller_id: the agent's own number
CALLED = "+15550100177"  # precall_twilio_outbound's called_number: the person the agent rings
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
SPANISH = {
    "es": {"returning": "¡Hola de nuevo, {name}! Qué gusto oírte.", "returning_without_name": "¡Hola!"}
}
OUTBOUND = {
    "OUTBOUND_WELCOME_MESSAGE": "Hi, this is Ada from the memoir line, calling you.",
    "OUTBOUND_RETURNING_GREETING": "Hi {name}, it's Ada from the memoir line calling you back.",
}
PROMISED = PROMISED_DYNAMIC_VARIABLES | {"caller_language"}


def settings(**environment: str) -> ConversationInitiationSettings:
    return ConversationInitiationSettings.from_environment(environment)


def a_call_in(language: str | None, name: str | None = "Lucía") -> CallFacts:
    at = datetime(2026, 2, 20, 18, tzinfo=UTC)
    given = (
        GivenName(name=name, source="stated_in_call", at=at, conversation_id="conv_lucia_1") if name else None
    )
    return CallFacts(conversation_id="conv_lucia_1", agent_id="agent_a", at=at, language=language, name=given)


def brief_of(caller_id: str, language: str | None, name: str | None = "Lucía") -> CallerProfile:
    brief = with_call(CallerProfile(caller_id=caller_id), a_call_in(language, name))
    assert brief is not None
    return brief


def answer(
    brief: CallerProfile | None, config: ConversationInitiationSettings, outbound: bool = False
) -> dict:
    wire = answer_from_brief(LUCIA, brief, config, NOW, outbound=outbound).to_wire()
    variables = wire["dynamic_variables"]
    assert isinstance(variables, dict) and set(variables) >= PROMISED
    assert all(isinstance(value, str) for value in variables.values())
    return wire


def agent_override(wire: dict) -> dict | None:
    override = wire.get("conversation_config_override")
    return None if override is None else override["agent"]


def test_a_spanish_returning_caller_is_greeted_in_spanish_with_the_language_the_agent_allows() -> None:
    # Given Lucía, whose last call was in Spanish, and an agent that allows the language override
    config = settings(GREETINGS_BY_LANGUAGE=json.dumps(SPANISH), LANGUAGE_OVERRIDE="true")
    # When she calls again
    wire = answer(brief_of(LUCIA, "es"), config)
    # Then she is greeted in Spanish, by name, and the conversation is set to Spanish
    assert agent_override(wire) == {
        "first_message": "¡Hola de nuevo, Lucía! Qué gusto oírte.",
        "language": "es",
    }
    assert wire["dynamic_variables"]["caller_language"] == "es"


def test_without_the_agents_leave_no_language_override_is_sent() -> None:
    # Given Spanish greetings but an agent that does not allow the language override (the default)
    config = settings(GREETINGS_BY_LANGUAGE=json.dumps(SPANISH))
    # When Lucía, who spoke Spanish, calls again
    wire = answer(brief_of(LUCIA, "es"), config)
    # Then the Spanish greeting goes alone: ElevenLabs would refuse an override the agent does not allow
    assert agent_override(wire) == {"first_message": "¡Hola de nuevo, Lucía! Qué gusto oírte."}


def test_a_regional_language_gets_the_greetings_of_its_base_language() -> None:
    # Given Spanish greetings and a caller whose last call was in Mexican Spanish
    config = settings(GREETINGS_BY_LANGUAGE=json.dumps(SPANISH), LANGUAGE_OVERRIDE="true")
    # When she calls again without a name known
    wire = answer(brief_of(LUCIA, "es-mx", name=None), config)
    # Then she hears the Spanish nameless greeting, in her own language
    assert agent_override(wire) == {"first_message": "¡Hola!", "language": "es-mx"}


@pytest.mark.parametrize("language_override", ["true", "false"])
def test_a_language_without_a_greeting_gets_no_first_message_override(language_override: str) -> None:
    # Given greetings in English (the default) and Spanish only
    config = settings(GREETINGS_BY_LANGUAGE=json.dumps(SPANISH), LANGUAGE_OVERRIDE=language_override)
    # When a caller whose last call was in German calls again
    wire = answer(brief_of(LUCIA, "de"), config)
    # Then no override is sent: the agent's own German first message stands, and the prompt knows
    assert agent_override(wire) is None
    assert wire["dynamic_variables"]["caller_language"] == "de"


def test_a_caller_in_the_greetings_own_language_gets_the_default_greeting() -> None:
    # Given the default greetings, written in English, and the language override allowed
    config = settings(LANGUAGE_OVERRIDE="true")
    # When a caller whose last call was in American English calls again
    wire = answer(brief_of(LUCIA, "en-us"), config)
    # Then the usual greeting is sent, with the language
    assert agent_override(wire) == {
        "first_message": config.returning_greeting.replace("{name}", "Lucía"),
        "language": "en-us",
    }


def test_a_caller_whose_language_is_not_known_gets_the_default_greeting_and_no_language() -> None:
    # Given a brief written before languages were kept, and the language override allowed
    config = settings(LANGUAGE_OVERRIDE="true")
    # When that caller calls again
    wire = answer(brief_of(LUCIA, None, name=None), config)
    # Then the usual nameless greeting goes, without a language, and caller_language is empty
    assert agent_override(wire) == {"first_message": DEFAULT_RETURNING_GREETING_NO_NAME}
    assert wire["dynamic_variables"]["caller_language"] == ""


def test_a_new_caller_is_welcomed_with_an_empty_language() -> None:
    # Given no brief
    config = settings(GREETINGS_BY_LANGUAGE=json.dumps(SPANISH), LANGUAGE_OVERRIDE="true")
    # When a new caller calls
    wire = answer(None, config)
    # Then the welcome goes without a language, and caller_language is present and empty
    assert agent_override(wire) == {"first_message": config.welcome_message}
    assert wire["dynamic_variables"]["caller_language"] == ""


@pytest.mark.parametrize(
    ("brief", "expected"),
    [
        (None, OUTBOUND["OUTBOUND_WELCOME_MESSAGE"]),
        (brief_of(LUCIA, "en"), "Hi Lucía, it's Ada from the memoir line calling you back."),
        (brief_of(LUCIA, "en", name=None), OUTBOUND["OUTBOUND_WELCOME_MESSAGE"]),
    ],
    ids=["new", "returning", "returning-nameless"],
)
def test_a_call_the_agent_places_gets_the_outbound_wording(
    brief: CallerProfile | None, expected: str
) -> None:
    # Given outbound greetings
    config = settings(**OUTBOUND)
    # When the agent rings the person
    wire = answer(brief, config, outbound=True)
    # Then they hear the outbound wording, never "Thanks for calling"
    assert agent_override(wire) == {"first_message": expected}


@pytest.mark.parametrize(
    "brief", [None, brief_of(LUCIA, "en"), brief_of(LUCIA, "es")], ids=["new", "returning", "spanish"]
)
def test_without_outbound_greetings_a_call_the_agent_places_gets_no_first_message(
    brief: CallerProfile | None,
) -> None:
    # Given no outbound greetings (the default), and Spanish inbound ones
    config = settings(GREETINGS_BY_LANGUAGE=json.dumps(SPANISH), LANGUAGE_OVERRIDE="true")
    # When the agent rings the person
    wire = answer(brief, config, outbound=True)
    # Then no override is sent: the agent's own first message stands
    assert agent_override(wire) is None


def test_a_spanish_returning_caller_rung_by_the_agent_gets_the_spanish_outbound_greeting() -> None:
    # Given Spanish outbound wording
    spanish = {"es": {"outbound_returning": "Hola {name}, le llamamos de la línea de memorias."}}
    config = settings(GREETINGS_BY_LANGUAGE=json.dumps(spanish), LANGUAGE_OVERRIDE="true", **OUTBOUND)
    # When the agent rings Lucía, who spoke Spanish
    wire = answer(brief_of(LUCIA, "es"), config, outbound=True)
    # Then she hears it in Spanish
    assert agent_override(wire) == {
        "first_message": "Hola Lucía, le llamamos de la línea de memorias.",
        "language": "es",
    }


def test_the_pre_call_tells_an_outbound_call_by_the_agents_own_number() -> None:
    # Given the agent's number configured, outbound wording, and a brief for the person it calls
    config = settings(AGENT_PHONE_NUMBERS=AGENT_NUMBER, **OUTBOUND)
    archive = InMemoryArchive()
    record_call(archive, CALLED, a_call_in("en"))
    request = ConversationInitiationRequest.model_validate(load_fixture("precall_twilio_outbound"))
    # When the pre-call of the agent's call arrives
    outcome = answer_conversation_initiation(
        request, fixture_bytes("precall_twilio_outbound"), config, archive, NOW, time.monotonic() + 2
    )
    # Then the person called is greeted back with the outbound wording
    wire = outcome.response.to_wire()
    assert outcome.caller_id == CALLED
    assert agent_override(wire) == {
        "first_message": "Hi Lucía, it's Ada from the memoir line calling you back."
    }


def test_the_same_request_from_a_caller_is_inbound() -> None:
    # Given no agent numbers configured: the same request's caller_id is a person calling in
    config = settings(**OUTBOUND)
    request = ConversationInitiationRequest.model_validate(load_fixture("precall_twilio_outbound"))
    # When it arrives
    outcome = answer_conversation_initiation(
        request,
        fixture_bytes("precall_twilio_outbound"),
        config,
        InMemoryArchive(),
        NOW,
        time.monotonic() + 2,
    )
    # Then it is welcomed as an inbound call
    assert agent_override(outcome.response.to_wire()) == {"first_message": config.welcome_message}


@pytest.mark.parametrize(
    "environment",
    [
        {"GREETINGS_BY_LANGUAGE": json.dumps({"es": {"returning": "¡Hola de nuevo!"}})},
        {"GREETINGS_BY_LANGUAGE": json.dumps({"es": {"outbound_returning": "Hola, le llamamos."}})},
        {"GREETINGS_BY_LANGUAGE": json.dumps({"Spanish": {"returning": "¡Hola, {name}!"}})},
        {"GREETINGS_BY_LANGUAGE": json.dumps({"es": {"welcome_back": "¡Hola, {name}!"}})},
        {"GREETINGS_BY_LANGUAGE": "not json"},
        {"OUTBOUND_RETURNING_GREETING": "Hi, calling you back."},
        {"GREETING_LANGUAGE": "english"},
        {"LANGUAGE_OVERRIDE": "perhaps"},
    ],
)
def test_greeting_settings_that_cannot_work_are_refused_at_start(environment: dict[str, str]) -> None:
    # Given a greeting without its {name} slot, a language that is no code, an unknown key, or no JSON
    # When the function starts with it
    # Then it refuses to start rather than greet wrongly in calls
    with pytest.raises(ConfigurationError):
        settings(**environment)
