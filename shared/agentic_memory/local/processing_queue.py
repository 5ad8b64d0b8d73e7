"""The local stand-in for S3 notifications → SQS → the processing Lambda.

Keys of newly archived post-call events are queued; a worker thread hands each one to the same
processing entry point SQS drives in AWS, retries failures with backoff and, after the last
attempt, parks the event in ``$AGENTIC_MEMORY_HOME/dead-letter/`` instead of dropping it.
"""

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..ports import Archive
from . import dead_letter
from .events import sqs_event_for_object
from .lambda_context import LocalLambdaContext

log = logging.getLogger(__name__)
ProcessingHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
DEFAULT_BACKOFF_SECONDS = (0.5, 2.0, 5.0)


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
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
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
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=10)

    def enqueue(self, key: str) -> None:
        dead_letter.park(self._spool_dir, key, 0, "queued")
        self._put(key)

    def wait_until_idle(self, timeout: float) -> bool:
        """True once nothing is queued, running or waiting for a retry (used by tests and the CLI)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def _put(self, key: str) -> None:
        with self._idle:
            self._busy += 1
        self._queue.put((key, 1))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None and not self._stopping.is_set():
            key, attempt = item
            if self._process(key, attempt):
                self._done(key)
            elif attempt <= len(self._backoff):
                delay = self._backoff[attempt - 1]
                timer = threading.Timer(delay, self._queue.put, args=((key, attempt + 1),))
                timer.daemon = True
                timer.start()
            else:
                self._dead_letter(key, attempt)
                self._done(key)

    def _process(self, key: str, attempt: int) -> bool:
        event = sqs_event_for_object(self._bucket, key, attempt)
        try:
            result = self._handler(event, LocalLambdaContext("post-call-processor", timeout_seconds=60))
        except Exception:
            log.exception("processing handler crashed")
            return False
        return not result.get("batchItemFailures")

    def _dead_letter(self, key: str, attempts: int) -> None:
        dead_letter.park(self._dead_letter_dir, key, attempts, "processing failed on every attempt")
        log.error("post-call event parked in the dead-letter folder after %d attempts", attempts)

    def _done(self, key: str) -> None:
        dead_letter.release(self._spool_dir, key)
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

    def put_if_version(self, key: str, body: bytes, content_type: str, version: str | None) -> bool:
        # Briefs are no events: nothing to notify (the wanted() filter would refuse them anyway).
        return self.inner.put_if_version(key, body, content_type, version)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def keys(self, prefix: str) -> Iterator[str]:
        return self.inner.keys(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)
