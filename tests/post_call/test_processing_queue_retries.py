"""The local processing queue as the processor's retry queue, with a scripted handler in place of the
processor: the delay a failed delivery asks for, stopping while a retry waits, and re-drive counts
that survive the spool and a restart."""

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from agentic_memory.ports import Redriven
from local_runtime import dead_letter
from local_runtime.processing_queue import MAX_ATTEMPTS, ProcessingQueue

KEY = "post-call/transcriptions/agent_1/2026/01/05/conv_0001.json"
Handler = Callable[[dict[str, Any], Any], Mapping[str, Any]]


class ScriptedProcessor:
    """Fails every delivery, asking the queue (once it is set) for ``asks_for`` seconds before the
    next; notes each delivery's receive count and receipt handle."""

    def __init__(self, asks_for: float | None = None) -> None:
        self.asks_for = asks_for
        self.queue: ProcessingQueue | None = None
        self.deliveries: list[tuple[int, str]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Mapping[str, Any]:
        [record] = event["Records"]
        receive_count = int(record["attributes"]["ApproximateReceiveCount"])
        self.deliveries.append((receive_count, record["receiptHandle"]))
        if self.queue is not None and self.asks_for is not None:
            self.queue.retry_later(record["receiptHandle"], self.asks_for)
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}


def succeeding(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    return {"batchItemFailures": []}


def queue_in(home: Path, handler: Handler) -> ProcessingQueue:
    return ProcessingQueue(handler, home / "dead-letter", 0.01, workers=2)


def test_an_event_failing_every_attempt_is_parked_after_five_with_a_fresh_handle_each(tmp_path):
    processor = ScriptedProcessor()
    queue = queue_in(tmp_path, processor)
    queue.start()
    try:
        queue.enqueue(KEY)
        assert queue.wait_until_idle(timeout=10)
    finally:
        queue.stop()
    assert [count for count, _ in processor.deliveries] == list(range(1, MAX_ATTEMPTS + 1))
    assert len({handle for _, handle in processor.deliveries}) == MAX_ATTEMPTS
    assert dead_letter.parked_events(tmp_path / "dead-letter") == [
        dead_letter.ParkedEvent(KEY, attempts=MAX_ATTEMPTS, redrives=0)
    ]
    assert dead_letter.parked_keys(tmp_path / "queue") == []


def test_a_retry_waiting_its_delay_does_not_hold_up_a_stop_and_survives_a_restart(tmp_path):
    # Given a delivery that failed and asked for an hour before its retry
    processor = ScriptedProcessor(asks_for=3600)
    queue = queue_in(tmp_path, processor)
    processor.queue = queue
    queue.start()
    queue.enqueue(KEY)
    assert not queue.wait_until_idle(timeout=0.3)  # the retry waiting is work not yet done
    assert queue.depth == 1
    # When the runtime stops
    queue.stop()
    # Then the event waits in the spool, and a restart processes it
    assert dead_letter.parked_keys(tmp_path / "queue") == [KEY]
    restarted = queue_in(tmp_path, succeeding)
    restarted.start()
    try:
        assert restarted.wait_until_idle(timeout=10)
    finally:
        restarted.stop()
    assert dead_letter.parked_keys(tmp_path / "queue") == []
    assert len(processor.deliveries) == 1


def test_re_drives_are_counted_across_a_restart_and_stop_at_the_limit(tmp_path):
    folder = tmp_path / "dead-letter"
    dead_letter.park(folder, KEY, MAX_ATTEMPTS, "processing failed on every attempt", redrives=2)
    other = KEY.replace("conv_0001", "conv_0002")
    dead_letter.park(folder, other, MAX_ATTEMPTS, "processing failed on every attempt", redrives=3)
    queue = queue_in(tmp_path, ScriptedProcessor())
    # When the dead letters are re-driven while the queue is not running (a stop right after)
    assert queue.redrive_dead_letters(3) == Redriven(moved=1, kept=1)
    # Then the one re-driven waits in the spool with its count, and the other stays parked
    assert dead_letter.parked_keys(folder) == [other]
    spooled = json.loads((tmp_path / "queue" / dead_letter.record_name(KEY)).read_text())
    assert spooled["redrives"] == 3
    # When the runtime starts again and the event fails every attempt
    restarted = queue_in(tmp_path, ScriptedProcessor())
    restarted.start()
    try:
        assert restarted.wait_until_idle(timeout=10)
    finally:
        restarted.stop()
    # Then it is parked with its third re-drive counted, and no further re-drive takes it
    assert {event.key: event.redrives for event in dead_letter.parked_events(folder)} == {KEY: 3, other: 3}
    assert restarted.redrive_dead_letters(3) == Redriven(moved=0, kept=2)


def test_a_retry_asked_for_a_delivery_no_longer_in_flight_is_refused(tmp_path):
    queue = queue_in(tmp_path, succeeding)
    with pytest.raises(LookupError):
        queue.retry_later("local-unknown", 30)
