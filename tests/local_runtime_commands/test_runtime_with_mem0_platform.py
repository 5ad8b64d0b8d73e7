"""The local runtime with ``MEM0_API_KEY`` set: the product as it runs in AWS, its memory in Mem0
Platform, here the emulator on loopback over HTTP. Normal calls work end to end, and when Mem0 is slow,
down, throttling, failing or talking nonsense, the endpoints still answer in shape and nothing is lost."""

import json
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import RunningRuntime
from helpers import PROMISED_DYNAMIC_VARIABLES, eventually

from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
from agentic_memory.caller_profile import CallFacts, GivenName
from agentic_memory.ports import ChatMessage
from agentic_memory.profile_store import record_call
from agentic_memory.signature import HEADER, sign
from devtools.fixtures import load_fixture
from devtools.mem0_emulator import Mem0Emulator, start_emulator
from local_runtime.adapters.filesystem_archive import FilesystemArchive
from local_runtime.sender import rewrite

pytestmark = pytest.mark.integration

# A caller whose memories are in Mem0 before any test: the check that the runtime is healthy again.
KNOWN_CALLER = "+15550142700"
FAULTS: dict[str, dict[str, Any]] = {
    "slow": {"latency": 2.0},
    "down": {"outage": "refuse"},
    "resetting": {"outage": "reset"},
    "rate_limited": {"rate_limit_rate": 1.0, "retry_after_seconds": 30},
    "failing": {"error_rate": 1.0},
    "not_json": {"malformed_rate": 1.0, "malformed": "not_json"},
    "wrong_shape": {"malformed_rate": 1.0, "malformed": "wrong_shape"},
}
HEALTHY: dict[str, Any] = {
    "latency": 0,
    "outage": None,
    "rate_limit_rate": 0.0,
    "error_rate": 0.0,
    "malformed_rate": 0.0,
    "next_faults": [],
}


@pytest.fixture(scope="module")
def mem0_key() -> str:
    return f"m0-it-{secrets.token_hex(16)}"


@pytest.fixture(scope="module")
def emulator(mem0_key: str) -> Iterator[Mem0Emulator]:
    running = start_emulator(api_keys=[mem0_key], profile="none")
    # What earlier calls left: a factual memory with the caller's name, and a line they said.
    seeding = Mem0PlatformStore(mem0_key, running.url)
    call = {
        "agent_id": "agent_seed",
        "conversation_id": "conv_seed_0001",
        "timestamp": "2026-01-05T09:00:00+00:00",
    }
    seeding.add(
        KNOWN_CALLER,
        [
            ChatMessage(
                role="user", content="Call on 2026-01-05: booked a check-up for Pepper.\nUser name is Rosa."
            )
        ],
        {**call, "type": "factual", "caller_name": "Rosa"},
    )
    seeding.add(
        KNOWN_CALLER,
        [ChatMessage(role="user", content="My parrot Pepper talks a lot")],
        {**call, "type": "semantic"},
    )
    seeding.close()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def platform_runtime(
    emulator: Mem0Emulator, mem0_key: str, runtime_with: Callable[[dict[str, str]], RunningRuntime]
) -> RunningRuntime:
    # Retries after 1 s, not 30: the outage and dead-letter scenarios wait out the whole schedule.
    runtime = runtime_with(
        {"MEM0_API_KEY": mem0_key, "MEM0_BASE_URL": emulator.url, "RETRY_FIRST_DELAY_SECONDS": "1"}
    )
    # And the caller brief the processor kept of that call: what the pre-call reads.
    seeded_at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    rosa = GivenName(name="Rosa", source="data_collection", at=seeded_at, conversation_id="conv_seed_0001")
    record_call(
        FilesystemArchive(runtime.home / "archive"),
        KNOWN_CALLER,
        CallFacts(
            conversation_id="conv_seed_0001",
            agent_id="agent_seed",
            at=seeded_at,
            name=rosa,
            title="Check-up for Pepper",
            summary="Rosa booked a check-up for her parrot Pepper.",
        ),
    )
    return runtime


@pytest.fixture(autouse=True)
def healthy_mem0_after_each_test(emulator: Mem0Emulator) -> Iterator[None]:
    yield
    emulator.configure(**HEALTHY)


# -- talking to the runtime ------------------------------------------------------------------------------


def initiate_conversation(runtime: RunningRuntime, caller: str) -> httpx.Response:
    payload = rewrite(load_fixture("precall_twilio_inbound"), caller, None, "+15550100142")
    return httpx.post(
        f"{runtime.url}/client-data",
        content=json.dumps(payload).encode(),
        headers={"X-Workspace-Key": runtime.keys["workspace"]},
        timeout=10,
    )


def search_memory(runtime: RunningRuntime, caller: str, query: str) -> httpx.Response:
    return httpx.get(f"{runtime.url}/retrieve", params={"query": query, "user_id": caller}, timeout=10)


def post_transcription(runtime: RunningRuntime, caller: str, conversation_id: str) -> httpx.Response:
    payload = load_fixture("transcription_twilio_inbound")
    old = payload["data"]["metadata"]["phone_call"]["external_number"]
    body = json.dumps(rewrite(payload, caller, conversation_id, old), separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", HEADER: sign(body, runtime.keys["hmac"])}
    return httpx.post(f"{runtime.url}/post-call", content=body, headers=headers, timeout=10)


def variables_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    variables: dict[str, Any] = response.json()["dynamic_variables"]
    return variables


def lists_of(emulator: Mem0Emulator, caller: str) -> list[Any]:
    return [
        r
        for r in emulator.requests()
        if r.operation == "list" and (r.body or {}).get("filters") == {"user_id": caller}
    ]


# -- normal flow -----------------------------------------------------------------------------------------


def test_a_call_is_remembered_in_mem0_and_known_at_the_next_call(
    platform_runtime: RunningRuntime, emulator: Mem0Emulator
):
    caller = "+15550142701"
    # Given a new caller
    assert variables_of(initiate_conversation(platform_runtime, caller))["returning_caller"] == "no"
    # When their first call's transcription is delivered
    response = post_transcription(platform_runtime, caller, "conv_platform_0001")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

    # Then the next pre-call knows them by name, from memories stored in Mem0
    def known() -> dict[str, Any] | None:
        variables = variables_of(initiate_conversation(platform_runtime, caller))
        return variables if variables["returning_caller"] == "yes" else None

    variables = eventually(known)
    assert variables, platform_runtime.log()
    assert variables["caller_name"] == "Margaret"
    assert variables["memory_count"] == "1"
    stored = emulator.memories(caller)
    assert {m["metadata"]["type"] for m in stored} == {"factual", "semantic"}
    # The transcript went to Mem0 once, with inference on and the agent's turns as the assistant's
    adds = [r.body for r in emulator.requests() if r.operation == "add" and r.body["user_id"] == caller]
    (inferred,) = [body for body in adds if body["infer"] is True]
    assert {m["role"] for m in inferred["messages"]} == {"user", "assistant"}
    # and the factual summary verbatim
    assert sorted(body["infer"] for body in adds) == [False, True]
    # And the search tool finds facts from that call
    found = search_memory(platform_runtime, caller, "what is the name of the dog")
    assert found.status_code == 200
    assert any("Biscuit" in memory for memory in found.json()["memories"])


def test_a_known_caller_is_greeted_by_name_from_the_brief(platform_runtime: RunningRuntime):
    variables = variables_of(initiate_conversation(platform_runtime, KNOWN_CALLER))
    assert variables["returning_caller"] == "yes"
    assert variables["caller_name"] == "Rosa"
    assert "Pepper" in variables["memory_context"]


# -- Mem0 in trouble -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", list(FAULTS))
def test_mem0_trouble_still_gets_complete_answers_and_the_runtime_recovers(
    platform_runtime: RunningRuntime, emulator: Mem0Emulator, fault: str
):
    # Given Mem0 in trouble
    emulator.clear_requests()
    emulator.configure(**FAULTS[fault])
    # When a known caller rings
    response = initiate_conversation(platform_runtime, KNOWN_CALLER)
    # Then pre-call answers 200 with every dynamic variable, and greets her by name from her brief
    variables = variables_of(response)
    assert set(PROMISED_DYNAMIC_VARIABLES) <= set(variables)
    assert all(isinstance(variables[name], str) for name in PROMISED_DYNAMIC_VARIABLES)
    assert variables["caller_id"] == KNOWN_CALLER
    assert (variables["returning_caller"], variables["caller_name"], variables["memory_count"]) == (
        "yes",
        "Rosa",
        "1",
    )
    assert "Pepper" in variables["memory_summary"]
    assert response.json()["conversation_config_override"]["agent"]["first_message"]
    # And the search tool answers 200 with no memories and a note the agent can say
    searched = search_memory(platform_runtime, KNOWN_CALLER, "what is the parrot called")
    assert searched.status_code == 200
    assert searched.json()["memories"] == []
    assert searched.json()["note"]
    # And the pre-call never asked Mem0 (the search tool did)
    assert lists_of(emulator, KNOWN_CALLER) == []

    # When Mem0 is healthy again, so is the runtime
    emulator.configure(**HEALTHY)
    assert httpx.get(f"{platform_runtime.url}/health", timeout=5).status_code == 200
    assert variables_of(initiate_conversation(platform_runtime, KNOWN_CALLER))["caller_name"] == "Rosa"
    found = search_memory(platform_runtime, KNOWN_CALLER, "what is the parrot called").json()
    assert any("Pepper" in memory for memory in found["memories"])


def test_post_call_processing_waits_out_a_mem0_outage_and_loses_nothing(
    platform_runtime: RunningRuntime, emulator: Mem0Emulator
):
    caller = "+15550142702"
    # Given Mem0 resetting every connection
    emulator.clear_requests()
    emulator.configure(outage="reset")
    # When a transcription is delivered
    assert post_transcription(platform_runtime, caller, "conv_platform_0002").status_code == 200
    # Then it is acknowledged at once, and processing tries Mem0 and fails
    assert eventually(lambda: lists_of(emulator, caller)), platform_runtime.log()
    assert emulator.memories(caller) == []
    # When Mem0 comes back within the queue's retry window
    emulator.configure(outage=None)
    # Then a retry stores the call's memories, once
    assert eventually(lambda: len(emulator.memories(caller)) > 0), platform_runtime.log()
    assert variables_of(initiate_conversation(platform_runtime, caller))["caller_name"] == "Margaret"
    failed = [r for r in lists_of(emulator, caller) if r.fault == "reset"]
    assert failed
    assert len({m["metadata"]["type"] for m in emulator.memories(caller)}) == 2
    assert not list(Path(platform_runtime.home, "dead-letter").glob("*"))


def test_an_event_mem0_never_took_is_parked_in_the_dead_letter_folder(
    platform_runtime: RunningRuntime, emulator: Mem0Emulator
):
    caller = "+15550142703"
    dead_letter = Path(platform_runtime.home, "dead-letter")
    # Given Mem0 down for longer than the queue's retries (1, 2, 4, 8 s)
    emulator.configure(outage="refuse")
    # When a transcription is delivered
    assert post_transcription(platform_runtime, caller, "conv_platform_0003").status_code == 200
    # Then after the last attempt the event is parked, not dropped
    parked = eventually(lambda: list(dead_letter.glob("*conv_platform_0003*")), timeout=30)
    assert parked, platform_runtime.log()
    assert "conv_platform_0003" in parked[0].read_text()
    assert emulator.memories(caller) == []
