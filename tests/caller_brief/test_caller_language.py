"""The brief keeps the language of the caller's newest call (``metadata.main_language``)."""

import json
from datetime import UTC, datetime, timedelta

from agentic_memory.archive_keys import transcription_key
from agentic_memory.caller_profile import PROFILE_VERSION, CallerProfile, call_facts, decode, with_call
from agentic_memory.elevenlabs.post_call import PostCallTranscription
from agentic_memory.profile_store import read_profile, rebuild_profile, record_call
from devtools.fakes import InMemoryArchive
from devtools.fixtures import load_fixture

LUCIA = "+15550100173"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
START = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def call_in(language: object, day: int) -> PostCallTranscription:
    event = load_fixture("transcription_twilio_inbound")
    data = event["data"]
    data["conversation_id"] = f"conv_lucia_{day:04d}"
    data["metadata"]["start_time_unix_secs"] = int((START + timedelta(days=day)).timestamp())
    data["metadata"]["main_language"] = language
    return PostCallTranscription.model_validate(event)


def brief_after(*events: PostCallTranscription) -> CallerProfile:
    brief = CallerProfile(caller_id=LUCIA)
    for event in events:
        updated = with_call(brief, call_facts(event.data, event.event_timestamp, NOW))
        assert updated is not None
        brief = updated
    return brief


def test_a_call_held_in_spanish_leaves_spanish_in_the_brief() -> None:
    # Given a call ElevenLabs reports as held in Spanish
    event = call_in("es", 1)
    # When it is added to the caller's brief
    brief = brief_after(event)
    # Then the brief keeps the language
    assert brief.language == "es"


def test_the_newest_call_names_the_language_whatever_order_the_calls_come_in() -> None:
    # Given an English call, a Brazilian Portuguese one a week later, and a newer one with no language
    english, portuguese, unreported = call_in("en", 1), call_in("PT-BR", 8), call_in(None, 9)
    # When they are processed in time order, or the newest first and the oldest before the middle one
    in_order = brief_after(english, portuguese, unreported)
    late = brief_after(unreported, english, portuguese)
    # Then the language of the newest call that reported one stands, as a code
    assert in_order.language == late.language == "pt-br"


def test_a_call_without_a_language_keeps_the_one_known() -> None:
    # Given a Spanish call, then one whose language ElevenLabs did not report or reported as nonsense
    brief = brief_after(call_in("es", 1), call_in(None, 2), call_in("español!!", 3))
    # Then the brief still says Spanish
    assert brief.language == "es"


def test_a_brief_written_before_languages_were_kept_still_reads() -> None:
    # Given a version 2 brief, as stored before this version: no language field
    stored = brief_after(call_in("en", 1)).model_dump(mode="json")
    stored.pop("language")
    stored.pop("language_at")
    stored["version"] = 2
    # When it is read
    brief = decode(json.dumps(stored).encode())
    # Then it reads, with no language known, and its next call writes the current version
    assert brief is not None and brief.language is None and brief.call_count == 1
    updated = with_call(brief, call_facts(call_in("es", 2).data, None, NOW))
    assert updated is not None and (updated.version, updated.language) == (PROFILE_VERSION, "es")


def test_a_rebuild_from_the_archive_gives_the_language_processing_gave() -> None:
    # Given calls in three languages, archived and processed out of order
    archive = InMemoryArchive()
    events = [call_in("en", 1), call_in("fr", 4), call_in("es", 9), call_in(None, 12)]
    for event in events:
        key = transcription_key(LUCIA, event.data.conversation_id)
        archive.put(key, event.model_dump_json().encode(), "")
    for event in reversed(events):
        record_call(archive, LUCIA, call_facts(event.data, event.event_timestamp, NOW))
    processed = read_profile(archive, LUCIA)
    # When the brief is rebuilt from the archive
    rebuilt = rebuild_profile(archive, LUCIA, NOW)
    # Then it is the same brief, with the newest known language
    assert processed is not None and rebuilt == processed
    assert rebuilt.language == "es"
