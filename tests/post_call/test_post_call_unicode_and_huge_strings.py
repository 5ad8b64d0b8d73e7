"""Unicode, control characters and huge strings in a signed post-call event: archived, processed and
answered later within the limits; a huge id becomes a short key.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hostile_support import (
    CALLER,
    HOSTILE_SETTINGS,
    MAX_BODY_BYTES,
    Harness,
    fixture,
    json_bytes,
    raw_fixture,
    with_value,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from post_call_support import INBOUND, OTHER, assert_acknowledged_at, assert_kept, expected_key

from agentic_memory.errors import MemoryUnavailable
from agentic_memory.ports import ChatMessage
from devtools.fakes import InMemoryMemoryStore

# --- unicode, control characters and huge strings -------------------------------------------------


def initiation_for(caller: str) -> bytes:
    return json_bytes({"agent_id": "agent_hostile", "caller_id": caller, "call_sid": "CA0123456789"})


@settings(HOSTILE_SETTINGS, max_examples=100)
@given(
    said=st.lists(st.text(min_size=1, max_size=120), min_size=1, max_size=4),
    summary=st.text(max_size=200),
    name=st.text(max_size=30),
)
def test_any_unicode_in_the_transcript_is_archived_processed_and_answered_later(
    said, summary, name, hostile_keys, open_settings
):
    # Given a signed transcription whose words carry NUL, controls, RTL overrides, emoji, lookalikes
    payload = fixture(INBOUND)
    turns = [{"role": "user", "message": text} for text in said]
    payload = with_value(payload, ("data", "transcript"), payload["data"]["transcript"] + turns)
    payload = with_value(payload, ("data", "analysis", "transcript_summary"), summary)
    payload = with_value(
        payload, ("data", "analysis", "data_collection_results", "first_name", "value"), name
    )
    body = json_bytes(payload)
    with Harness(hostile_keys, open_settings) as harness:
        # When it is delivered and processed
        exchange = harness.post_call(body)
        assert_acknowledged_at(exchange, expected_key(payload))
        assert harness.archive.get(exchange.written[0]) == body
        assert harness.process(exchange.written[0]) == {"batchItemFailures": []}
        # Then the next pre-call and a search of that caller are answered (the harness checks the bodies)
        initiation = harness.conversation_initiation(initiation_for(CALLER))
        found = harness.search_memory_post(json_bytes({"query": said[0], "user_id": CALLER}))
    assert initiation.status == 200
    assert all(isinstance(v, str) for v in initiation.answer["dynamic_variables"].values())
    assert found.status == 200


def test_a_5_mb_utterance_is_archived_processed_and_answered_within_the_limits(hostile_keys, open_settings):
    payload = fixture(INBOUND)
    long_turn = {"role": "user", "message": "Biscuit " * (5 * 1024 * 1024 // 8)}
    payload = with_value(payload, ("data", "transcript"), payload["data"]["transcript"] + [long_turn])
    body = json_bytes(payload)
    assert len(body) < MAX_BODY_BYTES
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body)
        assert_acknowledged_at(exchange, expected_key(payload))
        assert harness.process(exchange.written[0]) == {"batchItemFailures": []}
        initiation = harness.conversation_initiation(initiation_for(CALLER))
        found = harness.search_memory_get({"query": "Biscuit", "user_id": CALLER})
    assert initiation.status == 200
    assert len(initiation.answer["dynamic_variables"]["memory_context"]) <= 1500
    assert found.status == 200


@pytest.mark.parametrize("answer", ["pre-call", "retrieve"])
def test_a_lone_surrogate_in_a_transcript_never_makes_a_later_answer_unencodable(
    answer, hostile_keys, open_settings
):
    # An escaped lone surrogate is valid JSON but not valid Unicode: stored as it is, it would make every
    # later answer for the caller impossible to encode as UTF-8 (the local server would drop the connection).
    body = raw_fixture(INBOUND).replace(
        b"Just his yearly vaccinations.", b"Just his yearly vaccinations \\ud800."
    )
    assert b"\\ud800" in body
    with Harness(hostile_keys, open_settings) as harness:
        exchange = harness.post_call(body)
        if exchange.status == 200:
            harness.process(exchange.written[0])
        # The harness fails any answer whose body cannot be encoded as UTF-8.
        if answer == "pre-call":
            later = harness.conversation_initiation(initiation_for(CALLER))
        else:
            later = harness.search_memory_post(
                json_bytes({"query": "yearly vaccinations", "user_id": CALLER})
            )
    assert later.status == 200


class StoreRefusingInvalidUnicode(InMemoryMemoryStore):
    """Adds messages one at a time, as Mem0 does with ``infer=False``, and refuses a text that is not valid
    Unicode as the embedded engine does (its tokenizer raises TypeError, reported as MemoryUnavailable)."""

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        ids = []
        for message in messages:
            try:
                message.content.encode("utf-8")
            except UnicodeEncodeError as error:
                raise MemoryUnavailable(f"could not add memories: {type(error).__name__}") from error
            ids += super().add(user_id, [message], metadata)
        return ids


def test_a_turn_the_memory_store_refuses_does_not_cost_the_other_turns(hostile_keys, open_settings):
    # Given a signed transcription whose second caller turn carries an escaped lone surrogate
    body = raw_fixture(INBOUND).replace(
        b"Just his yearly vaccinations.", b"Just his yearly vaccinations \\ud800."
    )
    store = StoreRefusingInvalidUnicode()
    with Harness(hostile_keys, open_settings, store) as harness:
        exchange = harness.post_call(body)
        if exchange.status == 400:
            return  # refused at the door: nothing can be half stored
        # When processing fails on that turn and the queue retries
        harness.process(exchange.written[0])
        retry = harness.process(exchange.written[0])
    # Then the retry fails again (so the event ends in the dead-letter queue) or the later turns are
    # stored (within a passage of question-and-answer exchanges, since transcripts are kept as passages)
    stored = [memory.text for memory in store.list_all(CALLER)]
    later_turn = "Caller: Thursday at ten is perfect. Thank you, dear."
    assert retry["batchItemFailures"] or any(later_turn in text for text in stored)


def test_a_huge_user_id_in_a_transcription_is_hashed_into_a_short_key(hostile_keys, open_settings):
    # Found here: the detail echoed a starred copy of the whole id, as large as the request.
    # Given a signed transcription of exactly the size limit, nearly all of it a user_id of letters
    minimal = {
        "type": "post_call_transcription",
        "data": {"agent_id": "a", "conversation_id": "c", "user_id": ""},
    }
    compact = {"separators": (",", ":")}
    filler = MAX_BODY_BYTES - len(json.dumps(minimal, **compact))
    body = json.dumps(with_value(minimal, ("data", "user_id"), "u" * filler), **compact).encode()
    assert len(body) == MAX_BODY_BYTES
    with Harness(hostile_keys, open_settings) as harness:
        key = assert_kept(harness.post_call(body), "post-call/sha_")
    assert len(key) < 100


def test_a_huge_conversation_id_is_kept_under_other_with_a_short_key(hostile_keys, open_settings):
    payload = with_value(fixture(INBOUND), ("data", "conversation_id"), "c" * (5 * 1024 * 1024))
    with Harness(hostile_keys, open_settings) as harness:
        key = assert_kept(harness.post_call(json_bytes(payload)), OTHER)
    assert len(key) < 200
