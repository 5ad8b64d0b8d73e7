"""Mem0 Platform does what it is for: the transcript is added with inference, once per conversation.

Given a ten-minute, 120-turn call processed against the emulator (whose extraction is a documented
stand-in for Mem0's LLM), the transcript goes out in one add with ``infer: true`` (agent turns as
``assistant``) and the factual summary in one with ``infer: false``; a re-processing or a duplicate
adds nothing, even while the first add is still ``PENDING``; and the call leaves at most 20 memories.
"""

import pytest
from long_calls import CALLER, archive_long_call, long_call_payload
from platform_support import calls_to

from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
from agentic_memory.memory_adds import receipt_key
from agentic_memory.memory_building import MAX_MEMORIES_PER_CALL
from agentic_memory.ports import ChatMessage
from agentic_memory.post_call import process_archived_event
from agentic_memory.settings import ProcessorSettings
from devtools.fakes import InMemoryArchive
from devtools.mem0_emulator import Mem0Emulator

CONVERSATION = "conv_long_call_0001"
SETTINGS = ProcessorSettings()


@pytest.fixture
def archive() -> InMemoryArchive:
    return InMemoryArchive()


def test_the_transcript_is_added_with_inference_and_the_summary_verbatim(
    store: Mem0PlatformStore, emulator: Mem0Emulator, archive: InMemoryArchive
):
    # Given a long call in the archive
    key = archive_long_call(archive, CONVERSATION)
    # When it is processed
    result = process_archived_event(key, SETTINGS, archive, store)
    # Then two adds went out: the summary verbatim, the transcript for Mem0 to extract from
    factual, transcript = (request.body for request in calls_to(emulator, "add"))
    assert (factual["infer"], transcript["infer"]) == (False, True)
    turns = long_call_payload(CONVERSATION)["data"]["transcript"]
    assert transcript["messages"] == [
        {"role": "assistant" if turn["role"] == "agent" else "user", "content": turn["message"]}
        for turn in turns
    ]
    assert transcript["user_id"] == CALLER
    assert transcript["metadata"] == {
        "type": "semantic",
        "elevenlabs_agent_id": "agent_2401kn076can47sp0fftkzytzrjx",
        "conversation_id": CONVERSATION,
        "timestamp": "2025-11-18T15:04:12+00:00",
        "timezone": "UTC",
        "call_duration_seconds": 600,
    }
    # And the receipt of the accepted add is in the archive
    assert (result.memories_added, result.pending_adds) == (1, 1)
    assert archive.exists(receipt_key(CALLER, CONVERSATION, "semantic"))


def test_a_ten_minute_call_leaves_at_most_twenty_memories_each_with_the_call_metadata(
    store: Mem0PlatformStore, emulator: Mem0Emulator, archive: InMemoryArchive
):
    process_archived_event(archive_long_call(archive, CONVERSATION), SETTINGS, archive, store)
    stored = store.list_all(CALLER)
    assert len(stored) <= MAX_MEMORIES_PER_CALL
    assert len(stored) == 11  # the summary and the stand-in's ten facts (121 when stored line by line)
    assert {record.metadata["conversation_id"] for record in stored} == {CONVERSATION}
    assert sum(record.metadata["type"] == "semantic" for record in stored) == 10


def test_reprocessing_while_the_add_is_pending_adds_nothing(
    store: Mem0PlatformStore, emulator: Mem0Emulator, archive: InMemoryArchive
):
    # Given Mem0 that takes a while to extract
    emulator.configure(extraction_seconds=3600)
    key = archive_long_call(archive, CONVERSATION)
    first = process_archived_event(key, SETTINGS, archive, store)
    assert first.pending_adds == 1
    assert [m.metadata["type"] for m in store.list_all(CALLER)] == ["factual"]
    # When the event is processed again (a redelivery, a replay) while the add is still PENDING
    again = process_archived_event(key, SETTINGS, archive, store)
    # Then nothing more is added
    assert again.skipped == "already_processed"
    assert len(calls_to(emulator, "add")) == 2
    # And once Mem0 has extracted, a further replay adds nothing either
    assert emulator.settle() == 1
    count = len(store.list_all(CALLER))
    assert process_archived_event(key, SETTINGS, archive, store).skipped == "already_processed"
    assert len(store.list_all(CALLER)) == count
    assert len(calls_to(emulator, "add")) == 2


def test_extracted_memories_count_as_the_add_when_the_receipt_is_missing(
    store: Mem0PlatformStore, emulator: Mem0Emulator, archive: InMemoryArchive
):
    # Given a call processed (and extracted) whose receipt was lost, e.g. archived before receipts
    key = archive_long_call(archive, CONVERSATION)
    process_archived_event(key, SETTINGS, archive, store)
    archive.delete(receipt_key(CALLER, CONVERSATION, "semantic"))
    # When it is processed again
    result = process_archived_event(key, SETTINGS, archive, store)
    # Then the extracted memories, which carry the conversation's metadata, say it was added
    assert result.skipped == "already_processed"
    assert len(calls_to(emulator, "add")) == 2


def test_the_emulator_reports_a_pending_add_and_then_what_it_extracted(
    store: Mem0PlatformStore, emulator: Mem0Emulator
):
    emulator.configure(extraction_seconds=3600)
    added = store.add_inferred(
        CALLER,
        [
            ChatMessage(role="assistant", content="What is your dog called?"),
            ChatMessage(role="user", content="My dog is called Biscuit. Yes."),
        ],
        {"type": "semantic", "conversation_id": "conv_1"},
    )
    assert added.ids == () and added.event_id
    assert emulator.state.event(added.event_id)["status"] == "PENDING"
    assert store.list_all(CALLER) == []
    emulator.settle()
    assert emulator.state.event(added.event_id)["status"] == "SUCCEEDED"
    (fact,) = store.list_all(CALLER)
    assert (fact.text, fact.metadata["conversation_id"]) == ("My dog is called Biscuit.", "conv_1")
