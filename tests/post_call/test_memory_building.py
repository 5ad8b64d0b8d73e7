"""Turning a post-call transcription into the factual and the semantic memory."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from long_calls import long_call, long_call_turns

from agentic_memory.elevenlabs.post_call import PostCallTranscription, TranscriptionData
from agentic_memory.memory_building import (
    MAX_MEMORIES_PER_CALL,
    MEMORY_MAX_CHARS,
    call_metadata,
    factual_memory,
    max_passages,
    memories_of,
    semantic_memory,
    transcript_passages,
    why_no_call,
)
from agentic_memory.recall.passages import UNIT_MAX_CHARS
from devtools.fixtures import load_fixture

AGENT = "agent_2401kn076can47sp0fftkzytzrjx"
CONVERSATION = "conv_6801khe5t8577ext65zsntr4mfdw"


def margaret_first_call() -> TranscriptionData:
    return PostCallTranscription.model_validate(load_fixture("transcription_twilio_inbound")).data


def transcription(**data: Any) -> TranscriptionData:
    return TranscriptionData.model_validate({"agent_id": "agent_a", "conversation_id": "conv_b", **data})


def test_factual_memory_metadata_has_every_design_field() -> None:
    draft = factual_memory(margaret_first_call())

    assert draft is not None
    assert draft.metadata == {
        "type": "factual",
        "agent_id": AGENT,
        "conversation_id": CONVERSATION,
        "timestamp": "2025-11-18T15:04:12+00:00",
        "timezone": "UTC",
        "call_duration_seconds": 96,
        "caller_name": "Margaret",
        "call_outcome": "success",
    }


def test_factual_memory_timestamp_is_timezone_aware_iso_of_the_call_start() -> None:
    draft = factual_memory(margaret_first_call())
    assert draft is not None

    started = datetime.fromisoformat(draft.metadata["timestamp"])

    assert started.utcoffset() == timedelta(0)
    assert int(started.timestamp()) == 1763478252


def test_factual_memory_text_holds_summary_outcome_evaluations_and_collected_data() -> None:
    draft = factual_memory(margaret_first_call())
    assert draft is not None
    assert len(draft.messages) == 1 and draft.messages[0].role == "user"

    lines = draft.messages[0].content.splitlines()

    assert lines[0].startswith(
        "Call on Tuesday 18 November 2025, afternoon (UTC) (Check-up booked for Biscuit): Margaret called"
    )
    assert "grandson’s wedding" in lines[0]
    assert "Call outcome: success." in lines
    assert "Evaluation appointment_booked: success." in lines
    assert "Evaluation caller_identified: success." in lines
    assert "Collected first_name: Margaret." in lines
    assert lines[-1] == "User name is Margaret."


def test_factual_memory_without_a_collected_name_has_no_caller_name() -> None:
    data = transcription(
        analysis={"transcript_summary": "Asked about opening hours.", "call_successful": "success"}
    )

    draft = factual_memory(data)

    assert draft is not None
    assert "caller_name" not in draft.metadata
    assert "User name is" not in draft.messages[0].content


def test_no_analysis_gives_no_factual_memory() -> None:
    assert factual_memory(transcription(analysis=None)) is None


def test_empty_analysis_gives_no_factual_memory() -> None:
    assert factual_memory(transcription(analysis={"evaluation_criteria_results": None})) is None


def test_collected_values_are_shortened_and_structured_values_skipped() -> None:
    data = transcription(
        analysis={
            "data_collection_results": {
                "notes": {"value": "x" * 1000},
                "pets": {"value": ["Biscuit", "Pepper"]},
                "address": {"value": {"city": "Portland"}},
                "empty": {"value": ""},
            }
        }
    )

    draft = factual_memory(data)

    assert draft is not None
    lines = draft.messages[0].content.splitlines()
    assert lines == ["Collected notes: " + "x" * 299 + "…."]


def test_semantic_memory_maps_agent_to_assistant_and_skips_tool_only_turns() -> None:
    data = margaret_first_call()

    draft = semantic_memory(data)

    assert draft is not None
    spoken = [turn for turn in data.transcript if turn.message]
    assert len(draft.messages) == len(spoken) == len(data.transcript) - 2
    assert [m.role for m in draft.messages] == [
        "assistant" if turn.role == "agent" else "user" for turn in spoken
    ]
    assert (
        draft.messages[1].content
        == "Hi, my name is Margaret. I'd like to book a check-up for my dog Biscuit."
    )


def test_semantic_memory_metadata_is_the_call_metadata_without_a_name() -> None:
    draft = semantic_memory(margaret_first_call())

    assert draft is not None
    assert draft.metadata == {
        "type": "semantic",
        "agent_id": AGENT,
        "conversation_id": CONVERSATION,
        "timestamp": "2025-11-18T15:04:12+00:00",
        "timezone": "UTC",
        "call_duration_seconds": 96,
    }


def test_blank_messages_are_skipped_and_messages_are_trimmed() -> None:
    data = transcription(
        transcript=[
            {"role": "agent", "message": "  Hello!  "},
            {"role": "user", "message": "   "},
            {"role": "user", "message": None},
            {"role": "user", "message": "Hi."},
        ]
    )

    draft = semantic_memory(data)

    assert draft is not None
    assert [(m.role, m.content) for m in draft.messages] == [("assistant", "Hello!"), ("user", "Hi.")]


def test_a_transcript_without_words_gives_no_semantic_memory() -> None:
    assert semantic_memory(transcription(transcript=None)) is None
    assert semantic_memory(transcription(transcript=[{"role": "agent", "message": None}])) is None


@pytest.mark.parametrize(
    ("fixture", "types"),
    [
        ("transcription_twilio_inbound", ["factual", "semantic"]),
        ("transcription_web", ["factual", "semantic"]),
    ],
)
def test_memories_of_a_call_are_factual_then_semantic(fixture: str, types: list[str]) -> None:
    data = PostCallTranscription.model_validate(load_fixture(fixture)).data

    assert [draft.type for draft in memories_of(data)] == types


def test_a_call_with_nothing_to_remember_gives_no_memories() -> None:
    assert memories_of(transcription()) == []


def test_call_duration_is_whole_seconds_and_zero_when_unknown() -> None:
    assert (
        call_metadata(transcription(metadata={"call_duration_secs": 41.7}), "semantic")[
            "call_duration_seconds"
        ]
        == 41
    )
    assert call_metadata(transcription(), "semantic")["call_duration_seconds"] == 0


def test_missing_start_time_is_stamped_now() -> None:
    before = datetime.now(UTC)

    stamped = datetime.fromisoformat(call_metadata(transcription(), "factual")["timestamp"])

    assert before - timedelta(seconds=1) <= stamped <= datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "failed"}, "status is failed"),
        ({"status": "FAILED"}, "status is failed"),
        ({"transcript": []}, "the transcript is empty"),
        ({"transcript": None}, "the transcript is empty"),
        (
            {"transcript": [{"role": "agent", "message": "  "}, {"role": "user", "message": None}]},
            "the transcript is empty",
        ),
    ],
)
def test_a_call_that_did_not_happen_says_why(change: dict[str, Any], reason: str) -> None:
    event = load_fixture("transcription_twilio_inbound")
    event["data"].update(change)

    assert why_no_call(PostCallTranscription.model_validate(event).data) == reason


def test_a_call_whose_metadata_carries_an_error_did_not_happen() -> None:
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["metadata"]["error"] = {"code": 1011, "reason": "LLM provider unavailable"}

    assert why_no_call(PostCallTranscription.model_validate(event).data) == "metadata carries an error"


@pytest.mark.parametrize("error", [None, {}, {"code": None, "reason": None}, ""])
def test_an_empty_error_field_is_no_error(error: Any) -> None:
    event = load_fixture("transcription_twilio_inbound")
    event["data"]["metadata"]["error"] = error

    assert why_no_call(PostCallTranscription.model_validate(event).data) is None


def test_a_call_that_happened_has_no_reason_against_it() -> None:
    assert why_no_call(margaret_first_call()) is None


# -- the transcript: passages for a store without an LLM, messages for one that infers ----------------


def test_without_an_llm_a_ten_minute_call_is_units_that_cover_it_within_the_bound() -> None:
    # Given a 120-turn, ten-minute call
    data = long_call().data
    # When its memories are built for a store without an LLM
    factual, units = memories_of(data, infer=False)
    # Then the transcript is at most nineteen units (twenty memories with the factual one)
    texts = [message.content for message in units.messages]
    assert (factual.type, units.type, units.infer) == ("factual", "semantic", False)
    assert 1 + len(texts) <= MAX_MEMORIES_PER_CALL
    assert texts[0].splitlines()[:2] == [
        "Agent: Thank you. Where did you grow up?",
        "Caller: I grew up in Leeds, in a terraced house near the mill.",
    ]
    # each within the embedder's window, every line said in exactly one of them, in order
    assert all(len(text) <= UNIT_MAX_CHARS for text in texts)
    said = [f"{'Caller' if t.role == 'user' else 'Agent'}: {t.message}" for t in data.transcript]
    assert [line for text in texts for line in text.splitlines()] == said


def test_a_two_hour_call_gives_at_most_twenty_memories_per_ten_minutes() -> None:
    # Given a two-hour call of long answers
    turns = long_call_turns(exchanges=720)
    for turn in turns[1::2]:
        turn["message"] = turn["message"] + " " + "And there is a lot more to say about that. " * 8
    data = transcription(transcript=turns, metadata={"call_duration_secs": 7200})
    # When it becomes passages
    passages = transcript_passages(data)
    # Then the bound of twenty memories per ten minutes (the factual one included) holds
    assert passages is not None
    assert len(passages.messages) == max_passages(7200) == 12 * MAX_MEMORIES_PER_CALL - 1
    # And the passages chosen are spread over the whole call, not its beginning only
    assert turns[0]["message"] in passages.messages[0].content
    assert turns[-1]["message"][:40] in "".join(m.content for m in passages.messages[-3:])


def test_an_answer_longer_than_a_segment_is_cut_at_sentence_ends_and_nothing_is_lost() -> None:
    # Given a 1,440-character answer, then a short exchange
    long_answer = "I remember. " * 120
    data = transcription(
        transcript=[
            {"role": "agent", "message": "Tell me about the mill."},
            {"role": "user", "message": long_answer},
            {"role": "agent", "message": "And then?"},
            {"role": "user", "message": "Then I left."},
        ]
    )
    # When it becomes passages
    passages = transcript_passages(data)
    # Then every unit fits the window and every sentence said is in one of them
    assert passages is not None
    texts = [m.content for m in passages.messages]
    assert texts[0].startswith("Agent: Tell me about the mill.\nCaller: I remember. I remember.")
    assert all(len(text) <= UNIT_MAX_CHARS for text in texts)
    assert texts[-1].endswith("Agent: And then?\nCaller: Then I left.")
    caller_words = "".join(line.removeprefix("Caller: ") for t in texts for line in t.splitlines())
    assert caller_words.count("I remember.") >= 120


def test_a_single_120_kb_turn_is_passages_within_the_window_and_the_bound() -> None:
    # Given a caller who talked without a pause: one 120 KB turn, no duration known
    monologue = "and then the mill closed and we moved to the coast " * 2_400
    data = transcription(transcript=[{"role": "user", "message": monologue}])
    # When it becomes passages
    passages = transcript_passages(data)
    # Then each passage fits the embedder's window, ends on a whole word, and a ten-minute bound holds
    assert passages is not None and len(monologue) > 120_000
    texts = [m.content for m in passages.messages]
    assert len(texts) == max_passages(None) == MAX_MEMORIES_PER_CALL - 1
    assert all(len(text) <= UNIT_MAX_CHARS and text.split()[-1] in monologue.split() for text in texts)


def test_a_215_kb_summary_gives_a_factual_memory_of_at_most_four_thousand_characters() -> None:
    # Given a call whose summary is 215 KB, with its outcome and a collected name
    data = margaret_first_call()
    huge = "Margaret talked about Biscuit at length. " * 5_300
    assert data.analysis is not None and len(huge) > 215_000
    data = data.model_copy(update={"analysis": data.analysis.model_copy(update={"transcript_summary": huge})})
    # When it becomes the factual memory
    draft = factual_memory(data)
    # Then the summary is clipped at a word and the facts after it are kept, within the cap
    assert draft is not None
    text = draft.messages[0].content
    assert len(text) <= MEMORY_MAX_CHARS
    lines = text.splitlines()
    assert lines[0].endswith("Margaret talked about Biscuit…") and len(lines[0]) < 2_100
    assert "Call outcome: success." in lines and lines[-1] == "User name is Margaret."


def test_a_store_that_infers_gets_the_transcript_as_chat_messages_to_extract_from() -> None:
    # When the memories are built for a store with an LLM
    factual, transcript = memories_of(long_call().data, infer=True)
    # Then the factual summary stays verbatim and the transcript goes whole, agent turns as assistant
    assert (factual.infer, transcript.infer) == (False, True)
    assert len(transcript.messages) == 120
    assert [m.role for m in transcript.messages[:2]] == ["assistant", "user"]
