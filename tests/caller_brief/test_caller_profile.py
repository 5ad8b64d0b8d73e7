"""The caller brief: what one call adds, what a replay adds (nothing), names over time, the size cap."""

import json
from datetime import UTC, datetime, timedelta

from agentic_memory.caller_profile import (
    MAX_PROFILE_BYTES,
    RECENT_CALLS,
    CallerProfile,
    CallFacts,
    GivenName,
    call_facts,
    decode,
    encode,
    with_call,
)
from agentic_memory.elevenlabs.post_call import PostCallTranscription
from devtools.fixtures import load_fixture

MARGARET = "+15550100142"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
START = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def transcription(fixture: str = "transcription_twilio_inbound", **changes) -> PostCallTranscription:
    payload = load_fixture(fixture)
    for path, value in changes.items():
        target = payload["data"]
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return PostCallTranscription.model_validate(payload)


def facts_of(event: PostCallTranscription) -> CallFacts:
    return call_facts(event.data, event.event_timestamp, NOW)


def a_call(number: int, name: str | None = None, summary: str = "", **extra) -> CallFacts:
    at = START + timedelta(days=number)
    given = (
        GivenName(name=name, source="stated_in_call", at=at, conversation_id=f"conv_{number}")
        if name
        else None
    )
    return CallFacts(
        conversation_id=f"conv_{number}", agent_id="agent_a", at=at, name=given, summary=summary, **extra
    )


def fresh() -> CallerProfile:
    return CallerProfile(caller_id=MARGARET)


def test_a_first_call_gives_name_time_summary_and_collected_fields() -> None:
    # Given Margaret's first recorded call
    event = transcription()
    # When it is added to an empty brief
    profile = with_call(fresh(), facts_of(event))
    # Then the brief holds ElevenLabs' own summary and title, her collected name and the call time
    assert profile is not None
    assert profile.call_count == 1
    assert profile.name is not None
    assert (profile.name.name, profile.name.source) == ("Margaret", "data_collection")
    started = datetime.fromtimestamp(event.data.metadata.start_time_unix_secs, UTC)
    assert profile.first_call_at == profile.last_call_at == started
    assert profile.agents == (event.data.agent_id,)
    [note] = profile.recent_calls
    assert note.title == "Check-up booked for Biscuit"
    assert note.summary.startswith(event.data.analysis.transcript_summary.strip()[:40])
    assert profile.collected["first_name"].value == "Margaret"


def test_the_callers_timezone_comes_from_the_call_metadata_or_the_system_variable() -> None:
    by_metadata = facts_of(transcription(metadata__timezone="Europe/Paris"))
    by_variable = facts_of(
        transcription(
            conversation_initiation_client_data__dynamic_variables={"system__timezone": "America/Chicago"}
        )
    )
    assert by_metadata.timezone == "Europe/Paris"
    assert by_variable.timezone == "America/Chicago"
    assert facts_of(transcription()).timezone is None


def test_a_name_stated_in_the_call_or_passed_as_a_variable_is_used_when_nothing_was_collected() -> None:
    # Given calls with no data collection: one where the caller says her name, one named by a variable
    stated = transcription(
        analysis__data_collection_results={},
        transcript=[
            {"role": "agent", "message": "Who is calling?"},
            {"role": "user", "message": "My name is Ruth Baker."},
        ],
    )
    variable = transcription(
        analysis__data_collection_results={},
        transcript=[{"role": "user", "message": "Hello there."}],
        conversation_initiation_client_data__dynamic_variables={"caller_name": "Dora"},
    )
    # Then each name carries its source
    assert facts_of(stated).name.model_dump(include={"name", "source"}) == {
        "name": "Ruth Baker",
        "source": "stated_in_call",
    }
    assert facts_of(variable).name.model_dump(include={"name", "source"}) == {
        "name": "Dora",
        "source": "caller_name_variable",
    }


def test_a_newer_name_replaces_an_older_one_which_is_kept_in_the_history() -> None:
    # Given a brief in which the caller was Margaret
    profile = with_call(fresh(), a_call(1, "Margaret"))
    # When a later call says Maggie, and then a late-processed older call says Peggy
    profile = with_call(profile, a_call(5, "Maggie"))
    profile = with_call(profile, a_call(3, "Peggy"))
    # Then Maggie is the name, and both older names are history, newest first
    assert profile.name.name == "Maggie"
    assert [old.name for old in profile.earlier_names] == ["Peggy", "Margaret"]
    assert profile.call_count == 3
    assert profile.first_call_at == START + timedelta(days=1)
    assert profile.last_call_at == START + timedelta(days=5)


def test_the_same_name_again_changes_no_history() -> None:
    profile = with_call(with_call(fresh(), a_call(1, "Margaret")), a_call(2, "Margaret"))
    assert profile.name.conversation_id == "conv_1"
    assert profile.earlier_names == ()


def test_a_replay_or_duplicate_changes_nothing() -> None:
    # Given a brief with one call
    call = facts_of(transcription())
    profile = with_call(fresh(), call)
    # When the same conversation comes again (redelivered, replayed)
    again = with_call(profile, call)
    # Then it is not counted twice
    assert again is None


def test_a_replay_of_a_call_older_than_the_remembered_ids_is_not_counted_either() -> None:
    # Given a caller with 300 calls (more than the brief keeps conversation ids of)
    profile = fresh()
    for number in range(300):
        profile = with_call(profile, a_call(number))
    assert len(profile.conversations) < 300
    # When the very first call is processed again
    # Then it is recognised as already counted
    assert with_call(profile, a_call(0)) is None
    assert profile.call_count == 300


def test_calls_that_started_in_the_same_second_all_count_beyond_the_remembered_ids() -> None:
    # Given 110 calls (more than the brief keeps ids of) that all started in the same second
    calls = [CallFacts(conversation_id=f"conv_{n:03d}", agent_id="agent_a", at=START) for n in range(110)]
    profile = fresh()
    # When they are added one after the other
    for call in calls:
        profile = with_call(profile, call) or profile
    # Then each counts once, and a replay of a call whose id was trimmed still counts nothing
    assert profile.call_count == 110
    assert len(profile.conversations) < 110 and "conv_000" not in profile.conversations
    assert with_call(profile, calls[0]) is None and with_call(profile, calls[-1]) is None


def test_recent_calls_keep_the_newest_summaries_in_order() -> None:
    profile = fresh()
    for number in (3, 1, 12, 7, *range(20, 30)):
        profile = with_call(profile, a_call(number, summary=f"call {number}"))
    assert len(profile.recent_calls) == RECENT_CALLS
    assert [n.summary for n in profile.recent_calls][:3] == ["call 29", "call 28", "call 27"]


def test_the_latest_value_of_each_collected_field_wins() -> None:
    profile = with_call(fresh(), a_call(2, collected={"pet": "Biscuit", "plan": "gold"}))
    profile = with_call(profile, a_call(4, collected={"pet": "Pudding"}))
    profile = with_call(profile, a_call(3, collected={"pet": "Rex", "plan": "silver"}))
    assert {k: v.value for k, v in profile.collected.items()} == {"pet": "Pudding", "plan": "silver"}


def test_the_brief_never_exceeds_the_size_cap_whatever_the_history() -> None:
    # Given 500 calls with long summaries in a four-byte script, many collected fields, many names
    profile = fresh()
    for number in range(500):
        call = a_call(
            number,
            name=f"Name{chr(97 + number % 26)}",
            summary="𝄞" * 600,
            title="𝄞" * 120,
            collected={f"field_{number % 40}": "𝄞" * 200},
        )
        profile = with_call(profile, call)
    # When it is encoded
    body = encode(profile)
    # Then it fits the cap, still counts every call and still has the last call's summary
    assert len(body) <= MAX_PROFILE_BYTES
    stored = decode(body)
    assert stored.call_count == 500
    assert stored.recent_calls[0].conversation_id == "conv_499"
    assert stored.recent_calls[0].summary
    assert stored.name.name == profile.name.name
    # And the trimmed brief still refuses a replay of an old call
    assert with_call(stored, a_call(10)) is None


def test_a_small_brief_is_stored_whole() -> None:
    profile = with_call(fresh(), facts_of(transcription()))
    assert decode(encode(profile)) == profile
    assert json.loads(encode(profile))["caller_id"] == MARGARET


def test_an_unreadable_brief_reads_as_none() -> None:
    assert decode(b"{not json") is None
    assert decode(b'{"caller_id": 5, "call_count": "many"}') is None
