"""The brief carries the whole relationship, bounded: the first calls, the recent ones, the calls
between by title, each collected value with what it replaced and when; whatever the order calls are
processed in, rebuilt or not; under the byte cap for 1, 30 or 500 calls; briefs of version 1 still read."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from agentic_memory.archive_keys import transcription_key
from agentic_memory.caller_profile import (
    BETWEEN_CALLS,
    EARLIER_VALUES,
    FIRST_CALLS,
    MAX_PROFILE_BYTES,
    NOTE_MAX_CHARS,
    PROFILE_VERSION,
    RECENT_CALLS,
    SUMMARY_MAX_CHARS,
    CallerProfile,
    CallFacts,
    Scalar,
    call_facts,
    clip_at_word,
    decode,
    encode,
    same_value,
    with_call,
)
from agentic_memory.elevenlabs.post_call import PostCallTranscription
from agentic_memory.profile_store import read_profile, rebuild_profile, record_call
from devtools.fakes import InMemoryArchive
from devtools.fixtures import load_fixture

MARGARET = "+15550100142"
START = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2027, 1, 1, tzinfo=UTC)
# A conversation id as long as ElevenLabs' (conv_ and 28 characters).
LONG_ID = "conv_{:04d}k2386v16a5y8t13xvgxmr"
WORDS = (
    "the caller asked about the vaccination schedule for her dog Biscuit and booked a follow-up",
    "appointment for next week while mentioning the new diet and a slight limp in the left hind leg",
)


def summary_of(number: int, chars: int = SUMMARY_MAX_CHARS) -> str:
    """A summary as long as ElevenLabs writes them, different for each call."""
    pick = random.Random(number)
    words: list[str] = []
    vocabulary = " ".join(WORDS).split()
    while len(" ".join(words)) < chars:
        words.append(pick.choice(vocabulary))
    return " ".join(words)[:chars]


def pet_in_call(number: int) -> str:
    # Contiguous runs, as a pet's name changes in life: Biscuit, then Pudding, then Rex.
    return ("Biscuit", "Pudding", "Rex")[min(number // 10, 2)]


def a_call(number: int, **collected: Scalar) -> CallFacts:
    return CallFacts(
        conversation_id=LONG_ID.format(number),
        agent_id="agent_2401kn076can47sp0fftkzytzrjx",
        at=START + timedelta(days=number),
        title=f"Visit {number}: vaccination and diet",
        summary=summary_of(number),
        collected={"pet_name": pet_in_call(number), "plan": "gold", **collected},
    )


def brief_of(calls: list[CallFacts]) -> CallerProfile:
    profile = CallerProfile(caller_id=MARGARET)
    for call in calls:
        profile = with_call(profile, call) or profile
    return profile


def test_thirty_calls_keep_the_first_the_recent_and_the_ones_between_by_title() -> None:
    # Given thirty calls
    calls = [a_call(n) for n in range(30)]
    # When they are folded into a brief
    brief = brief_of(calls)
    # Then it holds the first calls and the newest ones with their summaries, and every other call
    # by its date and title
    assert brief.call_count == 30
    assert [note.conversation_id for note in brief.first_calls] == [
        LONG_ID.format(n) for n in range(FIRST_CALLS)
    ]
    assert [note.conversation_id for note in brief.recent_calls] == [
        LONG_ID.format(n) for n in range(29, 29 - RECENT_CALLS, -1)
    ]
    between = range(29 - RECENT_CALLS, FIRST_CALLS - 1, -1)
    assert [(call.at, call.title) for call in brief.between_calls] == [
        (calls[n].at, calls[n].title) for n in between
    ]
    assert len(brief.between_calls) == 30 - RECENT_CALLS - FIRST_CALLS <= BETWEEN_CALLS
    # And the two newest summaries are whole, the others cut at a word to a line's worth
    assert [note.summary for note in brief.recent_calls[:2]] == [calls[29].summary, calls[28].summary]
    for note in (*brief.recent_calls[2:], *brief.first_calls):
        assert len(note.summary) <= NOTE_MAX_CHARS and note.summary.endswith("…")
        assert calls[int(note.conversation_id[5:9])].summary.startswith(note.summary[:-1] + " ")


def test_the_brief_is_the_same_whatever_order_the_calls_are_processed_in() -> None:
    # Given forty calls in which the pet's name changed twice
    calls = [a_call(n) for n in range(40)]
    in_order = brief_of(calls)
    # When they are processed in a shuffled order (late deliveries, parallel queues)
    shuffled = calls.copy()
    random.Random(7).shuffle(shuffled)
    # Then the brief is the one that processing them in order made
    assert brief_of(shuffled) == in_order


def test_a_rebuild_from_the_archive_makes_the_brief_that_processing_made() -> None:
    # Given thirty archived transcriptions of one caller, processed out of order as they came
    archive = InMemoryArchive()
    events = [transcription(n) for n in range(30)]
    for event in events:
        archive.put(
            transcription_key(MARGARET, event.data.conversation_id), event.model_dump_json().encode(), ""
        )
    for event in random.Random(3).sample(events, len(events)):
        record_call(archive, MARGARET, call_facts(event.data, event.event_timestamp, NOW))
    processed = read_profile(archive, MARGARET)
    # When the brief is rebuilt from the archive
    rebuilt = rebuild_profile(archive, MARGARET, NOW)
    # Then it is the same brief, first calls, calls between and value history included
    assert processed is not None and rebuilt == processed
    assert rebuilt.call_count == 30 and rebuilt.first_calls and rebuilt.between_calls
    assert [old.value for old in rebuilt.collected["pet_name"].earlier] == ["Pudding", "Biscuit"]


def transcription(number: int) -> PostCallTranscription:
    event = load_fixture("transcription_twilio_inbound")
    data = event["data"]
    data["conversation_id"] = LONG_ID.format(number)
    data["metadata"]["start_time_unix_secs"] = int((START + timedelta(days=number)).timestamp())
    data["analysis"]["transcript_summary"] = summary_of(number)
    data["analysis"]["call_summary_title"] = f"Visit {number}"
    data["analysis"]["data_collection_results"]["pet_name"] = {
        "data_collection_id": "pet_name",
        "value": pet_in_call(number),
    }
    return PostCallTranscription.model_validate(event)


def test_a_changed_value_supersedes_the_old_one_which_is_kept_with_when_it_held() -> None:
    # Given calls that gave the pet's name as Biscuit twice, then Pudding
    brief = brief_of([a_call(1), a_call(2)])
    brief = with_call(brief, a_call(3, pet_name="Pudding"))
    # Then Pudding is the value since that call, and Biscuit is history with its first and last call
    pet = brief.collected["pet_name"]
    assert (pet.value, pet.since, pet.at) == ("Pudding", START + timedelta(days=3), START + timedelta(days=3))
    assert [(old.value, old.since, old.at) for old in pet.earlier] == [
        ("Biscuit", START + timedelta(days=1), START + timedelta(days=2))
    ]
    # And a value that never changed has no history
    assert brief.collected["plan"].earlier == ()
    assert brief.collected["plan"].since == START + timedelta(days=1)


def test_the_same_value_in_other_case_or_spacing_is_no_change_and_the_newest_wording_stays() -> None:
    brief = brief_of([a_call(1, plan="gold"), a_call(2, plan=" Gold "), a_call(3, plan="GOLD  plan")])

    plan = brief.collected["plan"]
    assert (plan.value, plan.since) == ("GOLD  plan", START + timedelta(days=3))
    assert [old.value for old in plan.earlier] == [" Gold "]


def test_a_late_call_takes_its_place_in_the_history_not_the_current_value() -> None:
    # Given Biscuit on day 1 and Rex on day 5
    brief = brief_of([a_call(1, pet_name="Biscuit"), a_call(5, pet_name="Rex")])
    # When a call of day 3 that said Pudding is processed last
    brief = with_call(brief, a_call(3, pet_name="Pudding"))
    # Then Rex is still the value, and Pudding sits between Rex and Biscuit
    pet = brief.collected["pet_name"]
    assert pet.value == "Rex" and pet.conversation_id == LONG_ID.format(5)
    assert [old.value for old in pet.earlier] == ["Pudding", "Biscuit"]


def test_a_fields_history_is_bounded() -> None:
    brief = brief_of([a_call(n, pet_name=f"Pet{chr(65 + n)}") for n in range(12)])

    pet = brief.collected["pet_name"]
    assert pet.value == "PetL"
    assert [old.value for old in pet.earlier] == ["PetK", "PetJ", "PetI"][:EARLIER_VALUES]


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [("Gold", "gold ", True), ("gold", "silver", False), (2, 2.0, True), (True, 1, False), ("1", 1, False)],
)
def test_values_are_the_same_by_what_they_say(one: Scalar, other: Scalar, same: bool) -> None:
    assert same_value(one, other) is same


@pytest.mark.parametrize("calls", [1, 30, 500])
def test_the_encoded_brief_stays_under_the_cap_and_flat_in_the_history(calls: int) -> None:
    # Given a caller with 1, 30 or 500 calls with full-length summaries and six collected fields,
    # three of which change every few calls
    history = [
        a_call(n, day=("Mon", "Tue", "Fri")[n % 3], weight_kg=12 + n % 5, insured=n % 2 == 0)
        for n in range(calls)
    ]
    # When the brief is encoded
    body = encode(brief_of(history))
    # Then it is under the cap without trimming (English text), and no larger at 500 calls than the
    # bounds allow: 10 recent, 2 first and 24 calls between, 50 conversation ids
    assert len(body) <= MAX_PROFILE_BYTES
    stored = decode(body)
    assert stored is not None and stored == brief_of(history)
    assert len(stored.recent_calls) == min(calls, RECENT_CALLS)
    assert len(stored.between_calls) == min(max(calls - RECENT_CALLS - FIRST_CALLS, 0), BETWEEN_CALLS)


def test_trimmed_to_the_cap_a_brief_keeps_its_first_call_and_its_newest_calls() -> None:
    # Given 500 calls whose summaries and titles are in a four-byte script
    history = [
        a_call(n).model_copy(update={"summary": "𝄞" * SUMMARY_MAX_CHARS, "title": "𝄞" * 120})
        for n in range(500)
    ]
    # When the brief is encoded
    stored = decode(encode(brief_of(history)))
    # Then it fits, and still has the very first call and at least three recent ones
    assert stored is not None and len(encode(stored)) <= MAX_PROFILE_BYTES
    assert stored.first_calls[0].conversation_id == LONG_ID.format(0)
    assert [note.conversation_id for note in stored.recent_calls[:3]] == [
        LONG_ID.format(n) for n in (499, 498, 497)
    ]
    assert stored.call_count == 500


# A brief as version 1 stored it: twelve calls, the last ten kept, the latest value of each field.
VERSION_1_BRIEF = json.dumps(
    {
        "version": 1,
        "caller_id": MARGARET,
        "name": {
            "name": "Margaret",
            "source": "data_collection",
            "at": "2025-06-01T09:00:00Z",
            "conversation_id": "conv_00",
        },
        "earlier_names": [],
        "call_count": 12,
        "first_call_at": "2025-06-01T09:00:00Z",
        "last_call_at": "2025-06-12T09:00:00Z",
        "timezone": None,
        "agents": ["agent_a"],
        "recent_calls": [
            {
                "conversation_id": f"conv_{n:02d}",
                "at": f"2025-06-{n + 1:02d}T09:00:00Z",
                "agent_id": "agent_a",
                "title": f"Visit {n}",
                "summary": f"Call {n} about Biscuit.",
            }
            for n in range(11, 1, -1)
        ],
        "collected": {
            "pet_name": {"value": "Pudding", "at": "2025-06-12T09:00:00Z", "conversation_id": "conv_11"}
        },
        "conversations": {f"conv_{n:02d}": 1748768400 + n * 86400 for n in range(12)},
        "counted_through": None,
        "counted_through_id": "",
    }
).encode()


def test_a_version_1_brief_reads_and_is_written_as_the_current_version_at_its_next_call() -> None:
    # Given a brief stored by version 1
    stored = decode(VERSION_1_BRIEF)
    assert stored is not None
    assert (stored.call_count, len(stored.recent_calls), stored.first_calls, stored.between_calls) == (
        12,
        10,
        (),
        (),
    )
    assert stored.collected["pet_name"].since is None
    # When a call that changes the pet's name comes
    later = CallFacts(
        conversation_id="conv_12",
        agent_id="agent_a",
        at=datetime(2025, 6, 13, 9, tzinfo=UTC),
        summary="Call 12.",
        collected={"pet_name": "Rex"},
    )
    updated = with_call(stored, later)
    # Then the brief is of the current version, the call that left the recent ones is the earliest
    # kept, and Pudding is history (its first call not known: the one version 1 kept)
    assert updated is not None and updated.version == PROFILE_VERSION
    assert [note.conversation_id for note in updated.first_calls] == ["conv_02"]
    pet = updated.collected["pet_name"]
    assert (pet.value, pet.since) == ("Rex", later.at)
    assert [(old.value, old.since, old.at) for old in pet.earlier] == [
        ("Pudding", datetime(2025, 6, 12, 9, tzinfo=UTC), datetime(2025, 6, 12, 9, tzinfo=UTC))
    ]
    # And a replay of a call version 1 counted is still refused
    assert with_call(updated, CallFacts(conversation_id="conv_03", agent_id="agent_a", at=START)) is None


@pytest.mark.parametrize(
    ("text", "limit", "clipped"),
    [
        ("Booked a check-up for Biscuit.", 40, "Booked a check-up for Biscuit."),
        ("Booked a check-up for Biscuit on Thursday.", 30, "Booked a check-up for…"),
        ("Booked, then cancelled, then booked again.", 20, "Booked, then…"),
        ("李" * 50, 10, "李" * 9 + "…"),
    ],
)
def test_text_is_clipped_after_the_last_whole_word(text: str, limit: int, clipped: str) -> None:
    assert clip_at_word(text, limit) == clipped
    assert len(clip_at_word(text, limit)) <= limit
