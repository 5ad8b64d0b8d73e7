"""Parity: for the same operations, our store and ``mem0ai.MemoryClient`` (2.2.1, a dev-only dependency)
send the same requests to the same emulator: methods, paths, query strings, auth header, JSON bodies
byte for byte. The SDK's own extras (its ping, its identity headers) are listed and checked too."""

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from platform_support import CALLER

from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
from agentic_memory.ports import ChatMessage
from devtools.mem0_emulator import Mem0Emulator, RecordedRequest

# Headers only the SDK sends: httpx's explicit keep-alive (HTTP/1.1's default anyway) and mem0ai's
# identity headers (Mem0-User-ID is an MD5 of the API key, for Mem0's analytics). Ours sends neither.
SDK_ONLY_HEADERS = {"connection", "mem0-user-id", "x-mem0-client"}
# Headers both send with different values: ours asks for JSON, uncompressed, and names itself.
HEADERS_THAT_DIFFER = {"accept", "accept-encoding", "user-agent"}


@pytest.fixture(scope="module")
def memory_client_class(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``mem0.MemoryClient`` imported with telemetry off and its settings folder in a temporary dir."""
    with pytest.MonkeyPatch.context() as patch:
        # Read once, when mem0 is first imported: set before it.
        patch.setenv("MEM0_TELEMETRY", "false")
        patch.setenv("MEM0_DIR", str(tmp_path_factory.mktemp("mem0-dir")))
        mem0 = pytest.importorskip("mem0")
        telemetry = importlib.import_module("mem0.memory.telemetry")
        # Imported earlier in this process with telemetry on? Switch it off where mem0 checks it.
        patch.setattr(telemetry, "MEM0_TELEMETRY", False)
        patch.setattr(telemetry.client_telemetry, "posthog", None)
        yield mem0.MemoryClient


@pytest.fixture
def sdk(memory_client_class: Any, emulator: Mem0Emulator, api_key: str) -> Any:
    client = memory_client_class(api_key=api_key, host=emulator.url)
    yield client
    client.client.close()


def exchange(emulator: Mem0Emulator, operate: Any) -> list[RecordedRequest]:
    """The requests ``operate()`` makes, from a clean log."""
    emulator.clear_requests()
    operate()
    return emulator.requests()


def wire(request: RecordedRequest) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in request.headers.items()}
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "authorization": headers.get("authorization"),
        "content-type": headers.get("content-type"),
        "body": request.raw_body,
    }


def test_the_sdk_pings_on_construction_and_our_store_does_not(
    memory_client_class: Any, emulator: Mem0Emulator, api_key: str
):
    sdk = memory_client_class(api_key=api_key, host=emulator.url)
    sdk.client.close()
    (ping,) = emulator.requests()
    assert (ping.method, ping.path, ping.query) == ("GET", "/v1/ping/", "")
    emulator.clear_requests()
    Mem0PlatformStore(api_key, emulator.url)
    assert emulator.requests() == []


def test_add_search_list_and_delete_go_out_as_the_sdk_sends_them(
    sdk: Any, emulator: Mem0Emulator, api_key: str
):
    store = Mem0PlatformStore(api_key, emulator.url)
    metadata = {
        "type": "factual",
        "agent_id": "agent_7f3a",
        "conversation_id": "conv_1",
        "call_duration_seconds": 61,
    }
    on_the_wire = {
        "type": "factual",
        "elevenlabs_agent_id": "agent_7f3a",
        "conversation_id": "conv_1",
        "call_duration_seconds": 61,
        "message_role": "user",
    }
    text = "Call on 2026-03-01: Margaret booked a visit for Biscuit — née Smith"
    pairs = [
        (
            lambda: store.add(CALLER, [ChatMessage(role="user", content=text)], metadata),
            lambda: sdk.add(
                [{"role": "user", "content": text}], user_id=CALLER, metadata=on_the_wire, infer=False
            ),
        ),
        (
            lambda: store.search(CALLER, "  when is the visit for Biscuit?  ", limit=3),
            lambda: sdk.search(
                "  when is the visit for Biscuit?  ", filters={"user_id": CALLER}, top_k=3, rerank=False
            ),
        ),
        (
            lambda: store.list_all(CALLER),
            lambda: sdk.get_all(filters={"user_id": CALLER}, page=1, page_size=200),
        ),
    ]
    for ours, theirs in pairs:
        assert [wire(r) for r in exchange(emulator, ours)] == [wire(r) for r in exchange(emulator, theirs)]
    # Delete: ours counts the memories first (the answer has no count); the delete itself is the SDK's
    ours = exchange(emulator, lambda: store.delete_all(CALLER))
    sdk.add([{"role": "user", "content": text}], user_id=CALLER, metadata=on_the_wire, infer=False)
    theirs = exchange(emulator, lambda: sdk.delete_all(user_id=CALLER))
    assert [r.operation for r in ours] == ["list", "delete_all"]
    assert wire(ours[-1]) == wire(theirs[-1])


def test_an_add_with_inference_goes_out_as_the_sdk_sends_it(sdk: Any, emulator: Mem0Emulator, api_key: str):
    store = Mem0PlatformStore(api_key, emulator.url)
    conversation = [
        ChatMessage(role="assistant", content="What is your dog called?"),
        ChatMessage(role="user", content="My dog is called Biscuit."),
    ]
    metadata = {"type": "semantic", "agent_id": "agent_7f3a", "conversation_id": "conv_1"}
    on_the_wire = {"type": "semantic", "elevenlabs_agent_id": "agent_7f3a", "conversation_id": "conv_1"}
    ours = exchange(emulator, lambda: store.add_inferred(CALLER, conversation, metadata))
    theirs = exchange(
        emulator,
        lambda: sdk.add(
            [{"role": m.role, "content": m.content} for m in conversation],
            user_id=CALLER,
            metadata=on_the_wire,
            infer=True,
        ),
    )
    assert [wire(r) for r in ours] == [wire(r) for r in theirs]


def test_following_pages_matches_asking_the_sdk_for_each_page(sdk: Any, emulator: Mem0Emulator, api_key: str):
    store = Mem0PlatformStore(api_key, emulator.url, page_size=2)
    for n in range(5):
        store.add(CALLER, [ChatMessage(role="user", content=f"fact {n}")], {"type": "factual"})
    ours = exchange(emulator, lambda: store.list_all(CALLER))

    def sdk_pages() -> None:
        page = 1
        while sdk.get_all(filters={"user_id": CALLER}, page=page, page_size=2)["next"]:
            page += 1

    theirs = exchange(emulator, sdk_pages)
    assert len(ours) == 3
    assert [wire(r) for r in ours] == [wire(r) for r in theirs]


def test_the_headers_differ_only_where_expected(sdk: Any, emulator: Mem0Emulator, api_key: str):
    store = Mem0PlatformStore(api_key, emulator.url)
    (ours,) = exchange(emulator, lambda: store.search(CALLER, "dog", limit=3))
    (theirs,) = exchange(
        emulator, lambda: sdk.search("dog", filters={"user_id": CALLER}, top_k=3, rerank=False)
    )
    our_headers = {k.lower(): v for k, v in ours.headers.items()}
    sdk_headers = {k.lower(): v for k, v in theirs.headers.items()}
    assert our_headers["authorization"] == sdk_headers["authorization"] == f"Token {api_key}"
    assert set(sdk_headers) - set(our_headers) == SDK_ONLY_HEADERS
    assert {
        name for name in our_headers.keys() & sdk_headers.keys() if our_headers[name] != sdk_headers[name]
    } == (HEADERS_THAT_DIFFER)
    assert set(our_headers) - set(sdk_headers) == set()
    assert (our_headers["accept"], our_headers["accept-encoding"]) == ("application/json", "identity")


def test_the_sdk_under_test_sends_no_telemetry(memory_client_class: Any):
    telemetry = importlib.import_module("mem0.memory.telemetry")
    assert telemetry.MEM0_TELEMETRY is False
    assert telemetry.client_telemetry.posthog is None
