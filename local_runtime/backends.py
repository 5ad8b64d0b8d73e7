"""The local runtime's composition root: every backend, the local-only ones included.

The deployed functions build their adapters in ``agentic_memory.wiring``, which knows only Mem0
Platform and S3. The local runtime and the operator commands come here instead: the embedded Mem0
engine and the filesystem archive when the settings choose them (the default on a laptop), the
deployed adapters otherwise.
"""

from agentic_memory.ports import Archive, MemoryStore
from agentic_memory.settings import (
    ArchiveBackend,
    ArchiveSettings,
    EmbeddedLlmSettings,
    MemoryBackend,
    MemorySettings,
    Settings,
)
from agentic_memory.wiring import Dependencies, audio_source_for
from agentic_memory.wiring import archive_for as deployed_archive_for
from agentic_memory.wiring import memory_store_for as deployed_memory_store_for


def memory_store_for(settings: MemorySettings) -> MemoryStore:
    if settings.memory_backend is MemoryBackend.EMBEDDED:
        from local_runtime.adapters.mem0_local import EmbeddedMemoryStore, OpenAICompatibleLlm

        llm = None
        if isinstance(settings, EmbeddedLlmSettings) and settings.embedded_llm_base_url:
            key = settings.embedded_llm_api_key
            llm = OpenAICompatibleLlm(
                base_url=settings.embedded_llm_base_url,
                model=settings.embedded_llm_model or "",
                api_key=key.get_secret_value() if key else None,
            )
        return EmbeddedMemoryStore(settings.home / "memory", llm=llm)
    return deployed_memory_store_for(settings)


def archive_for(settings: ArchiveSettings) -> Archive:
    if settings.archive_backend is ArchiveBackend.FILESYSTEM:
        from local_runtime.adapters.filesystem_archive import FilesystemArchive

        return FilesystemArchive(settings.home / "archive")
    return deployed_archive_for(settings)


def dependencies_from(settings: Settings) -> Dependencies:
    return Dependencies(
        settings=settings,
        memory=memory_store_for(settings),
        archive=archive_for(settings),
        audio_source=audio_source_for(settings),
    )
