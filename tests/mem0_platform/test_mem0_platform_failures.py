"""How the Mem0 Platform store fails: deadlines, the one retry reads get, and the domain error for each
kind of answer. Request counts are read from the emulator's log; nothing here asserts on wall time."""

import socket
from collections.abc import Iterator

import pytest
from platform_support import CALLER, calls_to, user_says

from agentic_memory.adapters.mem0_platform import Mem0PlatformError, Mem0PlatformStore
from agentic_memory.errors import MemoryUnavailable
from agentic_memory.ports import ChatMessage
from devtools.dripping_server import dripping_server as slow_server
from devtools.mem0_emulator import Mem0Emulator


@pytest.fixture
def remembered(store: Mem0PlatformStore, emulator: Mem0Emulator) -> Mem0PlatformStore:
    """The store, with one memory of the caller already stored and the log cleared."""
    store.add(CALLER, user_says("My dog is called Biscuit"), {"type": "semantic"})
    emulator.clear_requests()
    return store


# -- deadlines ------------------------------------------------------------------------------------------


def test_a_read_slower_than_its_deadline_raises_and_is_not_retried(
    remembered: Mem0PlatformStore, emulator: Mem0Emulator
):
    # Given Mem0 answering searches after a whole second
    emulator.configure(latency_by_operation={"search": 1.0})
    # When a search may wait 0.1 s
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.search(CALLER, "dog", limit=3, timeout=0.1)
    # Then it gave up as a domain error, after one request: a timed-out read has no time for a retry
    assert raised.value.kind == "timeout"
    assert isinstance(raised.value, MemoryUnavailable)
    assert len(calls_to(emulator, "search")) == 1


def test_the_read_timeout_applies_when_the_caller_gives_none(emulator: Mem0Emulator, api_key: str):
    store = Mem0PlatformStore(api_key, emulator.url, read_timeout=0.1)
    emulator.configure(latency=1.0)
    with pytest.raises(Mem0PlatformError) as raised:
        store.list_all(CALLER)
    assert raised.value.kind == "timeout"
    assert len(calls_to(emulator, "list")) == 1


def test_no_time_left_means_no_request(remembered: Mem0PlatformStore, emulator: Mem0Emulator):
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.list_all(CALLER, timeout=0)
    assert raised.value.kind == "timeout"
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.search(CALLER, "dog", limit=3, timeout=-1)
    assert raised.value.kind == "timeout"
    assert emulator.requests() == []


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """An HTTP server that sends a valid answer one byte every 20 ms: each receive is quick, the whole
    answer takes seconds. Only a deadline over the whole exchange stops a client waiting for it."""
    with slow_server() as url:
        yield url


def test_the_deadline_bounds_the_whole_exchange_not_each_receive(dripping_server: str, api_key: str):
    # Given a server whose every byte arrives well within 0.3 s but whose answer takes seconds
    store = Mem0PlatformStore(api_key, dripping_server)
    # When a read may wait 0.3 s in all
    # Then it gives up when that time is spent
    with pytest.raises(Mem0PlatformError) as raised:
        store.list_all(CALLER, timeout=0.3)
    assert raised.value.kind == "timeout"


def test_a_connection_that_is_refused_is_unreachable(api_key: str):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    store = Mem0PlatformStore(api_key, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(Mem0PlatformError) as raised:
        store.search(CALLER, "dog", limit=3, timeout=1.0)
    assert raised.value.kind == "unreachable"


# -- retries --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["error", "reset"])
def test_a_read_is_retried_once_after_a_5xx_or_a_reset(
    remembered: Mem0PlatformStore, emulator: Mem0Emulator, fault: str
):
    # Given one failure, then Mem0 answering normally
    emulator.configure(next_faults=[fault])
    # When the caller's memories are read
    records = remembered.list_all(CALLER)
    found = remembered.search(CALLER, "dog", limit=3)
    # Then the list succeeded on its second request, and the search on its first
    assert [r.text for r in records] == ["My dog is called Biscuit"]
    assert [r.text for r in found] == ["My dog is called Biscuit"]
    assert [r.fault for r in calls_to(emulator, "list")] == [fault, None]
    assert len(calls_to(emulator, "search")) == 1


@pytest.mark.parametrize(
    ("fault", "kind"), [("error", "server"), ("reset", "unreachable")], ids=["5xx", "reset"]
)
def test_a_read_is_retried_only_once(
    remembered: Mem0PlatformStore, emulator: Mem0Emulator, fault: str, kind: str
):
    emulator.configure(next_faults=[fault, fault, fault])
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.search(CALLER, "dog", limit=3)
    assert raised.value.kind == kind
    assert len(calls_to(emulator, "search")) == 2


def test_the_pages_of_one_listing_share_a_single_retry(emulator: Mem0Emulator, api_key: str):
    store = Mem0PlatformStore(api_key, emulator.url, page_size=1, read_timeout=2.0)
    store.add(CALLER, user_says("one", "two", "three"), {"type": "semantic"})
    # Given a 5xx on the first page and another on the second
    emulator.configure(fault_operations=["list"], next_faults=["error", "ok", "error"])
    # Then the listing fails: its one retry was spent on the first page
    with pytest.raises(Mem0PlatformError) as raised:
        store.list_all(CALLER)
    assert raised.value.kind == "server"
    assert [r.fault for r in calls_to(emulator, "list")] == ["error", None, "error"]


@pytest.mark.parametrize(
    ("fault", "kind"), [("error", "server"), ("reset", "unreachable")], ids=["5xx", "reset"]
)
def test_an_add_is_never_retried(store: Mem0PlatformStore, emulator: Mem0Emulator, fault: str, kind: str):
    # Given a failure on the next request
    emulator.configure(next_faults=[fault])
    # When memories are added
    with pytest.raises(Mem0PlatformError) as raised:
        store.add(CALLER, user_says("My dog is called Biscuit"), {"type": "semantic"})
    assert raised.value.kind == kind
    # Then one request went out, and the failure is left to the queue that called the store
    assert len(calls_to(emulator, "add")) == 1


def test_an_add_that_fails_halfway_takes_back_what_it_stored(
    store: Mem0PlatformStore, emulator: Mem0Emulator
):
    # Given Mem0 storing the caller's lines and failing on the agent's
    emulator.configure(fault_operations=["add"], next_faults=["ok", "error"])
    conversation = [
        ChatMessage(role="user", content="My dog is called Biscuit"),
        ChatMessage(role="assistant", content="What a lovely name"),
    ]
    # When the conversation is added
    with pytest.raises(Mem0PlatformError) as raised:
        store.add(CALLER, conversation, {"type": "semantic"})
    assert raised.value.kind == "server"
    # Then nothing of it stays: a retry of the whole event will store it complete
    assert emulator.memories(CALLER) == []
    assert len(calls_to(emulator, "delete")) == 1


# -- answers mapped to domain errors ---------------------------------------------------------------------


def test_429_is_rate_limited_with_retry_after_and_not_retried(
    remembered: Mem0PlatformStore, emulator: Mem0Emulator
):
    emulator.configure(next_faults=["rate_limit"], retry_after_seconds=7)
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.search(CALLER, "dog", limit=3)
    assert raised.value.kind == "rate_limited"
    assert raised.value.retry_after == 7.0
    assert raised.value.status == 429
    assert "throttled" in raised.value.detail
    assert len(calls_to(emulator, "search")) == 1


@pytest.mark.parametrize("malformed", ["not_json", "wrong_shape"])
def test_a_malformed_answer_is_a_bad_response(
    remembered: Mem0PlatformStore, emulator: Mem0Emulator, malformed: str
):
    for read in (lambda: remembered.list_all(CALLER), lambda: remembered.search(CALLER, "dog", 3)):
        emulator.configure(next_faults=[malformed])
        with pytest.raises(Mem0PlatformError) as raised:
            read()
        assert raised.value.kind == "bad_response"
    emulator.configure(next_faults=[malformed])
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.add(CALLER, user_says("hello"), {"type": "semantic"})
    assert raised.value.kind == "bad_response"
    # And a malformed answer is not a reason to ask again
    assert len(calls_to(emulator, "list")) == 1
    assert len(calls_to(emulator, "search")) == 1


def test_a_wrong_key_is_an_auth_error_that_does_not_show_the_key(emulator: Mem0Emulator):
    wrong_key = "m0-wrong-0123456789abcdef"
    store = Mem0PlatformStore(wrong_key, emulator.url)
    with pytest.raises(Mem0PlatformError) as raised:
        store.list_all(CALLER)
    assert raised.value.kind == "auth"
    assert raised.value.status == 401
    assert raised.value.detail
    assert wrong_key not in str(raised.value)
    assert emulator.requests()[0].status == 401


def test_a_wrong_base_path_is_not_found(emulator: Mem0Emulator, api_key: str):
    store = Mem0PlatformStore(api_key, emulator.url + "/not-mem0")
    with pytest.raises(Mem0PlatformError) as raised:
        store.search(CALLER, "dog", limit=3)
    assert raised.value.kind == "not_found"
    assert raised.value.status == 404


def test_a_request_mem0_refuses_is_rejected_not_retried(store: Mem0PlatformStore, emulator: Mem0Emulator):
    # The emulator answers 400 to a user id the API would refuse (here: none at all)
    with pytest.raises(Mem0PlatformError) as raised:
        store.add("", user_says("hello"), {"type": "semantic"})
    assert raised.value.kind == "rejected"
    assert raised.value.status == 400
    assert len(calls_to(emulator, "add")) == 1


def test_an_outage_is_unreachable_and_the_store_recovers_after_it(
    remembered: Mem0PlatformStore, emulator: Mem0Emulator
):
    emulator.configure(outage="refuse")
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.list_all(CALLER, timeout=1.0)
    assert raised.value.kind == "unreachable"
    emulator.configure(outage=None)
    assert [r.text for r in remembered.list_all(CALLER)] == ["My dog is called Biscuit"]


def test_error_messages_mask_the_caller_s_number(remembered: Mem0PlatformStore, emulator: Mem0Emulator):
    emulator.configure(next_faults=["error", "error"])
    with pytest.raises(Mem0PlatformError) as raised:
        remembered.list_all(CALLER)
    assert raised.value.kind == "server"
    assert CALLER not in str(raised.value)
    assert raised.value.operation == "POST /v3/memories/"
    assert raised.value.status == 503
