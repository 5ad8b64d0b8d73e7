"""Nothing lost, nothing doubled: the local runtime over HTTP with faults injected into its ports.

The runtime runs in this process with in-memory ports we can break and mend; the queue's retry
schedule starts at a twentieth of a second, so its five attempts take less than a second.
"""

import argparse
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest

from agentic_memory.ports import ChatMessage
from agentic_memory.settings import Settings
from agentic_memory.signature import HEADER, sign
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import fixture_bytes, load_fixture
from local_runtime import dead_letter
from local_runtime.operator_commands import replay_events
from local_runtime.runtime import LocalRuntime, build_runtime

pytestmark = pytest.mark.integration
FIRST_RETRY_DELAY = 0.05
TRANSCRIPTION = "transcription_twilio_inbound"


class FlakyMemory(InMemoryMemoryStore):
    """A memory store that can be down, or fail right after its N-th write was applied."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.crash_after_adds: int | None = None
        self.adds = 0

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        if self.down:
            raise ConnectionError("mem0 is down")
        ids = super().add(user_id, messages, metadata)
        self.adds += 1
        if self.crash_after_adds is not None and self.adds == self.crash_after_adds:
            raise RuntimeError("processor crashed after the write, before acknowledging")
        return ids

    def list_all(self, user_id: str, timeout: float | None = None) -> list:
        if self.down:
            raise ConnectionError("mem0 is down")
        return super().list_all(user_id, timeout)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[LocalRuntime]:
    running = build_runtime(
        settings,
        port=0,
        memory=FlakyMemory(),
        archive=InMemoryArchive(),
        retry_first_delay_seconds=FIRST_RETRY_DELAY,
    )
    running.start_in_background()
    yield running
    running.close()


def deliver(runtime: LocalRuntime, keys: dict[str, str], fixture: str = TRANSCRIPTION) -> httpx.Response:
    body = fixture_bytes(fixture)
    return httpx.post(
        f"{runtime.url}/post-call",
        content=body,
        timeout=10,
        headers={HEADER: sign(body, keys["hmac"]), "Content-Type": "application/json"},
    )


def caller() -> str:
    return load_fixture(TRANSCRIPTION)["data"]["metadata"]["phone_call"]["external_number"]


def stored(runtime: LocalRuntime) -> list:
    return InMemoryMemoryStore.list_all(runtime.dependencies.memory, caller())  # type: ignore[arg-type]


def test_events_wait_while_mem0_is_down_and_are_stored_once_it_is_back(runtime, keys):
    memory = runtime.dependencies.memory
    memory.down = True
    # Given Mem0 is down, When a transcription arrives, Then it is still acknowledged (it is archived)
    assert deliver(runtime, keys).status_code == 200
    # And When Mem0 comes back before the retries run out
    threading.Timer(0.2, lambda: setattr(memory, "down", False)).start()
    assert runtime.queue.wait_until_idle(timeout=10)
    # Then the call is stored, once, and nothing was parked
    assert {m.metadata["type"] for m in stored(runtime)} == {"factual", "semantic"}
    assert dead_letter.parked_keys(runtime.dependencies.settings.home / "dead-letter") == []


def test_an_archive_outage_is_a_5xx_and_the_initiation_still_answers(runtime, keys):
    archive = runtime.dependencies.archive.inner  # type: ignore[attr-defined]
    archive.fail_with = OSError("bucket unreachable")
    assert deliver(runtime, keys).status_code == 503
    initiation = httpx.post(
        f"{runtime.url}/client-data",
        content=fixture_bytes("precall_twilio_inbound"),
        headers={"X-Workspace-Key": keys["workspace"]},
        timeout=10,
    )
    assert initiation.status_code == 200
    assert initiation.json()["dynamic_variables"]["caller_id"] == caller()


@pytest.mark.parametrize("crash_after_adds", [1, 2])
def test_a_processor_crash_mid_way_is_retried_without_duplicates(runtime, keys, crash_after_adds):
    # Given processing that crashes right after its first (or last) memory write was applied
    runtime.dependencies.memory.crash_after_adds = crash_after_adds
    assert deliver(runtime, keys).status_code == 200
    assert runtime.queue.wait_until_idle(timeout=10)
    # Then the retry stores what is missing and nothing twice
    factual = [m for m in stored(runtime) if m.metadata["type"] == "factual"]
    semantic = [m.text for m in stored(runtime) if m.metadata["type"] == "semantic"]
    assert len(factual) == 1
    assert semantic and len(semantic) == len(set(semantic))


def test_a_poison_event_is_parked_then_replayed_after_a_fix(runtime, keys, settings):
    # Given an event processing cannot handle on any attempt
    memory = runtime.dependencies.memory
    memory.down = True
    assert deliver(runtime, keys).status_code == 200
    assert runtime.queue.wait_until_idle(timeout=10)
    folder = settings.home / "dead-letter"
    [parked] = dead_letter.parked_keys(folder)
    assert stored_safely(memory) == []
    # When the fault is fixed and the dead-letter queue replayed
    memory.down = False
    args = argparse.Namespace(
        dead_letter=True, dead_letter_queue_url=None, caller=None, conversation=None, since=None, until=None
    )
    assert replay_events(args, runtime.dependencies) == 0
    # Then the call is stored and the dead-letter folder is empty
    assert {m.metadata["type"] for m in stored(runtime)} == {"factual", "semantic"}
    assert dead_letter.parked_keys(folder) == []
    assert json.loads(runtime.dependencies.archive.get(parked))["type"] == "post_call_transcription"


def stored_safely(memory: FlakyMemory) -> list:
    return InMemoryMemoryStore.list_all(memory, caller())
