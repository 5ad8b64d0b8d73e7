"""The local stand-in for S3 notifications → SQS → the processing Lambda.

Keys of newly archived post-call events are queued; a worker thread hands each one to the same
processing entry point SQS drives in AWS, retries failures with backoff and, after the last
attempt, parks the event in ``$AGENTIC_MEMORY_HOME/dead-letter/`` instead of dropping it.

The processor's own delayed messages (``send``: the audio check, SQS ``DelaySeconds`` in AWS) are
queued by a timer after their delay and retried the same way; they are not kept across restarts
(``agentic-memory replay --conversation`` fetches a call's missing audio).
"""

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentic_memory import archive_keys
from agentic_memory.ports import Archive

from . import dead_letter
from .events import sqs_event_for_message, sqs_event_for_object
from .lambda_context import LocalLambdaContext

log = logging.getLogger(__name__)
ProcessingHandler = Callable[[dict[str, Any], Any], Mapping[str, Any]]
DEFAULT_BACKOFF_SECONDS = (0.5, 2.0, 5.0)


@dataclass(frozen=True)
class Message:
    """A message the processor sent itself, as opposed to the key of an archived event."""

    body: str


Work = str | Message


class ProcessingQueue:
    """Keys of archived events waiting for processing, kept in a spool folder until done.

    The spool makes the queue durable as SQS is: an event acknowledged just before the runtime
    stops (or crashes) is processed when it starts again.
    """

    def __init__(
        self,
        handler: ProcessingHandler,
        dead_letter_dir: Path,
        backoff_seconds: tuple[float, ...] = DEFAULT_BACKOFF_SECONDS,
        bucket: str = "local-archive",
        workers: int = 8,
        spool_dir: Path | None = None,
    ) -> None:
        self._handler = handler
        self._dead_letter_dir = dead_letter_dir
        self._spool_dir = spool_dir or dead_letter_dir.parent / "queue"
        self._backoff = backoff_seconds
        self._bucket = bucket
        self._queue: queue.Queue[tuple[Work, int] | None] = queue.Queue()
        self._timers: list[threading.Timer] = []
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
        """Stop after the events being processed now; what is still queued stays in the spool."""
        self._stopping.set()
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
        timer = threading.Timer(delay_seconds, self._queue.put, args=((Message(body), 1),))
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

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

    def _run(self) -> None:
        while (item := self._queue.get()) is not None and not self._stopping.is_set():
            work, attempt = item
            if self._process(work, attempt):
                self._done(work)
            elif attempt <= len(self._backoff):
                delay = self._backoff[attempt - 1]
                timer = threading.Timer(delay, self._queue.put, args=((work, attempt + 1),))
                timer.daemon = True
                timer.start()
            else:
                self._dead_letter(work, attempt)
                self._done(work)

    def _process(self, work: Work, attempt: int) -> bool:
        if isinstance(work, Message):
            event = sqs_event_for_message(work.body, attempt)
        else:
            event = sqs_event_for_object(self._bucket, work, attempt)
        try:
            result = self._handler(event, LocalLambdaContext("post-call-processor", timeout_seconds=60))
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
        dead_letter.park(self._dead_letter_dir, key, attempts, "processing failed on every attempt")
        log.error(
            "post-call event of conversation %s parked in the dead-letter folder after %d attempts",
            archive_keys.conversation_of_event(key),
            attempts,
        )

    def _done(self, work: Work) -> None:
        if not isinstance(work, Message):
            dead_letter.release(self._spool_dir, work)
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()


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
