"""The recall index: passages at any call length, updates that never lose a call, rebuild, erasure, dates."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from agentic_memory import archive_keys
from agentic_memory.elevenlabs.post_call import PostCallTranscription, TranscriptionData
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from agentic_memory.ports import MemoryRecord
from agentic_memory.recall import store
from agentic_memory.recall.answer import answer, call_date
from agentic_memory.recall.calls import indexed_call
from agentic_memory.recall.index import IndexedCall, RecallIndex
from agentic_memory.recall.passages import (
    PASSAGE_MAX_CHARS,
    SHORT_TURN_CHARS,
    Segment,
    Turn,
    passage_text,
    passage_windows,
    segments_of,
)
from agentic_memory.retention import purge_expired
from agentic_memory.search_memory import SearchOptions, search_memories
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import load_fixture
from local_runtime import operations

CALLER = "+15550100142"
AGENT = "agent_a"


def call(conversation_id: str, turns: list[Turn], started: datetime, zone: str = "UTC") -> IndexedCall:
    return IndexedCall(conversation_id, started, zone, AGENT, tuple(segments_of(turns)), "", 3600)


def eighty_minute_memoir(facts: dict[int, str]) -> list[Turn]:
    """About 80 minutes of talk (~12,000 words): 400 exchanges, with ``facts`` said at given exchanges."""
    turns: list[Turn] = []
    for n in range(400):
        turns.append(Turn("Agent", f"And what happened after that, in the year after part {n}?"))
        answer_text = facts.get(
            n, f"Well, we carried on much as before, working and visiting family {n}. " * 4
        )
        turns.append(Turn("Caller", answer_text))
    return turns


def transcription(conversation_id: str, started: datetime, zone: str | None = None) -> TranscriptionData:
    payload = load_fixture("transcription_twilio_inbound")
    data = payload["data"]
    data["conversation_id"] = conversation_id
    data["metadata"]["start_time_unix_secs"] = int(started.timestamp())
    if zone:
        data["metadata"]["timezone"] = zone
    return PostCallTranscription.model_validate(payload).data


def archive_transcription(archive: InMemoryArchive, data: TranscriptionData) -> None:
    payload = load_fixture("transcription_twilio_inbound")
    payload["data"] = data.model_dump(mode="json", exclude_none=True)
    event = PostCallTranscription.model_validate(payload)
    archive.put(
        archive_keys.transcription_key(CALLER, data.conversation_id),
        event.model_dump_json(exclude_none=True).encode(),
        "application/json",
    )


# ---- passages ----


@pytest.mark.parametrize("exchanges", [1, 3, 60, 400, 2_000])
def test_passages_cover_every_turn_at_any_call_length_within_the_embedders_window(exchanges: int) -> None:
    # Given a call of any length, with long monologues and short sign-offs
    turns = []
    for n in range(exchanges):
        turns.append(Turn("Agent", f"Question {n}?"))
        turns.append(Turn("Caller", f"Answer {n}. " + ("It went on and on. " * (n % 50))))
    turns.append(Turn("Caller", "Bye!"))
    segments = segments_of(turns)
    # When it is cut into passages
    windows = passage_windows(segments)
    texts = [passage_text(segments[first : last + 1]) for first, last in windows]
    # Then every segment is in a passage, every passage fits the window and names who spoke
    covered = {i for first, last in windows for i in range(first, last + 1)}
    assert covered == set(range(len(segments)))
    assert all(len(text) <= PASSAGE_MAX_CHARS for text in texts)
    assert all(line.startswith(("Agent: ", "Caller: ")) for text in texts for line in text.splitlines())
    # And no passage is a short turn alone (the sign-off rides with what came before)
    assert not any(first == last and len(segments[first].text) < SHORT_TURN_CHARS for first, last in windows)


def test_a_question_and_its_answer_share_a_passage() -> None:
    # Given exchanges whose answers are long enough that a window holds about two of them
    turns = []
    for n in range(20):
        turns += [Turn("Agent", f"What about topic {n}?"), Turn("Caller", f"Topic {n} was lovely. " * 12)]
    segments = segments_of(turns)
    # When it is cut into passages
    windows = passage_windows(segments)
    # Then every question is in a passage together with the answer that follows it
    for question in range(0, len(segments), 2):
        assert any(first <= question and question + 1 <= last for first, last in windows), question


# ---- the index and its answers ----


def test_every_fact_of_an_eighty_minute_call_is_found_and_dated() -> None:
    # Given an 80-minute memoir call with facts at its beginning, middle and end
    facts = {
        3: "Our first dog was a scruffy terrier called Rex, he slept by the stove.",
        150: "I met Harold at the Palais dance hall in Blackpool in the spring.",
        260: "The ambulance took me to the ER at St James's after I fell off the ladder.",
        397: "My first wage packet came from the Rowntree factory, packing chocolate.",
    }
    index = RecallIndex.load(None)
    started = datetime(2023, 5, 8, 23, 30, tzinfo=UTC)
    index.add_call(call("conv_memoir", eighty_minute_memoir(facts), started, "America/Chicago"))
    questions = {
        3: "what was the name of your dog",
        150: "where did you meet Harold",
        260: "when were you in the ER",
        397: "where was your first wage from",
    }
    for position, question in questions.items():
        # When the agent asks about it
        memories = answer(index, question, None, max_chars=2_800)
        # Then the fact comes back within the answer's size, dated on the caller's calendar
        assert any(facts[position] in memory for memory in memories), question
        assert sum(map(len, memories)) <= 2_800
        assert all(memory.startswith("[8 May 2023] ") for memory in memories)


def test_the_answer_is_best_first_even_when_the_best_is_late_in_a_call() -> None:
    # Given one long call whose only mention of Tobermory is near its end
    facts = {380: "In August I am going to Tobermory on the Isle of Mull, to Heather Lodge."}
    index = RecallIndex.load(None)
    index.add_call(call("conv_long", eighty_minute_memoir(facts), datetime(2024, 6, 1, tzinfo=UTC)))
    # When the agent asks about it
    memories = answer(index, "where are you going on holiday to Tobermory", None, max_chars=2_800)
    # Then the best match is the first memory, so a count limit never cuts it off
    assert facts[380] in memories[0]


def test_the_date_is_the_callers_day_not_utcs() -> None:
    # Given a call at 23:30 UTC on 8 May, in Los Angeles, and one in Tokyo
    moment = datetime(2023, 5, 8, 23, 30, tzinfo=UTC)
    # Then each is dated on its caller's calendar
    assert call_date(moment, "America/Los_Angeles") == "8 May 2023"
    assert call_date(moment, "Asia/Tokyo") == "9 May 2023"
    assert call_date(moment, "UTC") == "8 May 2023"


def test_a_summary_never_crowds_out_what_was_said() -> None:
    # Given three calls whose summaries all mention the dog, and one call where the caller named it
    index = RecallIndex.load(None)
    for n in range(3):
        summary_call = IndexedCall(
            f"conv_{n}",
            datetime(2024, 1, n + 1, tzinfo=UTC),
            "UTC",
            AGENT,
            tuple(segments_of([Turn("Caller", f"We talked about the weather on day {n}.")])),
            f"The caller talked about the dog and the garden on day {n}.",
        )
        index.add_call(summary_call)
    told = [Turn("Agent", "Tell me about your dog."), Turn("Caller", "The dog is called Biscuit, a spaniel.")]
    index.add_call(call("conv_said", told, datetime(2024, 2, 1, tzinfo=UTC)))
    # When the agent asks about the dog
    memories = answer(index, "tell me about the dog", None, max_chars=2_800)
    # Then what was said comes back, and at most one summary
    assert any("Biscuit" in memory for memory in memories)
    assert sum("Summary of the call" in memory for memory in memories) <= 1


def test_semantic_results_of_the_same_passage_fuse_and_facts_come_dated() -> None:
    # Given an indexed call, and a store that answers one of its passages and an extracted fact
    index = RecallIndex.load(None)
    turns = [
        Turn("Agent", "How did you spend your Sundays?"),
        Turn("Caller", "Walking on the moors above Haworth."),
    ]
    index.add_call(call("conv_a", turns, datetime(2024, 3, 3, tzinfo=UTC)))
    passage = passage_text(segments_of(turns))
    fact = MemoryRecord(
        id="f1",
        text="Enjoys hiking",
        metadata={"timestamp": "2024-03-03T10:00:00+00:00", "timezone": "Europe/London"},
    )
    semantic = [MemoryRecord(id="p1", text=passage), fact]
    # When a question shares no word with the passage
    memories = answer(index, "favourite weekend hobby", semantic, max_chars=2_800)
    # Then the passage (once) and the fact both come back, dated
    assert memories.count(f"[3 March 2024] {passage}") == 1
    assert "[3 March 2024] Enjoys hiking" in memories


# ---- the index in the archive ----


def test_concurrent_updates_never_lose_a_call() -> None:
    # Given eight calls of one caller processed at once
    archive = InMemoryArchive()
    calls = [
        call(
            f"conv_{n}",
            [Turn("Caller", f"Fact number {n} about the garden.")],
            datetime(2024, 1, n + 1, tzinfo=UTC),
        )
        for n in range(8)
    ]
    barrier = threading.Barrier(len(calls))

    def index_one(one: IndexedCall) -> None:
        barrier.wait()
        store.add_call(archive, CALLER, one)

    threads = [threading.Thread(target=index_one, args=(one,)) for one in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every call is in the index, once
    index = RecallIndex.load(archive.get(archive_keys.recall_key(CALLER)))
    assert sorted(info.conversation_id for info in index.calls()) == sorted(c.conversation_id for c in calls)
    # And indexing a call again changes nothing
    assert store.add_call(archive, CALLER, calls[0]) is False


def test_an_index_is_rebuilt_from_an_archive_made_by_this_version() -> None:
    # Given two archived transcriptions of the caller, indexed as the processor does
    archive = InMemoryArchive()
    first = transcription("conv_first", datetime(2024, 4, 1, 15, tzinfo=UTC), "Europe/London")
    second = transcription("conv_second", datetime(2024, 5, 1, 15, tzinfo=UTC))
    for data in (first, second):
        archive_transcription(archive, data)
        store.add_call(archive, CALLER, indexed_call(data))
    before = RecallIndex.load(archive.get(archive_keys.recall_key(CALLER)))
    # When the index is lost and rebuilt with progress
    archive.delete(archive_keys.recall_key(CALLER))
    seen: list[tuple[int, int]] = []
    indexed = store.rebuild(archive, CALLER, progress=lambda done, total, key: seen.append((done, total)))
    # Then it holds the same calls, passages and words
    after = RecallIndex.load(archive.get(archive_keys.recall_key(CALLER)))
    assert len(indexed) == 2 and seen[-1] == (2, 2)
    assert after.figures() == before.figures()
    assert after.lexical_search("Biscuit", 5) != []


def test_forget_and_retention_erase_the_index() -> None:
    # Given a caller with a brief-less archive and an index
    archive, memory = InMemoryArchive(), InMemoryMemoryStore()
    data = transcription("conv_first", datetime(2024, 4, 1, 15, tzinfo=UTC))
    archive_transcription(archive, data)
    store.add_call(archive, CALLER, indexed_call(data))
    key = archive_keys.recall_key(CALLER)
    # When the operator forgets the caller
    found = operations.footprint(CALLER, archive, memory)
    operations.forget(found, archive, memory)
    # Then the index is gone
    assert key in found.object_keys and not archive.exists(key)


def test_the_retention_purge_deletes_an_expired_callers_index(tmp_path) -> None:
    # Given a processed call whose brief and index exist, and a 30-day retention 31 days later
    from agentic_memory.caller_profile import call_facts
    from agentic_memory.profile_store import record_call

    archive, memory = InMemoryArchive(), InMemoryMemoryStore()
    started = datetime(2024, 4, 1, 15, tzinfo=UTC)
    data = transcription("conv_first", started)
    archive_transcription(archive, data)
    record_call(archive, CALLER, call_facts(data, None, started))
    store.add_call(archive, CALLER, indexed_call(data))
    # When the purge runs
    report = purge_expired(archive, memory, 30, started + timedelta(days=31))
    # Then the index went with the brief
    assert archive_keys.recall_key(CALLER) not in list(archive.keys("recall/"))
    assert report.objects_deleted >= 2


def test_the_tool_answers_from_the_index_when_the_store_is_down() -> None:
    # Given an indexed call, and a memory store that fails every search
    class DownStore(InMemoryMemoryStore):
        def search(self, user_id, query, limit, timeout=None):
            raise ConnectionError("Mem0 is down")

    archive = InMemoryArchive()
    data = transcription("conv_first", datetime(2024, 4, 1, 15, tzinfo=UTC), "Europe/London")
    store.add_call(archive, CALLER, indexed_call(data))
    request = SearchMemoryRequest.model_validate({"query": "what is the dog called", "user_id": CALLER})
    # When the tool searches
    caller, memories = search_memories(request, DownStore(), archive, SearchOptions())
    # Then the index answers, dated
    assert caller == CALLER and any("Biscuit" in memory for memory in memories)
    assert all(memory.startswith("[1 April 2024] ") for memory in memories)


def test_an_unreadable_index_is_rebuilt_on_the_next_update() -> None:
    # Given an archived call and a corrupt index object
    archive = InMemoryArchive()
    data = transcription("conv_first", datetime(2024, 4, 1, 15, tzinfo=UTC))
    archive_transcription(archive, data)
    archive.put(archive_keys.recall_key(CALLER), b"not an index", "application/gzip")
    # When the next call is indexed
    second = transcription("conv_second", datetime(2024, 5, 1, 15, tzinfo=UTC))
    archive_transcription(archive, second)
    store.add_call(archive, CALLER, indexed_call(second))
    # Then the index was rebuilt from the archive and holds both calls
    index = RecallIndex.load(archive.get(archive_keys.recall_key(CALLER)))
    assert {info.conversation_id for info in index.calls()} == {"conv_first", "conv_second"}


def test_segments_keep_long_turns_whole_in_pieces() -> None:
    # Given a 5,000-character turn of sentences
    text = "This is one sentence of the story. " * 140
    segments = segments_of([Turn("Caller", text)])
    # Then it is pieces of whole sentences that together say it all
    assert all(isinstance(s, Segment) and len(s.text) <= 600 for s in segments)
    assert " ".join(s.text for s in segments) == text.strip()


def test_chinese_is_found_inside_a_sentence() -> None:
    # Given a call in Chinese: the caller's sister moved to Ürümqi
    index = RecallIndex.load(None)
    turns = [
        Turn("Agent", "您的家人最近怎么样？"),
        Turn("Caller", "我妹妹去年春天搬到了乌鲁木齐，她很喜欢那里。"),
        Turn("Agent", "您的狗还好吗？"),
        Turn("Caller", "豆豆很好，每天都去公园。"),
    ]
    index.add_call(call("conv_zh", turns, datetime(2025, 12, 1, 21, tzinfo=UTC), "Asia/Shanghai"))
    # When the agent asks by a word inside a sentence, or by a question in other words
    for query in ("乌鲁木齐", "我妹妹搬到哪里了"):
        memories = answer(index, query, None, max_chars=2_800)
        # Then the caller's words come back, dated on the caller's calendar
        assert memories and "乌鲁木齐" in memories[0], query
        assert memories[0].startswith("[2 December 2025] ")
    # And a call removed takes its Chinese terms with it
    assert index.remove_call("conv_zh") and index.lexical_search("乌鲁木齐", 5) == []


def test_while_the_memory_store_fails_the_brief_and_the_index_still_learn_the_call() -> None:
    # Given a memory store that answers every add with an error (Mem0 throttling), and an archived call
    from agentic_memory.errors import MemoryUnavailable
    from agentic_memory.post_call import process_archived_event
    from agentic_memory.profile_store import read_profile
    from agentic_memory.settings import Settings

    class ThrottledStore(InMemoryMemoryStore):
        def add(self, user_id, messages, metadata):
            raise MemoryUnavailable("Mem0 answered 429")

    archive = InMemoryArchive()
    data = transcription("conv_first", datetime(2024, 4, 1, 15, tzinfo=UTC))
    archive_transcription(archive, data)
    key = archive_keys.transcription_key(CALLER, data.conversation_id)
    # When the processor runs: the store's error still reaches the queue, which retries
    with pytest.raises(MemoryUnavailable):
        process_archived_event(key, Settings.from_environment({}), archive, ThrottledStore())
    # Then the caller is known at the next pre-call, and the search tool finds what they said
    profile = read_profile(archive, CALLER)
    assert profile is not None and profile.call_count == 1
    request = SearchMemoryRequest.model_validate({"query": "dog", "user_id": CALLER})
    _, memories = search_memories(request, ThrottledStore(), archive, SearchOptions())
    assert any("Biscuit" in memory for memory in memories)


def test_full_width_and_half_width_forms_match_their_plain_forms() -> None:
    # Given a call that says "penicillin", "30" and "ワクチン" in their usual forms
    index = RecallIndex.load(None)
    turns = [
        Turn("Agent", "お薬のアレルギーはありますか？"),
        Turn(
            "Caller",
            "penicillin にアレルギーがあります。項目30を見てください。インコのワクチンも予約しました。",
        ),
    ]
    index.add_call(call("conv_ja", turns, datetime(2025, 12, 1, tzinfo=UTC), "Asia/Tokyo"))
    # When the agent types them full-width or half-width, as Japanese input methods do
    for query in ("ＰＥＮＩＣＩＬＬＩＮ", "項目３０", "ﾜｸﾁﾝ"):
        memories = answer(index, query, None, max_chars=2_800)
        # Then the caller's words come back
        assert memories and "penicillin" in memories[0], query


def test_a_zone_name_in_another_letter_case_is_still_the_callers_zone() -> None:
    # Given a call at 20:00 UTC on 18 November, whose zone came lower-cased
    moment = datetime(2025, 11, 18, 20, tzinfo=UTC)
    # Then it is dated on the caller's calendar, as with the canonical name; an unknown name is UTC
    assert (
        call_date(moment, "pacific/auckland") == call_date(moment, "Pacific/Auckland") == "19 November 2025"
    )
    assert call_date(moment, "Mars/Olympus") == "18 November 2025"
