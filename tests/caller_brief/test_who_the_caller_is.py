"""Who a call names: the caller on the phone ("Hi, it's Priyanka", "Priyanka here"), never the dog
or the daughter they present ("This is Rex – he's so lovable"), and only from the caller's own turns."""

from datetime import UTC, datetime

import pytest

from agentic_memory.caller_profile import call_facts
from agentic_memory.elevenlabs.post_call import PostCallTranscription
from agentic_memory.names import name_from_text, name_from_turns
from devtools.fixtures import load_fixture

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "said",
    [
        "This is Rex – he's so lovable.",
        "This is Rex, he's so lovable",
        "This is Rex. He is so lovable.",
        "this is my daughter Anna",
        "This is Anna, my daughter.",
        "This is Anna, she's my daughter.",
        "This is Rex, my little puppy, he's ten weeks old.",
        "This is Rex, it's my dog.",
        "It's Rex, he's my dog.",
        "It's Rex and he's so lovable.",
        "Meet Biscuit!",
        "Say hello to Biscuit.",
        "We got a puppy last week and this is Rex.",
        "Meet my dog, this is Rex.",
        "Rex here is my dog.",
        "Biscuit here, she's a bit poorly.",
        "Mum here.",
        "This is Dad.",
        "C'est Rex, il est adorable.",
        "We're here.",
        "Anybody there? Everyone here?",
    ],
)
def test_someone_the_caller_presents_is_not_the_callers_name(said: str) -> None:
    # Given a caller presenting a pet, a relative or a role, or saying something with no name at all
    # When their words are read for a name
    # Then there is none
    assert name_from_text(said) is None


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("Hi, it's Priyanka …", "Priyanka"),
        ("Hi, it's Priyanka.", "Priyanka"),
        ("It's Priyanka here.", "Priyanka"),
        ("Hello Ada, it's Priyanka again.", "Priyanka"),
        ("Hi, it's Priyanka from number twelve.", "Priyanka"),
        ("hi it's Priyanka and I'm calling about my cat", "Priyanka"),
        ("Priyanka here.", "Priyanka"),
        ("Hi, Priyanka here, calling about my cat.", "Priyanka"),
        ("Priyanka speaking.", "Priyanka"),
        ("Good morning, Priyanka Sharma speaking.", "Priyanka Sharma"),
        ("Yes, this is Walter.", "Walter"),
        ("Hi, this is Margaret, my dog Biscuit needs a check-up.", "Margaret"),
        ("This is Margaret, it's about my dog.", "Margaret"),
        ("Bonjour, c'est Marie.", "Marie"),
        ("Guten Tag, hier spricht Jürgen.", "Jürgen"),
    ],
)
def test_a_caller_naming_themselves_on_the_phone_gives_the_name(said: str, name: str) -> None:
    assert name_from_text(said) == name


def test_a_name_given_as_the_callers_own_outranks_a_later_presented_one() -> None:
    # Given a caller who says her name, then presents her dog with no pronoun to tell
    said = "My name is Margaret. I brought my dog along. This is Rex."
    # When her words are read for a name
    # Then the name she gave as hers wins over the later presented one
    assert name_from_text(said) == "Margaret"


def test_a_name_ends_before_a_contraction_in_an_unpunctuated_transcript() -> None:
    assert name_from_text("my name is Margaret I'm calling about Rex") == "Margaret"


def test_an_answer_to_the_agent_asking_for_someone_elses_name_names_nobody() -> None:
    # Given the agent asking for the dog's name and the caller answering as callers do
    turns = [
        ("agent", "Lovely. And what's your dog's name?"),
        ("user", "It's Rex."),
        ("agent", "And the name of your husband, for the file?"),
        ("user", "Oh, this is Tom."),
    ]
    # When the transcript is read for the caller's name
    # Then neither answer names the caller
    assert name_from_turns(turns) is None


def test_an_answer_to_the_agent_asking_who_is_calling_names_the_caller() -> None:
    turns = [("agent", "Hello! Who am I speaking with?"), ("user", "Hi, it's Priyanka.")]

    assert name_from_turns(turns) == "Priyanka"


def test_the_agents_own_introduction_never_names_the_caller() -> None:
    # Given an outbound call in which only the agent says a name
    turns = [
        ("agent", "Hello, this is Ada from Riverside Vets. Am I speaking with Walter?"),
        ("user", "Yes, speaking."),
        ("agent", "My name is Ada, I'm calling about Pepper."),
    ]
    # Then nothing names the caller
    assert name_from_turns(turns) is None


def test_a_call_in_which_the_caller_presents_the_dog_names_the_caller_not_the_dog() -> None:
    # Given a call with no data collection: the caller gives her name, then presents her dog
    event = load_fixture("transcription_twilio_inbound")
    data = event["data"]
    data["analysis"]["data_collection_results"] = {}
    data["transcript"] = [
        {
            "role": "agent",
            "message": "Hello! Who do I have the pleasure of speaking with?",
            "time_in_call_secs": 0,
        },
        {"role": "user", "message": "Hi, it's Priyanka …", "time_in_call_secs": 3},
        {"role": "agent", "message": "Hi Priyanka! And who is this?", "time_in_call_secs": 6},
        {"role": "user", "message": "This is Rex – he's so lovable.", "time_in_call_secs": 9},
    ]
    transcription = PostCallTranscription.model_validate(event)
    # When the call's facts are taken for the brief
    facts = call_facts(transcription.data, transcription.event_timestamp, NOW)
    # Then the caller is Priyanka, as she said
    assert facts.name is not None
    assert (facts.name.name, facts.name.source) == ("Priyanka", "stated_in_call")
