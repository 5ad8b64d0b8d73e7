"""The two ports the domain talks through. Adapters implement them; tests pass in-memory fakes."""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["user", "assistant"]
    content: str


class MemoryRecord(BaseModel):
    """One stored memory as every store reports it."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    metadata: Mapping[str, Any] = Field(default_factory=dict)
    created_at: str | None = None
    score: float | None = None


class InferredAdd(BaseModel):
    """What an add with inference gave: the memories stored by now, and the event of an add that goes
    on after the answer (Mem0 Platform answers ``{"event_id", "status": "PENDING"}``; its memories
    appear once extraction has run)."""

    model_config = ConfigDict(frozen=True)

    ids: tuple[str, ...] = ()
    event_id: str | None = None


class MemoryStore(Protocol):
    """A caller's memories. ``timeout`` is the time the caller can still wait, in seconds."""

    @property
    def infers(self) -> bool:
        """True when ``add_inferred`` extracts facts with an LLM (Mem0 Platform, the embedded engine
        with an LLM configured); False when the store can only keep messages verbatim."""
        ...

    def add(self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]) -> list[str]:
        """Store the messages verbatim (no LLM inference); return the new memory ids."""
        ...

    def add_inferred(
        self, user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]
    ) -> InferredAdd:
        """Let the store's LLM extract and consolidate facts from a conversation (Mem0's ``infer``).

        Every memory extracted carries ``metadata``. Raises ``MemoryUnavailable`` when the store has
        no LLM or cannot be reached; never retried inside (a lost answer may hide an accepted add).
        """
        ...

    def search(
        self, user_id: str, query: str, limit: int, timeout: float | None = None
    ) -> list[MemoryRecord]: ...

    def list_all(self, user_id: str, timeout: float | None = None) -> list[MemoryRecord]: ...

    def delete_all(self, user_id: str) -> int: ...

    def delete(self, memory_id: str) -> bool:
        """Delete one memory by id (Mem0's ``DELETE /v1/memories/{id}/``); False when there was none."""
        ...

    def update(self, memory_id: str, text: str) -> bool:
        """Replace one memory's text, keeping its id and metadata (Mem0's ``PUT /v1/memories/{id}/``);
        False when there was none."""
        ...


class Archive(Protocol):
    """Durable storage of raw events, call audio and pre-call exchanges, by key."""

    def put_new(self, key: str, body: bytes, content_type: str) -> bool:
        """Write ``body`` only if ``key`` is absent; False means it was already there (a duplicate)."""
        ...

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The stored bytes; raises ``ArchiveKeyMissing`` when absent."""
        ...

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        """The stored bytes and an opaque version token for ``put_if_version`` (S3: the ETag).

        Raises ``ArchiveKeyMissing`` when absent.
        """
        ...

    def get_if_changed(self, key: str, version: str | None) -> tuple[bytes, str] | None:
        """Like ``get_versioned``, but None when ``key`` is still at ``version`` (nothing read): a
        reader that keeps a copy checks it cheaply (S3: ``If-None-Match`` on the ETag, answered 304).

        Raises ``ArchiveKeyMissing`` when absent.
        """
        ...

    def put_if_version(self, key: str, body: bytes, content_type: str, version: str | None) -> bool:
        """Write ``body`` only if ``key`` is still at ``version`` (``None``: only if it is absent).

        False means another write came first (or the key was deleted): read again and retry.
        """
        ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str) -> Iterator[str]: ...

    def delete(self, key: str) -> None: ...


class NoAudio(Exception):
    """The audio source keeps no audio for this conversation (e.g. the agent does not record)."""


class AudioSource(Protocol):
    """Where a call's audio can be fetched when its webhook could not deliver it. Raises ``NoAudio``
    when there is none to fetch, any other exception when it cannot be fetched now."""

    def fetch_audio(self, conversation_id: str) -> bytes: ...


class DelayedMessages(Protocol):
    """The processing queue, for a message to the processor itself some time from now (SQS
    ``DelaySeconds`` in AWS, a timer on the in-process queue locally)."""

    def send(self, body: str, delay_seconds: int) -> None: ...


class Redriven(BaseModel):
    """What a re-drive of the dead letters did: events sent back to the queue, and events left
    dead-lettered because they were re-driven ``MAX_REDRIVES`` times already (``retry_schedule``)."""

    model_config = ConfigDict(frozen=True)

    moved: int = 0
    kept: int = 0


class RetryQueue(Protocol):
    """The processing queue, for a failed message's next attempt and for the dead letters' return
    (SQS and its dead-letter queue in AWS, the in-process queue and ``dead-letter/`` locally)."""

    def retry_later(self, receipt_handle: str, delay_seconds: float) -> None:
        """Make the failed message (its record's ``receiptHandle``) visible again in ``delay_seconds``
        (SQS ``ChangeMessageVisibility``) instead of the queue's default."""
        ...

    def redrive_dead_letters(self, max_redrives: int) -> Redriven:
        """Send every dead letter back to the queue as a new message, except those re-driven
        ``max_redrives`` times already, which stay."""
        ...
