"""The Mem0 Platform store over real HTTP against the emulator: the port's operations, what goes on the
wire, and one keep-alive connection."""

import threading

import pytest
from platform_support import CALLER, calls_to, user_says

from agentic_memory.adapters.mem0_platform import Mem0PlatformStore, transport
from agentic_memory.ports import ChatMessage
from devtools.mem0_emulator import Mem0Emulator

CALL_METADATA = {
    "type": "semantic",
    "agent_id": "agent_7f3a",
    "conversation_id": "conv_0001",
    "timestamp": "2026-03-01T10:00:00+00:00",
    "call_duration_seconds": 93,
}


def test_nothing_connects_before_the_first_call(emulator: Mem0Emulator, api_key: str):
    # Given a store built the way the composition root builds it
    store = Mem0PlatformStore(api_key, emulator.url)
    # Then building it reached nothing
    assert emulator.connections_accepted == 0
    assert emulator.requests() == []
    # And the key is not part of its representation
    assert api_key not in repr(store)
    # And preparing it for an init phase loads the HTTP stack without connecting either
    store.prepare()
    assert emulator.connections_accepted == 0


def test_added_messages_come_back_with_their_role_and_the_call_metadata(
    store: Mem0PlatformStore, emulator: Mem0Emulator
):
    # Given a transcript where the agent and the caller both speak
    transcript = [
        ChatMessage(role="assistant", content="Thanks for calling the clinic, this is Ada."),
        ChatMessage(role="user", content="Hi, my name is Margaret and my dog Biscuit is limping."),
        ChatMessage(role="assistant", content="I am sorry to hear about Biscuit."),
        ChatMessage(role="user", content="Can I book a visit on Tuesday?"),
    ]
    # When it is stored and read back
    ids = store.add(CALLER, transcript, CALL_METADATA)
    records = store.list_all(CALLER)
    # Then every message is a memory with its role and the metadata, agent id included
    assert len(ids) == 4
    assert sorted(r.id for r in records) == sorted(ids)
    assert {(r.text, r.metadata["role"]) for r in records} == {(m.content, m.role) for m in transcript}
    for record in records:
        assert {k: v for k, v in record.metadata.items() if k != "role"} == CALL_METADATA
        assert record.created_at
    # And each role's lines keep their order
    caller_lines = [r.text for r in records if r.metadata["role"] == "user"]
    assert caller_lines == [m.content for m in transcript if m.role == "user"]


def test_what_the_store_sends_for_an_add(store: Mem0PlatformStore, emulator: Mem0Emulator):
    # When a two-role conversation is added
    store.add(
        CALLER,
        [ChatMessage(role="user", content="I like cricket"), ChatMessage(role="assistant", content="Noted")],
        {"type": "semantic", "agent_id": "agent_7f3a"},
    )
    # Then each role goes in one verbatim add, every message as "user" (the Platform keeps only those),
    # the caller scoped by a top-level user_id and the agent id kept out of Mem0's entity fields
    adds = calls_to(emulator, "add")
    assert [a.body for a in adds] == [
        {
            "messages": [{"role": "user", "content": "I like cricket"}],
            "user_id": CALLER,
            "metadata": {"type": "semantic", "elevenlabs_agent_id": "agent_7f3a", "message_role": "user"},
            "infer": False,
        },
        {
            "messages": [{"role": "user", "content": "Noted"}],
            "user_id": CALLER,
            "metadata": {
                "type": "semantic",
                "elevenlabs_agent_id": "agent_7f3a",
                "message_role": "assistant",
            },
            "infer": False,
        },
    ]
    for add in adds:
        assert add.method == "POST"
        assert add.path == "/v3/memories/add/"
        assert add.headers["Authorization"].startswith("Token ")
        assert add.headers["Content-Type"] == "application/json"
        assert not {"agent_id", "app_id", "run_id"} & set(add.body)


def test_search_finds_the_caller_s_memories_with_scores(store: Mem0PlatformStore, emulator: Mem0Emulator):
    # Given two callers with memories
    store.add(CALLER, user_says("My dog is called Biscuit", "I live in Leeds"), {"type": "semantic"})
    store.add("+15550142999", user_says("My dog is called Rex"), {"type": "semantic"})
    # When the first caller's memories are searched
    found = store.search(CALLER, "  what is my dog called?  ", limit=3)
    # Then only theirs come back, best first, scored in [0, 1], with metadata
    assert [r.text for r in found] == ["My dog is called Biscuit"]
    assert found[0].score is not None and 0 < found[0].score <= 1
    assert found[0].metadata["role"] == "user"
    # And the request used filters and top_k, as mem0ai 2.x does (never top-level user_id or limit)
    search = calls_to(emulator, "search")[-1]
    assert search.body == {
        "query": "what is my dog called?",
        "filters": {"user_id": CALLER},
        "top_k": 3,
        "rerank": False,
    }


def test_search_honours_the_limit(store: Mem0PlatformStore):
    store.add(CALLER, user_says(*(f"Biscuit note number {n}" for n in range(6))), {"type": "semantic"})
    assert len(store.search(CALLER, "Biscuit note", limit=4)) == 4


def test_an_empty_query_or_limit_asks_nothing(store: Mem0PlatformStore, emulator: Mem0Emulator):
    assert store.search(CALLER, "   ", limit=3) == []
    assert store.search(CALLER, "dog", limit=0) == []
    assert store.add(CALLER, [], {"type": "semantic"}) == []
    assert emulator.requests() == []


def test_listing_follows_every_page_oldest_first(emulator: Mem0Emulator, api_key: str):
    # Given more memories than one page holds
    store = Mem0PlatformStore(api_key, emulator.url, page_size=3, read_timeout=2.0)
    texts = [f"Fact number {n:02d}" for n in range(10)]
    for text in texts:
        store.add(CALLER, user_says(text), {"type": "factual"})
    # When they are listed
    records = store.list_all(CALLER)
    # Then all of them come back, in the order they were stored, after four pages
    assert [r.text for r in records] == texts
    pages = calls_to(emulator, "list")
    assert [p.query for p in pages] == [f"page={n}&page_size=3" for n in (1, 2, 3, 4)]
    assert all(p.body == {"filters": {"user_id": CALLER}} for p in pages)


def test_listing_a_caller_without_memories_is_empty(store: Mem0PlatformStore):
    assert store.list_all("+15550142777") == []


def test_delete_all_removes_one_caller_s_memories_and_counts_them(
    store: Mem0PlatformStore, emulator: Mem0Emulator
):
    # Given two callers with memories
    store.add(CALLER, user_says("one", "two", "three"), {"type": "semantic"})
    store.add("+15550142999", user_says("other caller"), {"type": "semantic"})
    # When the first caller's memories are deleted
    deleted = store.delete_all(CALLER)
    # Then they are counted and gone, and the other caller's remain
    assert deleted == 3
    assert store.list_all(CALLER) == []
    assert [r.text for r in store.list_all("+15550142999")] == ["other caller"]
    # And the delete is the one MemoryClient.delete_all(user_id=...) sends
    (delete,) = calls_to(emulator, "delete_all")
    assert (delete.method, delete.path, delete.query) == ("DELETE", "/v1/memories/", "user_id=%2B15550142001")
    # And a caller with nothing to delete costs no delete request
    assert store.delete_all(CALLER) == 0
    assert len(calls_to(emulator, "delete_all")) == 1


def test_one_keep_alive_connection_serves_every_call(store: Mem0PlatformStore, emulator: Mem0Emulator):
    # When a series of calls is made one after another
    store.add(CALLER, user_says("My dog is called Biscuit"), {"type": "semantic"})
    for _ in range(10):
        store.search(CALLER, "dog", limit=3)
        store.list_all(CALLER)
    store.delete_all(CALLER)
    # Then they all travelled on one TCP connection
    assert emulator.connections_accepted == 1
    assert {request.connection for request in emulator.requests()} == {1}


def test_threads_can_overlap_calls_and_connections_are_kept_for_reuse(
    store: Mem0PlatformStore, emulator: Mem0Emulator
):
    # Given a memory and a little latency, so that calls overlap
    store.add(CALLER, user_says("My dog is called Biscuit"), {"type": "semantic"})
    emulator.configure(latency=0.05)
    results: list[int] = []
    errors: list[BaseException] = []

    def search() -> None:
        try:
            results.append(len(store.search(CALLER, "dog", limit=3)))
        except BaseException as error:  # collected and asserted on below
            errors.append(error)

    # When four threads search at once
    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every search succeeded, each on a connection of its own at most
    assert errors == []
    assert results == [1, 1, 1, 1]
    opened = emulator.connections_accepted
    assert opened <= 5
    # And afterwards the pooled connections serve further calls without opening new ones
    emulator.configure(latency=0)
    for _ in range(4):
        store.search(CALLER, "dog", limit=3)
    assert emulator.connections_accepted == opened


def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    store: Mem0PlatformStore, emulator: Mem0Emulator
):
    # Given a keep-alive connection that the server has since closed (as after a Lambda freeze)
    store.list_all(CALLER)
    emulator.configure(outage="reset")
    emulator.configure(outage=None)
    # When an add (which is never retried) goes out next
    ids = store.add(CALLER, user_says("I moved to York"), {"type": "factual"})
    # Then it went out once, on a fresh connection, and succeeded
    assert len(ids) == 1
    assert len(calls_to(emulator, "add")) == 1
    assert emulator.connections_accepted == 2


def test_a_connection_idle_for_too_long_is_not_reused(
    store: Mem0PlatformStore, emulator: Mem0Emulator, monkeypatch: pytest.MonkeyPatch
):
    # Given connections that count as stale as soon as they are idle (NAT gateways drop them silently)
    monkeypatch.setattr(transport, "MAX_IDLE_SECONDS", -1.0)
    # When two calls follow each other
    store.list_all(CALLER)
    store.list_all(CALLER)
    # Then the second did not trust the first one's connection
    assert emulator.connections_accepted == 2


@pytest.mark.parametrize("base_path", ["", "/"])
def test_the_base_url_may_end_with_a_slash(emulator: Mem0Emulator, api_key: str, base_path: str):
    store = Mem0PlatformStore(api_key, emulator.url + base_path)
    assert store.list_all(CALLER) == []
    assert calls_to(emulator, "list")[0].path == "/v3/memories/"


@pytest.mark.parametrize(
    "base_url", ["ftp://api.mem0.ai", "api.mem0.ai", "https://", ""], ids=["ftp", "bare", "no-host", "empty"]
)
def test_a_base_url_that_is_not_http_is_refused_at_construction(api_key: str, base_url: str):
    with pytest.raises(ValueError):
        Mem0PlatformStore(api_key, base_url)


def test_an_empty_key_is_refused_at_construction():
    with pytest.raises(ValueError):
        Mem0PlatformStore("", "https://api.mem0.ai")


def test_delete_removes_one_memory_by_id(store: Mem0PlatformStore, emulator: Mem0Emulator):
    # Given a caller with two memories
    first, second = store.add(
        CALLER,
        [
            ChatMessage(role="user", content="Biscuit is a beagle."),
            ChatMessage(role="user", content="I live in Leeds."),
        ],
        {"type": "factual"},
    )
    # When one is deleted by id (DELETE /v1/memories/{id}/), then again
    deleted, again = store.delete(first), store.delete(first)
    # Then only that one is gone, and the second delete finds nothing (404)
    assert (deleted, again) == (True, False)
    assert [record.id for record in store.list_all(CALLER)] == [second]


def test_update_replaces_one_memorys_text_and_keeps_its_metadata(
    store: Mem0PlatformStore, emulator: Mem0Emulator
):
    # Given a caller's memory
    (memory_id,) = store.add(
        CALLER, user_says("User name is Margaret."), {"type": "factual", "conversation_id": "c1"}
    )
    # When its text is updated by id, as mem0ai's MemoryClient.update(memory_id, text=...) sends it
    assert store.update(memory_id, "User name is Eleanor.") is True
    # Then the same memory holds the new text and its metadata
    (record,) = store.list_all(CALLER)
    assert (record.id, record.text, record.metadata.get("conversation_id")) == (
        memory_id,
        "User name is Eleanor.",
        "c1",
    )
    (update,) = calls_to(emulator, "update")
    assert (update.method, update.path, update.body) == (
        "PUT",
        f"/v1/memories/{memory_id}/",
        {"text": "User name is Eleanor."},
    )
    # And a memory that is not there is no update
    assert store.update("missing-id", "x") is False
