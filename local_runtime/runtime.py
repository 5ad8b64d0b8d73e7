"""Assembles the local runtime: the same three handlers, the embedded memory, a filesystem archive
and an in-process processing queue (with the schedule that re-drives its dead letters), behind one
HTTP server on loopback."""

import logging
import os
import threading
import time
from dataclasses import dataclass

from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute

from agentic_memory.archive_keys import is_post_call_event
from agentic_memory.errors import MemoryUnavailable
from agentic_memory.ports import Archive, AudioSource, MemoryStore
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies, audio_source_for, use_dependencies

from . import admin, dead_letter, operator_commands
from .admin import COMMANDS_PATH, CommandEndpoint, admin_key
from .backends import archive_for, memory_store_for
from .home import HomeLock
from .oversized import oversized_audio_recorder
from .processing_queue import REDRIVE_INTERVAL_SECONDS, NotifyingArchive, ProcessingQueue, RedriveSchedule
from .server import LocalRuntimeServer, Route

log = logging.getLogger(__name__)


@dataclass
class LocalRuntime:
    server: LocalRuntimeServer
    queue: ProcessingQueue
    dependencies: Dependencies
    redrive: RedriveSchedule
    # The home's lock (local_runtime/home.py), held until close: one runtime per data folder.
    home_lock: HomeLock | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def start_in_background(self, timeout: float = 10) -> threading.Thread:
        """Serve on a thread of its own; returns once the server accepts connections."""
        thread = threading.Thread(target=self.serve_forever, name="local-runtime", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.server.started:
            admin.announce(self.dependencies.settings.home, self.url)  # operator commands come here
        return thread

    def close(self) -> None:
        admin.withdraw(self.dependencies.settings.home)
        self.server.shutdown()
        self.server.server_close()
        self.redrive.stop()
        self.queue.stop()
        close = getattr(self.dependencies.memory, "close", None)
        if close is not None:
            close()  # releases the embedded store's folder lock
        use_dependencies(None)
        if self.home_lock is not None:
            self.home_lock.release()


def build_runtime(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    memory: MemoryStore | None = None,
    archive: Archive | None = None,
    audio_source: AudioSource | None = None,
    console_key: str | None = None,
    retry_first_delay_seconds: float | None = None,
    redrive_interval_seconds: float = REDRIVE_INTERVAL_SECONDS,
    home_lock: HomeLock | None = None,
) -> LocalRuntime:
    """The runtime for ``settings``; ``memory``, ``archive`` and ``audio_source`` replace the adapters
    the settings select (tests inject fakes and faults this way). With ``console_key`` it also serves
    the operator's console at ``/console`` (``console.routes``), guarded by that key.

    ``retry_first_delay_seconds`` replaces ``RETRY_FIRST_DELAY_SECONDS`` and ``redrive_interval_seconds``
    the re-drive schedule's five minutes, so that tests run the whole schedule in fractions of a second.

    The runtime holds its home (``home_lock``, else taken here) until ``close``: ``HomeInUse`` naming the
    holder when another process has it, before anything is opened.
    """
    lock = home_lock or HomeLock.acquire(settings.home, "serve")
    try:
        runtime = _assemble(
            settings,
            host,
            port,
            memory,
            archive,
            audio_source,
            console_key,
            retry_first_delay_seconds,
            redrive_interval_seconds,
        )
    except BaseException:
        lock.release()
        raise
    runtime.home_lock = lock
    return runtime


def _assemble(
    settings: Settings,
    host: str,
    port: int,
    memory: MemoryStore | None,
    archive: Archive | None,
    audio_source: AudioSource | None,
    console_key: str | None,
    retry_first_delay_seconds: float | None,
    redrive_interval_seconds: float,
) -> LocalRuntime:
    # The handlers are imported here, not at module import, so `agentic-memory --help` stays instant.
    from services.conversation_initiation.handler import lambda_handler as conversation_initiation
    from services.post_call.handler import lambda_handler as post_call
    from services.post_call.processor import lambda_handler as process_post_call
    from services.search_memory.handler import lambda_handler as search_memory

    if retry_first_delay_seconds is not None:
        # Below the setting's one-second floor on purpose (tests), hence unvalidated: the processor,
        # which asks for each retry's delay, and the queue read the same value.
        settings = settings.model_copy(update={"retry_first_delay_seconds": retry_first_delay_seconds})
    dead_letters = settings.home / "dead-letter"
    queue = ProcessingQueue(process_post_call, dead_letters, settings.retry_first_delay_seconds)
    redrive = RedriveSchedule(process_post_call, dead_letters, redrive_interval_seconds)
    notifying = NotifyingArchive(archive or archive_for(settings), queue.enqueue, is_post_call_event)
    dependencies = Dependencies(
        settings=settings,
        memory=memory or memory_store_for(settings),
        archive=notifying,
        audio_source=audio_source or audio_source_for(settings),
        # The delayed audio check waits on the in-process queue, as on SQS in AWS, and so do retries.
        delayed_messages=queue,
        retry_queue=queue,
    )
    use_dependencies(dependencies)
    warm_up(dependencies)
    routes = {
        ("POST", "/client-data"): Route("client-data", conversation_initiation, timeout_seconds=3),
        ("GET", "/retrieve"): Route("retrieve", search_memory, timeout_seconds=3),
        ("POST", "/retrieve"): Route("retrieve", search_memory, timeout_seconds=3),
        ("POST", "/post-call"): Route("post-call", post_call, timeout_seconds=10),
    }
    console: list[BaseRoute] = []
    if console_key:
        from .console.routes import console_routes

        console = console_routes(dependencies, console_key)
    server = LocalRuntimeServer(
        (host, port),
        routes,
        oversized_audio_recorder(notifying),
        [*console, operator_commands_route(dependencies, notifying.inner)],
        health=lambda: health_report(settings, queue, dependencies.memory),
    )
    queue.start()
    redrive.start()
    server.ready.set()
    return LocalRuntime(server=server, queue=queue, dependencies=dependencies, redrive=redrive)


def operator_commands_route(dependencies: Dependencies, archive: Archive) -> BaseRoute:
    """``POST /admin/commands`` (local_runtime/admin.py): operator commands run in here while the runtime
    holds the embedded store. They use the archive itself, so what they write is not queued twice."""
    operator = Dependencies(
        settings=dependencies.settings,
        memory=dependencies.memory,
        archive=archive,
        audio_source=dependencies.audio_source,
    )
    endpoint = CommandEndpoint(
        admin_key(os.environ, dependencies.settings.home),
        lambda argv: operator_commands.run(operator_commands.parse(argv), deps=operator),
    )
    return StarletteRoute(COMMANDS_PATH, endpoint.handle, methods=["POST"])


def health_report(
    settings: Settings, queue: ProcessingQueue, memory: MemoryStore | None = None
) -> dict[str, object]:
    """What ``/health`` says besides its status: backend kinds and counts, no personal data; status
    ``degraded`` with ``memory_unavailable`` (why) while the memory store cannot open.

    Still 200: the pre-call answers from the brief and post-call events are archived and retried, so
    the runtime is serving. Only a store that says whether it can open (the embedded engine) is asked;
    Mem0 Platform is not called on every health check (the re-drive schedule probes it)."""
    report: dict[str, object] = {
        "memory": str(settings.memory_backend),
        "archive": str(settings.archive_backend),
        "processing_queue_depth": queue.depth,
        "dead_letter_count": len(dead_letter.parked_keys(settings.home / "dead-letter")),
    }
    availability = getattr(memory, "availability", None)
    unavailable = availability() if availability is not None else None
    if unavailable:
        return {"status": "degraded", **report, "memory_unavailable": unavailable}
    return report


def warm_up(dependencies: Dependencies) -> None:
    """Load the embedding model (or the HTTP stack) before the first caller does.

    A memory store that is down at start is not fatal: the handlers answer without it.
    """
    prepare = getattr(dependencies.memory, "prepare", None)
    try:
        if prepare is not None:
            prepare()
        else:
            dependencies.memory.search("+10000000000", "warm up", 1)
    except MemoryUnavailable as error:
        log.warning("memory is unavailable at start (%s); serving without it until it is back", error)
