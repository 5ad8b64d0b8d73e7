"""The composition root of the deployed functions: each builds only the adapters it uses.

An entry point asks for its own dependencies (``post_call_dependencies()`` and so on); they are built
once per process (per Lambda execution environment) on first use, never at import, from that
function's settings model and nothing else:

- post-call acknowledgement: the archive and the signature secrets;
- processor: the archive, the memory, the audio source and its own queue (delayed audio checks);
- conversation initiation: the archive (the caller brief is read from it; no Mem0 on the pre-call path);
- search_memory: the memory;
- retention (the daily purge): the archive and the memory.

This module knows only the deployed backends (Mem0 Platform, S3). The local runtime's backends (the
embedded engine, the filesystem archive) live in ``local_runtime.backends``, which installs a
complete ``Dependencies`` with ``use_dependencies``; so no handler can reach them by accident, and the
Lambda artifact does not carry them. A backend this module cannot build is a ``ConfigurationError``
that names the setting to fix.
"""

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from .ports import Archive, AudioSource, DelayedMessages, MemoryStore, RetryQueue
from .settings import (
    LAMBDA_MARKER,
    ArchiveBackend,
    ArchiveSettings,
    AudioSourceSettings,
    ConfigurationError,
    ConversationInitiationSettings,
    MemoryBackend,
    MemorySettings,
    PostCallSettings,
    ProcessorSettings,
    RetentionPurgeSettings,
    SearchMemorySettings,
    Settings,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class PostCallDependencies(Protocol):
    @property
    def settings(self) -> PostCallSettings: ...
    @property
    def archive(self) -> Archive: ...


class ProcessorDependencies(Protocol):
    @property
    def settings(self) -> ProcessorSettings: ...
    @property
    def archive(self) -> Archive: ...
    @property
    def memory(self) -> MemoryStore: ...
    @property
    def audio_source(self) -> AudioSource | None: ...
    @property
    def delayed_messages(self) -> DelayedMessages | None: ...
    @property
    def retry_queue(self) -> RetryQueue | None: ...


class ConversationInitiationDependencies(Protocol):
    @property
    def settings(self) -> ConversationInitiationSettings: ...
    @property
    def archive(self) -> Archive: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


class RetentionDependencies(Protocol):
    @property
    def settings(self) -> RetentionPurgeSettings: ...
    @property
    def archive(self) -> Archive: ...
    @property
    def memory(self) -> MemoryStore: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


class SearchMemoryDependencies(Protocol):
    @property
    def settings(self) -> SearchMemorySettings: ...
    @property
    def memory(self) -> MemoryStore: ...
    @property
    def archive(self) -> Archive: ...


@dataclass(frozen=True)
class Dependencies:
    """Everything every function uses: what the local runtime and the tests install in one process."""

    settings: Settings
    memory: MemoryStore
    archive: Archive
    clock: Callable[[], datetime] = field(default=utc_now)
    audio_source: AudioSource | None = None
    delayed_messages: DelayedMessages | None = None
    # The processing queue for retries on a schedule and the dead letters' return (None: the queue's
    # own retries only, as in tests that drive the processor directly).
    retry_queue: RetryQueue | None = None


@dataclass(frozen=True)
class _PostCall:
    settings: PostCallSettings
    archive: Archive


@dataclass(frozen=True)
class _Processor:
    settings: ProcessorSettings
    archive: Archive
    memory: MemoryStore
    audio_source: AudioSource | None
    delayed_messages: DelayedMessages | None
    retry_queue: RetryQueue | None


@dataclass(frozen=True)
class _ConversationInitiation:
    settings: ConversationInitiationSettings
    archive: Archive
    clock: Callable[[], datetime] = field(default=utc_now)


@dataclass(frozen=True)
class _Retention:
    settings: RetentionPurgeSettings
    archive: Archive
    memory: MemoryStore
    clock: Callable[[], datetime] = field(default=utc_now)


@dataclass(frozen=True)
class _SearchMemory:
    settings: SearchMemorySettings
    memory: MemoryStore
    archive: Archive


_installed: Dependencies | None = None
_built: dict[str, object] = {}
_lock = threading.Lock()
T = TypeVar("T")


def use_dependencies(dependencies: Dependencies | None) -> None:
    """Make every entry point in this process use ``dependencies`` (None: back to their own wiring)."""
    global _installed
    with _lock:
        _installed = dependencies
        _built.clear()


def post_call_dependencies() -> PostCallDependencies:
    return _installed or _once("post-call", _build_post_call)


def processor_dependencies() -> ProcessorDependencies:
    return _installed or _once("processor", _build_processor)


def conversation_initiation_dependencies() -> ConversationInitiationDependencies:
    return _installed or _once("conversation_initiation", _build_conversation_initiation)


def search_memory_dependencies() -> SearchMemoryDependencies:
    return _installed or _once("search_memory", _build_search_memory)


def retention_dependencies() -> RetentionDependencies:
    return _installed or _once("retention", _build_retention)


def prepare_in_lambda_init(dependencies: Callable[[], object]) -> None:
    """Build a function's dependencies in Lambda's init phase, not in its first caller's budget.

    The one exception to "no I/O at import": inside Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set) a handler
    module calls this at import, so that reading the SSM secrets, importing boto3 and building the
    clients happen during Init, which provisioned concurrency runs ahead of any caller. Otherwise the
    first pre-call of every new execution environment spends its budget there and greets a returning
    caller as new. Elsewhere (tests, the local runtime) it does nothing. A configuration error is left
    for the first invocation to answer, as a JSON 500 that names the setting.
    """
    if LAMBDA_MARKER not in os.environ:
        return
    try:
        built = dependencies()
    except ConfigurationError:
        return
    for adapter in (getattr(built, "archive", None), getattr(built, "memory", None)):
        prepare = getattr(adapter, "prepare", None)
        if prepare is not None:
            prepare()


def _once(function: str, build: Callable[[Mapping[str, str]], T]) -> T:
    with _lock:
        if function not in _built:
            from .adapters.ssm_parameters import resolve_secret_parameters

            _built[function] = build(resolve_secret_parameters(os.environ))
        built: T = _built[function]  # type: ignore[assignment]
        return built


def _build_post_call(environ: Mapping[str, str]) -> _PostCall:
    settings = PostCallSettings.from_environment(environ)
    return _PostCall(settings, archive_for(settings))


def _build_processor(environ: Mapping[str, str]) -> _Processor:
    settings = ProcessorSettings.from_environment(environ)
    return _Processor(
        settings,
        archive_for(settings),
        memory_store_for(settings),
        audio_source_for(settings),
        delayed_messages_for(settings),
        retry_queue_for(settings),
    )


def _build_conversation_initiation(environ: Mapping[str, str]) -> _ConversationInitiation:
    settings = ConversationInitiationSettings.from_environment(environ)
    return _ConversationInitiation(settings, archive_for(settings))


def _build_retention(environ: Mapping[str, str]) -> _Retention:
    settings = RetentionPurgeSettings.from_environment(environ)
    return _Retention(settings, archive_for(settings), memory_store_for(settings))


def _build_search_memory(environ: Mapping[str, str]) -> _SearchMemory:
    settings = SearchMemorySettings.from_environment(environ)
    return _SearchMemory(settings, memory_store_for(settings), archive_for(settings))


def audio_source_for(settings: AudioSourceSettings) -> AudioSource | None:
    if settings.elevenlabs_api_key is None:
        return None
    from .adapters.elevenlabs_audio import ElevenLabsAudioClient

    return ElevenLabsAudioClient(settings.elevenlabs_api_key.get_secret_value(), settings.elevenlabs_base_url)


def delayed_messages_for(settings: AudioSourceSettings) -> DelayedMessages | None:
    """The processing queue (SQS) for the delayed audio check; None without a queue URL or an API key."""
    if settings.processing_queue_url is None or settings.elevenlabs_api_key is None:
        return None
    from .adapters.sqs_messages import SqsDelayedMessages

    return SqsDelayedMessages(settings.processing_queue_url)


def retry_queue_for(settings: AudioSourceSettings) -> RetryQueue | None:
    """The processing queue (SQS) and its dead-letter queue; None without their URLs (the stack sets
    both)."""
    if settings.processing_queue_url is None or settings.dead_letter_queue_url is None:
        return None
    from .adapters.sqs_messages import SqsRetryQueue

    return SqsRetryQueue(settings.processing_queue_url, settings.dead_letter_queue_url)


def memory_store_for(settings: MemorySettings) -> MemoryStore:
    """Mem0 Platform; any other backend belongs to the local runtime (``local_runtime.backends``)."""
    if settings.memory_backend is MemoryBackend.MEM0_PLATFORM:
        from .adapters.mem0_platform import Mem0PlatformStore

        return Mem0PlatformStore.from_settings(settings)
    raise ConfigurationError(
        f"MEMORY_BACKEND={settings.memory_backend} is served only by the local runtime "
        "(agentic-memory serve); set MEMORY_BACKEND=mem0-platform and MEM0_API_KEY"
    )


def archive_for(settings: ArchiveSettings) -> Archive:
    """S3; the filesystem archive belongs to the local runtime (``local_runtime.backends``)."""
    if settings.archive_backend is ArchiveBackend.S3 and settings.s3_bucket_name:
        from .adapters.s3_archive import S3Archive

        return S3Archive(settings.s3_bucket_name)
    raise ConfigurationError(
        f"ARCHIVE_BACKEND={settings.archive_backend} is served only by the local runtime "
        "(agentic-memory serve); set ARCHIVE_BACKEND=s3 and S3_BUCKET_NAME"
    )
