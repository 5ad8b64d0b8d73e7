"""The composition root: which adapters serve a process, chosen from the settings.

Entry points ask ``current_dependencies()``; it is built once per process (per Lambda execution
environment) on first use, never at import. The local runtime and tests install their own.
"""

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .ports import Archive, AudioSource, MemoryStore
from .settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    memory: MemoryStore
    archive: Archive
    clock: Callable[[], datetime] = field(default=utc_now)
    audio_source: AudioSource | None = None


_installed: Dependencies | None = None
_lock = threading.Lock()


def use_dependencies(dependencies: Dependencies | None) -> None:
    """Make every entry point in this process use ``dependencies`` (None: back to the default)."""
    global _installed
    with _lock:
        _installed = dependencies


def current_dependencies() -> Dependencies:
    global _installed
    with _lock:
        if _installed is None:
            from .adapters.ssm_parameters import resolve_secret_parameters

            _installed = dependencies_from(Settings.from_environment(resolve_secret_parameters(os.environ)))
        return _installed


def dependencies_from(settings: Settings) -> Dependencies:
    return Dependencies(
        settings=settings,
        memory=memory_store_for(settings),
        archive=archive_for(settings),
        audio_source=audio_source_for(settings),
    )


def audio_source_for(settings: Settings) -> AudioSource | None:
    if settings.elevenlabs_api_key is None:
        return None
    from .adapters.elevenlabs_audio import ElevenLabsAudioClient

    return ElevenLabsAudioClient(settings.elevenlabs_api_key.get_secret_value(), settings.elevenlabs_base_url)


def memory_store_for(settings: Settings) -> MemoryStore:
    if settings.mem0_api_key is not None:
        from .adapters.mem0_platform import Mem0PlatformStore

        return Mem0PlatformStore.from_settings(settings)
    from .adapters.mem0_local import EmbeddedMemoryStore

    return EmbeddedMemoryStore(settings.home / "memory")


def archive_for(settings: Settings) -> Archive:
    if settings.s3_bucket_name:
        from .adapters.s3_archive import S3Archive

        return S3Archive(settings.s3_bucket_name)
    from .adapters.filesystem_archive import FilesystemArchive

    return FilesystemArchive(settings.home / "archive")
