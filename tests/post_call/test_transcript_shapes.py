"""Transcript shapes of the field: a multi-voice agent's turn in parts, backchannels ElevenLabs ignored."""

from agentic_memory.elevenlabs.post_call import TranscriptionData
from agentic_memory.memory_building import memories_of, why_no_call
from agentic_memory.recall.calls import indexed_call
from agentic_memory.recall.index import RecallIndex


def transcription(turns: list[dict]) -> TranscriptionData:
    return TranscriptionData.model_validate(
        {"agent_id": "agent_mv", "conversation_id": "conv_shapes", "transcript": turns}
    )


def test_a_multivoice_turn_with_no_message_is_remembered_by_its_parts() -> None:
    # Given an agent turn whose message is null and whose words are in multivoice parts
    data = transcription(
        [
            {
                "role": "agent",
                "message": None,
                "multivoice_message": {
                    "parts": [
                        {"text": "Welcome to the story hour.", "voice_label": "narrator"},
                        {"text": "Shall we talk about the lighthouse at Fanad?", "voice_label": "keeper"},
                    ]
                },
            },
            {"role": "user", "message": "Yes, my grandfather kept the lighthouse at Fanad Head."},
        ]
    )
    # When its memories and its index entry are built
    [transcript] = memories_of(data)  # no analysis: the transcript only
    index = RecallIndex.load(None)
    index.add_call(indexed_call(data))
    # Then the parts' words are in both, as the agent's
    text = "\n".join(message.content for message in transcript.messages)
    assert "Agent: Welcome to the story hour. Shall we talk about the lighthouse at Fanad?" in text
    assert index.lexical_search("story hour narrator lighthouse", 5)


def test_backchannels_elevenlabs_ignored_are_no_memories() -> None:
    # Given a call in which the caller's "mm-hmm" was ignored as a backchannel
    data = transcription(
        [
            {"role": "agent", "message": "The ferry left from Ullapool every morning."},
            {"role": "user", "message": "Mm-hmm.", "ignored_as_backchannel": True},
            {"role": "user", "message": "We took it to Stornoway for my sister's wedding."},
        ]
    )
    # When its memories are built
    [transcript] = memories_of(data)  # no analysis: the transcript only
    # Then the backchannel is not among what was said
    text = "\n".join(message.content for message in transcript.messages)
    assert "Mm-hmm" not in text and "Stornoway" in text


def test_a_call_whose_caller_only_backchanneled_did_not_happen() -> None:
    # Given a call in which the caller's only words were ignored backchannels
    data = transcription(
        [
            {"role": "agent", "message": "Hello, is anyone there?"},
            {"role": "user", "message": "Mm.", "ignored_as_backchannel": True},
        ]
    )
    # Then it is no past call
    assert why_no_call(data) == "the caller said nothing"


def test_a_name_a_tool_set_during_the_call_is_the_callers_name() -> None:
    # Given a call that started with no name, in which a CRM tool set caller_name twice
    from datetime import UTC, datetime

    from agentic_memory.caller_profile import call_facts

    def update(value: str, at: float) -> dict:
        return {"variable_name": "caller_name", "old_value": None, "new_value": value, "updated_at": at}

    data = transcription(
        [
            {"role": "agent", "message": "Let me look you up."},
            {
                "role": "agent",
                "message": None,
                "tool_results": [
                    {"tool_name": "crm_lookup", "dynamic_variable_updates": [update("Oonagh", 1.0)]},
                    {"tool_name": "crm_lookup", "dynamic_variable_updates": [update("Oonagh Brennan", 2.0)]},
                ],
            },
            {"role": "user", "message": "That's right, I called about my pension."},
        ]
    )
    # When the call's facts for the brief are taken
    facts = call_facts(data, None, datetime(2026, 1, 5, tzinfo=UTC))
    # Then the tool's final value is the caller's name
    assert facts.name is not None and facts.name.name == "Oonagh Brennan"
