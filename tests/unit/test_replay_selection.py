"""``replay --caller`` covers everything archived for the caller, and ``--since/--until`` filter on the
time ``--by`` names: the call's own start or when the archive stored the event (issue 12 item 2)."""

import json
import os
from datetime import UTC, datetime

import pytest

from agentic_memory import archive_keys
from agentic_memory.settings import Settings
from local_runtime import operations
from local_runtime.adapters.filesystem_archive import FilesystemArchive

CALLER, OTHER = "+15550100142", "+15550100199"
AGENT = "agent_7f3c"
CALL_STARTED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ARCHIVED = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def transcription(conversation_id: str, caller: str | None, call_sid: str, started: datetime) -> bytes:
    phone = {"external_number": caller, "call_sid": call_sid} if caller else {"call_sid": call_sid}
    event = {
        "type": "post_call_transcription",
        "event_timestamp": int(started.timestamp()) + 600,
        "data": {
            "agent_id": AGENT,
            "conversation_id": conversation_id,
            "transcript": [{"role": "user", "message": "Hello, it's Margaret."}],
            "metadata": {"start_time_unix_secs": int(started.timestamp()), "phone_call": phone},
        },
    }
    return json.dumps(event).encode()


@pytest.fixture
def archive(tmp_path):
    archive = FilesystemArchive(tmp_path / "archive")
    # The caller's call, its audio and an oversized-audio record; another caller's call
    archive.put(
        archive_keys.transcription_key(CALLER, "conv_own"),
        transcription("conv_own", CALLER, "CA1", CALL_STARTED),
        "application/json",
    )
    archive.put(
        archive_keys.audio_event_key(AGENT, "conv_own"), b'{"type": "post_call_audio"}', "application/json"
    )
    archive.put(archive_keys.oversized_audio_key(AGENT, "conv_own"), b"{}", "application/json")
    archive.put(
        archive_keys.transcription_key(OTHER, "conv_other"),
        transcription("conv_other", OTHER, "CA9", CALL_STARTED),
        "application/json",
    )
    # A call whose transcription named nobody, but whose pre-call exchange was the caller's (call sid CA2)
    archive.put(f"client-data/{CALLER}/20260302T090000000Z_CA2/request.json", b"{}", "application/json")
    archive.put(
        archive_keys.unattributed_transcription_key("conv_sid"),
        transcription("conv_sid", None, "CA2", CALL_STARTED),
        "application/json",
    )
    # And one that is nobody's we know
    archive.put(
        archive_keys.unattributed_transcription_key("conv_unknown"),
        transcription("conv_unknown", None, "CA3", CALL_STARTED),
        "application/json",
    )
    return archive


def test_a_callers_replay_covers_their_calls_audio_and_unattributed_calls_they_made(archive):
    # When the events of the caller are selected
    keys = list(operations.event_keys(archive, CALLER, settings=Settings.from_environment({})))
    # Then their transcription, its audio and oversized-audio events and the unattributed call with the
    # call sid of their pre-call are included, and nobody else's
    assert keys == [
        f"post-call/{CALLER}/conv_own.json",
        f"post-call/audio-only/{AGENT}/conv_own.json",
        f"post-call/oversized-audio/{AGENT}/conv_own.json",
        "post-call/unattributed/conv_sid.json",
    ]


def test_replaying_for_the_caller_moves_their_unattributed_call_to_them(archive):
    settings = Settings.from_environment({})
    # When the unattributed call found by its call sid is attributed with the caller as its owner
    moved = operations.attribute("post-call/unattributed/conv_sid.json", settings, archive, owner=CALLER)
    # Then it is under the caller now, byte for byte, and no longer unattributed
    assert moved == f"post-call/{CALLER}/conv_sid.json"
    assert json.loads(archive.get(moved))["data"]["conversation_id"] == "conv_sid"
    assert not archive.exists("post-call/unattributed/conv_sid.json")
    # And one nobody owns stays where it is
    assert operations.attribute("post-call/unattributed/conv_unknown.json", settings, archive) == (
        "post-call/unattributed/conv_unknown.json"
    )


def test_since_and_until_filter_on_the_call_or_on_when_it_was_archived(archive):
    key = f"post-call/{CALLER}/conv_own.json"
    os.utime(archive.root / key, (ARCHIVED.timestamp(), ARCHIVED.timestamp()))
    day_of_call = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
    day_archived = (datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC))
    by_call = set(operations.event_keys(archive, None, None, *day_of_call, by="call"))
    by_archive = set(operations.event_keys(archive, None, None, *day_archived, by="archived"))
    # Then --by call finds the call on the day it took place, --by archived on the day it was stored
    assert key in by_call
    assert key in by_archive
    assert key not in set(operations.event_keys(archive, None, None, *day_archived, by="call"))
    assert key not in set(operations.event_keys(archive, None, None, *day_of_call, by="archived"))
