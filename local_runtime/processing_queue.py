"""The local stand-in for S3 notifications → SQS → the processing Lambda, and for the EventBridge
schedule that re-drives its dead letters.

Keys of newly archived post-call events are queued; worker threads hand each one to the same
processing entry point SQS drives in AWS. A failed attempt is retried after the delay the processor
asks for (``retry_later``, SQS ``ChangeMessageVisibility``: ``retry_schedule``'s 30 s, 1, 2, 4 minutes,
never sooner than Mem0's ``Retry-After``); after the fifth attempt (SQS's receive limit) the event is
parked in ``$AGENTIC_MEMORY_HOME/dead-letter/`` instead of dropped. Every few minutes the processor is
invoked as the schedule invokes it in AWS, and once the memory store answers it sends the dead
letters back here (``redrive_dead_letters``), each at most ``MAX_REDRIVES`` times.

The processor's own delayed messages (``send``: the audio check, SQS ``DelaySeconds`` in AWS) are
queued by a timer after their delay and retried the same way, but never parked: they are not kept
across restarts (``agentic-memory replay --conversation`` fetches a call's missing audio).
"""

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentic_memory import archive_keys
from agentic_memory.ports import Archive, Redriven
from agentic_memory.retry_schedule import delay_before_retry

from . import dead_letter
from .events import new_receipt_handle, scheduled_event, sqs_event_for_message, sqs_event_for_object
from .lambda_context import LocalLambdaContext

log = logging.getLogger(__name__)
ProcessingHandler = Callable[[dict[str, Any], Any], Mapping[str, Any]]
# SQS's default receive limit before the dead-letter queue (maxReceiveCount), as the stack sets it.
MAX_ATTEMPTS = 5
# How often the dead letters are offered back to the processor (the stack's rate(5 minutes) rule).
REDRIVE_INTERVAL_SECONDS = 300.0
PROCESSOR_FUNCTION = "post-call-processor"


@dataclass(frozen=True)
class Message:
    """A message the processor sent itself, as opposed to the key of an archived event."""

    body: str


Work = str | Message


class ProcessingQueue:
    """Keys of archived events waiting for processing, kept in a spool folder until done.

    The spool makes the queue durable as SQS is: an event acknowledged just before the runtime
    stops (or crashes) is processed when it starts again, and so is one waiting for its retry. It is
    the ``RetryQueue`` the processor asks for retries and re-drives (``Dependencies.retry_queue``).
    """

    def __init__(
        self,
        handler: ProcessingHandler,
        dead_letter_dir: Path,
        first_delay_seconds: int,
        bucket: str = "local-archive",
        workers: int = 8,
        spool_dir: Path | None = None,
    ) -> None:
        self._handler = handler
        self._dead_letter_dir = dead_letter_dir
        self._spool_dir = spool_dir or dead_letter_dir.parent / "queue"
        self._first_delay = first_delay_seconds
        self._bucket = bucket
        self._queue: queue.Queue[tuple[Work, int] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        # Deliveries being processed, by receipt handle: the delay the processor asked for, if any.
        self._in_flight: dict[str, float | None] = {}
        self._busy = 0
        self._idle = threading.Condition()
        self._stopping = threading.Event()
        # Several workers, as SQS drives several Lambda instances: one slow Mem0 write must not hold
        # up every other call. Each key is handled by one worker at a time (retries are re-queued).
        self._workers = [
            threading.Thread(target=self._run, name=f"post-call-processing-{n}", daemon=True)
            for n in range(workers)
        ]

    def start(self) -> None:
        """Start the workers, after queueing what an earlier run left unprocessed."""
        for key in dead_letter.parked_keys(self._spool_dir):
            self._put(key)
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        """Stop after the events being processed now; what is still queued, or waiting for its
        retry, stays in the spool."""
        self._stopping.set()
        with self._lock:
            for timer in self._timers:
                timer.cancel()
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=10)

    def enqueue(self, key: str) -> None:
        dead_letter.park(self._spool_dir, key, 0, "queued")
        self._put(key)

    def send(self, body: str, delay_seconds: int) -> None:
        """Queue a message for the processor ``delay_seconds`` from now (``DelayedMessages``)."""
        with self._idle:
            self._busy += 1  # a message waiting for its delay is work not yet done
        self._later(delay_seconds, Message(body), 1)

    def retry_later(self, receipt_handle: str, delay_seconds: float) -> None:
        """Retry the delivery ``receipt_handle`` names ``delay_seconds`` after it failed (``RetryQueue``)."""
        with self._lock:
            if receipt_handle not in self._in_flight:
                # What SQS answers (ReceiptHandleIsInvalid) for a message no longer being processed.
                raise LookupError("no delivery in flight has this receipt handle")
            self._in_flight[receipt_handle] = delay_seconds

    def redrive_dead_letters(self, max_redrives: int) -> Redriven:
        """Queue every parked event again from its first attempt, except those re-driven
        ``max_redrives`` times already, which stay parked (``RetryQueue``)."""
        moved = kept = 0
        with self._lock:
            for parked in dead_letter.parked_events(self._dead_letter_dir):
                if parked.redrives >= max_redrives:
                    kept += 1
                    continue
                # Into the spool before out of the dead letters: a crash in between loses nothing.
                dead_letter.park(self._spool_dir, parked.key, 0, "re-driven", redrives=parked.redrives + 1)
                dead_letter.release(self._dead_letter_dir, parked.key)
                self._put(parked.key)
                moved += 1
        return Redriven(moved=moved, kept=kept)

    @property
    def depth(self) -> int:
        """Events and messages queued, delayed, being processed or waiting for a retry."""
        with self._idle:
            return self._busy

    def wait_until_idle(self, timeout: float) -> bool:
        """True once nothing is queued, delayed, running or waiting for a retry (tests and the CLI)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def _put(self, key: str) -> None:
        with self._idle:
            self._busy += 1
        self._queue.put((key, 1))

    def _later(self, delay_seconds: float, work: Work, attempt: int) -> None:
        timer = threading.Timer(delay_seconds, self._queue.put, args=((work, attempt),))
        timer.daemon = True
        with self._lock:
            if self._stopping.is_set():
                return  # the spool keeps the event for the next start
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
            timer.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None and not self._stopping.is_set():
            work, attempt = item
            receipt_handle = new_receipt_handle()
            with self._lock:
                self._in_flight[receipt_handle] = None
            processed = self._process(work, attempt, receipt_handle)
            with self._lock:
                asked = self._in_flight.pop(receipt_handle)
            if processed:
                self._done(work)
            elif attempt < MAX_ATTEMPTS:
                # The processor's delay (Mem0's Retry-After at least), else the schedule's: what SQS
                # does with the visibility the processor set, or with the queue's own.
                delay = asked if asked is not None else delay_before_retry(attempt, self._first_delay)
                self._later(delay, work, attempt + 1)
            else:
                self._dead_letter(work, attempt)
                self._done(work)

    def _process(self, work: Work, attempt: int, receipt_handle: str) -> bool:
        if isinstance(work, Message):
            event = sqs_event_for_message(work.body, attempt, receipt_handle)
        else:
            event = sqs_event_for_object(self._bucket, work, attempt, receipt_handle)
        try:
            result = self._handler(event, LocalLambdaContext(PROCESSOR_FUNCTION, timeout_seconds=60))
        except Exception:
            log.exception("processing handler crashed")
            return False
        return not result.get("batchItemFailures")

    def _dead_letter(self, work: Work, attempts: int) -> None:
        if isinstance(work, Message):
            # Its archived transcription stays: replaying the conversation fetches the audio.
            log.error("a delayed processing message failed on every attempt (%d); dropped", attempts)
            return
        key = work
        spooled = dead_letter.parked_event(self._spool_dir, key)
        redrives = spooled.redrives if spooled else 0
        with self._lock:
            dead_letter.park(
                self._dead_letter_dir, key, attempts, "processing failed on every attempt", redrives
            )
        log.error(
            "post-call event of conversation %s parked in the dead-letter folder after %d attempts"
            " (re-driven %d times before)",
            archive_keys.conversation_of_event(key),
            attempts,
            redrives,
        )

    def _done(self, work: Work) -> None:
        if not isinstance(work, Message):
            dead_letter.release(self._spool_dir, work)
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()


class RedriveSchedule:
    """The EventBridge rule that invokes the processor every ``interval_seconds`` with a scheduled
    event, as in AWS: the processor probes the memory store and, once it answers, re-drives the dead
    letters through the queue. It fires only when the dead-letter folder holds something, so an empty
    one costs no probe."""

    def __init__(
        self,
        handler: ProcessingHandler,
        dead_letter_dir: Path,
        interval_seconds: float = REDRIVE_INTERVAL_SECONDS,
        rule_name: str = f"{PROCESSOR_FUNCTION}-schedule",
    ) -> None:
        self._handler = handler
        self._dead_letter_dir = dead_letter_dir
        self._interval = interval_seconds
        self._rule_name = rule_name
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dead-letter-redrive", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            if not dead_letter.is_empty(self._dead_letter_dir):
                self._invoke()

    def _invoke(self) -> None:
        try:
            answer = self._handler(
                scheduled_event(self._rule_name), LocalLambdaContext(PROCESSOR_FUNCTION, timeout_seconds=60)
            )
        except Exception:
            log.exception("the scheduled re-drive of the dead letters crashed")
            return
        if answer.get("redriven"):
            log.info(
                "%s post-call event(s) re-driven from the dead-letter folder, %s kept there",
                answer["redriven"],
                answer.get("kept", 0),
            )


class NotifyingArchive:
    """An archive that reports each new post-call event, as S3 does with ObjectCreated."""

    def __init__(
        self, inner: Archive, on_created: Callable[[str], None], wanted: Callable[[str], bool]
    ) -> None:
        self.inner = inner
        self._on_created = on_created
        self._wanted = wanted

    def put_new(self, key: str, body: bytes, content_type: str) -> bool:
        created = self.inner.put_new(key, body, content_type)
        if created and self._wanted(key):
            self._on_created(key)
        return created

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.inner.put(key, body, content_type)
        if self._wanted(key):
            self._on_created(key)

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        return self.inner.get_versioned(key)

    def get_if_changed(self, key: str, version: str | None) -> tuple[bytes, str] | None:
        return self.inner.get_if_changed(key, version)

    def put_if_version(self, key: str, body: bytes, content_type: str, version: str | None) -> bool:
        # Briefs are no events: nothing to notify (the wanted() filter would refuse them anyway).
        return self.inner.put_if_version(key, body, content_type, version)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def keys(self, prefix: str) -> Iterator[str]:
        return self.inner.keys(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)
