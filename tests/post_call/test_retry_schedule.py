"""The retry schedule's arithmetic, and the processor asking the queue for it: the delay grows with the
receive count, Mem0's Retry-After is the least wait, a poison event is not held, and the scheduled run
re-drives the dead letters only once the memory store answers."""

import json
from typing import Any

import pytest
from helpers import lambda_context, sqs_event

from agentic_memory.adapters.mem0_platform.errors import Mem0PlatformError
from agentic_memory.ports import Redriven
from agentic_memory.retry_schedule import (
    LONGEST_BACKOFF_SECONDS,
    LONGEST_VISIBILITY_SECONDS,
    MAX_REDRIVES,
    delay_before_retry,
    retry_after_of,
)
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, use_dependencies
from devtools.fakes import InMemoryArchive, InMemoryMemoryStore
from devtools.fixtures import fixture_bytes
from services.post_call.processor import lambda_handler as process

SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}, "id": "1", "time": "t"}


@pytest.mark.parametrize(
    ("failed", "retry_after", "expected"),
    [(1, None, 30), (2, None, 60), (3, None, 120), (4, None, 240), (6, None, 900), (30, None, 900),
     (1, 45.2, 46), (3, 7, 120), (1, 10**6, LONGEST_VISIBILITY_SECONDS), (1, -5, 30), (0, None, 30)],
)  # fmt: skip
def test_the_delay_doubles_to_its_cap_and_never_undercuts_retry_after(failed, retry_after, expected):
    assert delay_before_retry(failed, 30, retry_after) == expected
    assert delay_before_retry(failed, 30, retry_after) <= max(
        LONGEST_BACKOFF_SECONDS, LONGEST_VISIBILITY_SECONDS
    )


def test_retry_after_is_found_on_the_error_or_its_causes():
    throttled = Mem0PlatformError("429", operation="POST /v1/memories/", kind="rate_limited", retry_after=12)
    try:
        try:
            raise throttled
        except Mem0PlatformError as inner:
            raise RuntimeError("adding the memories failed") from inner
    except RuntimeError as outer:
        assert retry_after_of(outer) == 12.0
    assert retry_after_of(ValueError("no hint")) is None
    assert retry_after_of(Mem0PlatformError("503", operation="x", kind="server")) is None


class RecordingRetryQueue:
    def __init__(self, dead_letters: int = 0) -> None:
        self.delays: list[tuple[str, float]] = []
        self.dead_letters = dead_letters
        self.redrives: list[int] = []

    def retry_later(self, receipt_handle: str, delay_seconds: float) -> None:
        self.delays.append((receipt_handle, delay_seconds))

    def redrive_dead_letters(self, max_redrives: int) -> Redriven:
        self.redrives.append(max_redrives)
        moved, self.dead_letters = self.dead_letters, 0
        return Redriven(moved=moved, kept=0)


class ThrottledMemory(InMemoryMemoryStore):
    def __init__(self, retry_after: float | None, down: bool = True) -> None:
        super().__init__()
        self.retry_after, self.down = retry_after, down

    def _refuse(self) -> None:
        if self.down:
            raise Mem0PlatformError(
                "Mem0 -> 429",
                operation="POST /v1/memories/",
                kind="rate_limited",
                retry_after=self.retry_after,
            )

    def add(self, user_id: str, messages: Any, metadata: Any) -> list[str]:
        self._refuse()
        return super().add(user_id, messages, metadata)

    def list_all(self, user_id: str, timeout: float | None = None) -> list[Any]:
        self._refuse()
        return super().list_all(user_id, timeout)


def installed(keys: dict[str, str], tmp_path, memory, retry_queue, archive=None) -> Dependencies:
    settings = Settings.from_environment(
        {
            "ELEVENLABS_HMAC_KEY": keys["hmac"],
            "AGENTIC_MEMORY_HOME": str(tmp_path),
            "AGENT_PHONE_NUMBERS": "+15550100001",
            "RETRY_FIRST_DELAY_SECONDS": "20",
        }
    )
    deps = Dependencies(
        settings=settings, memory=memory, archive=archive or InMemoryArchive(), retry_queue=retry_queue
    )
    use_dependencies(deps)
    return deps


@pytest.fixture(autouse=True)
def uninstall():
    yield
    use_dependencies(None)


def received(key: str, receive_count: int) -> dict[str, Any]:
    event = sqs_event(key)
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return event


def archived_transcription(deps: Dependencies) -> str:
    key = "post-call/+15550100142/conv_throttled.json"
    body = json.loads(fixture_bytes("transcription_twilio_inbound"))
    body["data"]["conversation_id"] = "conv_throttled"
    deps.archive.put(key, json.dumps(body).encode(), "application/json")
    return key


@pytest.mark.parametrize(
    ("receive_count", "retry_after", "expected"), [(1, None, 20), (3, None, 80), (1, 95, 95)]
)
def test_a_throttled_event_is_held_for_the_schedules_delay(
    keys, tmp_path, receive_count, retry_after, expected
):
    retries = RecordingRetryQueue()
    deps = installed(keys, tmp_path, ThrottledMemory(retry_after), retries)
    key = archived_transcription(deps)
    event = received(key, receive_count)
    answer = process(event, lambda_context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert retries.delays == [(event["Records"][0]["receiptHandle"], expected)]
    # And the caller's brief learnt the call all the same
    assert deps.archive.exists("profiles/+15550100142.json")


def test_a_poison_event_is_not_held(keys, tmp_path):
    retries = RecordingRetryQueue()
    deps = installed(keys, tmp_path, InMemoryMemoryStore(), retries)
    deps.archive.put(
        "post-call/+15550100142/conv_poison.json", b'{"type": "post_call_transcription", "data": ', "x"
    )
    answer = process(received("post-call/+15550100142/conv_poison.json", 1), lambda_context())
    assert len(answer["batchItemFailures"]) == 1 and retries.delays == []


def test_the_scheduled_run_redrives_only_once_the_memory_store_answers(keys, tmp_path):
    retries = RecordingRetryQueue(dead_letters=2)
    memory = ThrottledMemory(retry_after=None)
    installed(keys, tmp_path, memory, retries)
    assert process(SCHEDULED, lambda_context()) == {
        "redriven": 0,
        "kept": 0,
        "skipped": "memory store unavailable",
    }
    assert retries.redrives == []
    memory.down = False
    assert process(SCHEDULED, lambda_context()) == {"redriven": 2, "kept": 0}
    assert retries.redrives == [MAX_REDRIVES]


def test_without_a_retry_queue_the_scheduled_run_says_so(keys, tmp_path):
    installed(keys, tmp_path, InMemoryMemoryStore(), None)
    assert process(SCHEDULED, lambda_context())["skipped"] == "no dead-letter queue configured"
