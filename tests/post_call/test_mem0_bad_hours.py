"""Memory that survives Mem0's bad hours: the local runtime over HTTP with a memory store that throttles
(429 with Retry-After), goes down, or refuses one call for ever. The queue retries on the schedule and
its dead letters come back by themselves once Mem0 answers, as SQS and the processor's schedule do in
AWS; nobody runs a command.

The schedule runs fast here (first retry after 0.05 s, a re-drive tick every 0.1 s); the Retry-After is
the one second Mem0 says at least.
"""

import time
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

import httpx
import pytest
from helpers import eventually

from agentic_memory.adapters.mem0_platform.errors import Mem0PlatformError
from agentic_memory.ports import ChatMessage, MemoryRecord
from agentic_memory.retry_schedule import MAX_REDRIVES
from agentic_memory.settings import Settings
from agentic_memory.signature import HEADER, sign
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import fixture_bytes, load_fixture
from local_runtime import dead_letter
from local_runtime.events import scheduled_event
from local_runtime.lambda_context import LocalLambdaContext
from local_runtime.processing_queue import MAX_ATTEMPTS
from local_runtime.runtime import LocalRuntime, build_runtime
from services.post_call.processor import HEALTH_PROBE_USER_ID
from services.post_call.processor import lambda_handler as process_post_call

pytestmark = pytest.mark.integration
FIRST_RETRY_DELAY = 0.05
REDRIVE_INTERVAL = 0.1
RETRY_AFTER = 1.0
TRANSCRIPTION = "transcription_twilio_inbound"


class BadHoursMemory(InMemoryMemoryStore):
    """A memory store that can throttle, be down, or refuse every add. It notes when each processing
    attempt reached it (an attempt starts by listing the caller's memories) and each health probe."""

    def __init__(self) -> None:
        super().__init__()
        self.throttled = False
        self.down = False
        self.refuses_adds = False
        self.attempts: list[float] = []
        self.probes = 0

    def list_all(self, user_id: str, timeout: float | None = None) -> list[MemoryRecord]:
        if user_id == HEALTH_PROBE_USER_ID:
            self.probes += 1
        else:
            self.attempts.append(time.monotonic())
        if self.down:
            raise Mem0PlatformError("Mem0 is down", operation="GET /v1/memories/", kind="unreachable")
        if self.throttled:
            raise Mem0PlatformError(
                "Mem0 throttles",
                operation="GET /v1/memories/",
                kind="rate_limited",
                status=429,
                retry_after=RETRY_AFTER,
            )
        return super().list_all(user_id, timeout)

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        if self.refuses_adds:
            raise Mem0PlatformError("Mem0 refuses this call", operation="POST /v1/memories/", kind="rejected")
        return super().add(user_id, messages, metadata)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[LocalRuntime]:
    running = build_runtime(
        settings,
        port=0,
        memory=BadHoursMemory(),
        archive=InMemoryArchive(),
        retry_first_delay_seconds=FIRST_RETRY_DELAY,
        redrive_interval_seconds=REDRIVE_INTERVAL,
    )
    running.start_in_background()
    yield running
    running.close()


def memory_of(runtime: LocalRuntime) -> BadHoursMemory:
    memory = runtime.dependencies.memory
    assert isinstance(memory, BadHoursMemory)
    return memory


def deliver(runtime: LocalRuntime, keys: dict[str, str]) -> httpx.Response:
    body = fixture_bytes(TRANSCRIPTION)
    return httpx.post(
        f"{runtime.url}/post-call",
        content=body,
        timeout=10,
        headers={HEADER: sign(body, keys["hmac"]), "Content-Type": "application/json"},
    )


def known_at_the_next_call(runtime: LocalRuntime, keys: dict[str, str]) -> bool:
    answer = httpx.post(
        f"{runtime.url}/client-data",
        content=fixture_bytes("precall_twilio_inbound"),
        headers={"X-Workspace-Key": keys["workspace"]},
        timeout=10,
    )
    assert answer.status_code == 200
    return bool(answer.json()["dynamic_variables"]["returning_caller"] == "yes")


def stored_types(memory: BadHoursMemory) -> set[str]:
    caller = load_fixture(TRANSCRIPTION)["data"]["metadata"]["phone_call"]["external_number"]
    return {record.metadata["type"] for record in InMemoryMemoryStore.list_all(memory, caller)}


def parked(settings: Settings) -> list[dead_letter.ParkedEvent]:
    return dead_letter.parked_events(settings.home / "dead-letter")


def test_a_throttled_event_waits_out_retry_after_and_the_caller_is_known_meanwhile(runtime, keys, settings):
    memory = memory_of(runtime)
    # Given Mem0 throttling every request with Retry-After: 1
    memory.throttled = True
    # When a transcription arrives
    assert deliver(runtime, keys).status_code == 200
    # Then the next pre-call knows the caller (the brief) while Mem0 holds nothing of the call
    assert eventually(lambda: known_at_the_next_call(runtime, keys), timeout=10)
    assert stored_types(memory) == set()
    # When the throttling ends
    memory.throttled = False
    # Then the memories arrive without any command, each retry no sooner than Retry-After
    assert runtime.queue.wait_until_idle(timeout=10)
    assert stored_types(memory) == {"factual", "semantic"}
    assert len(memory.attempts) >= 2
    assert all(later - earlier >= RETRY_AFTER for earlier, later in pairwise(memory.attempts))
    assert parked(settings) == []


def test_an_event_dead_lettered_in_an_outage_comes_back_by_itself_once_mem0_answers(runtime, keys, settings):
    memory = memory_of(runtime)
    # Given Mem0 down for longer than the retry schedule
    memory.down = True
    assert deliver(runtime, keys).status_code == 200
    # Then after its five attempts the event is parked in the dead-letter folder
    [event] = eventually(lambda: parked(settings), timeout=10)
    assert len(memory.attempts) == MAX_ATTEMPTS
    # And while Mem0 stays down the schedule's probes fail and the event stays there
    probes = memory.probes
    assert eventually(lambda: memory.probes >= probes + 2, timeout=10)
    assert parked(settings) == [event]
    # When Mem0 answers again
    memory.down = False
    # Then the schedule re-drives the event and its memories arrive, without any command
    assert eventually(lambda: stored_types(memory) == {"factual", "semantic"}, timeout=10)
    assert runtime.queue.wait_until_idle(timeout=10)
    assert parked(settings) == []


def test_an_event_that_always_fails_is_re_driven_at_most_three_times_then_stays(runtime, keys, settings):
    memory = memory_of(runtime)
    # Given a Mem0 that answers but refuses this call's memories, every time
    memory.refuses_adds = True
    assert deliver(runtime, keys).status_code == 200

    # Then it is re-driven three times, five attempts each time, and parked for good after that
    def parked_for_good() -> list[dead_letter.ParkedEvent]:
        return [event for event in parked(settings) if event.redrives == MAX_REDRIVES]

    assert eventually(parked_for_good, timeout=15)
    probes = memory.probes
    assert eventually(lambda: memory.probes >= probes + 2, timeout=10)
    [event] = parked(settings)
    assert (event.redrives, event.attempts) == (MAX_REDRIVES, MAX_ATTEMPTS)
    assert len(memory.attempts) == MAX_ATTEMPTS * (1 + MAX_REDRIVES)
    # And the scheduled run says so: nothing re-driven, one kept
    answer = process_post_call(scheduled_event("test-rule"), LocalLambdaContext("post-call-processor", 60))
    assert (answer["redriven"], answer["kept"]) == (0, 1)
    assert stored_types(memory) == set()
