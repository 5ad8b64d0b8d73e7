"""Recall indexes in the archive: add a call, rebuild from the archived calls, read with a warm copy.

Keys are ``archive_keys.recall_key`` (``recall/{caller}.sqlite.gz``, or under the agent's folder per
``MEMORY_SCOPE``), the same in S3 and locally. Two calls of one caller may be processed at once, so
every update reads the index and its version, changes it, and writes only if the version is still
the one read (S3: ``If-Match`` on the ETag, ``If-None-Match: *`` for a new index), retrying on a
conflict, as the caller brief does. Adding a call already indexed changes nothing: a replay or a
duplicate delivery never indexes twice.

**Bounds.** An index keeps at most ``MAX_INDEXED_CHARACTERS`` of what was said (about 200 hour-long
calls): past that the oldest calls leave the index (they stay in the archive). Calls older than the
retention period leave it when the next call is indexed, and ``retention`` deletes it with the brief.
Measured on the memoir benchmark's text: see docs/recall.md for the size per hour of talk.

**Reading.** The search tool reads the index at every request; a process keeps the last
``CACHED_INDEXES`` indexes it opened and asks the archive only whether each changed
(``Archive.get_if_changed``: a 304 from S3, no body), so a warm Lambda pays one small request, not a
download and a decompression.
"""

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from .. import archive_keys
from ..corrections import corrected_indexed_call, read_corrections
from ..errors import ArchiveKeyMissing, ArchiveUnavailable
from ..ports import Archive
from ..profile_store import archived_transcriptions, pause_before_retry
from ..redaction import ALL_KINDS, SensitiveKind
from ..transfers import visits
from .calls import indexed_call
from .index import IndexedCall, RecallIndex

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/gzip"
MAX_WRITE_ATTEMPTS = 6
_RETRY_PAUSE_SECONDS = 0.05
MAX_INDEXED_CHARACTERS = 12_000_000
CACHED_INDEXES = 4
# progress(done, total, what): long rebuilds report as they go.
Progress = Callable[[int, int, str], None]


def add_call(
    archive: Archive,
    caller_id: str,
    call: IndexedCall,
    agent_segment: str | None = None,
    retention_days: int | None = None,
) -> bool:
    """Index one call in the caller's index (``agent_segment``: their index with that agent); False
    when it was indexed already (nothing written). An unreadable index is rebuilt from the archive
    first. Raises ``ArchiveUnavailable`` when every attempt met another writer (the queue retries)."""
    key = archive_keys.recall_key(caller_id, agent_segment)
    for attempt in range(MAX_WRITE_ATTEMPTS):
        index, version = _read_for_update(archive, key, caller_id, agent_segment, retention_days)
        try:
            if not index.add_call(call):
                return False
            _keep_within_bounds(index, retention_days, call.started_at)
            if archive.put_if_version(key, index.dump(), CONTENT_TYPE, version):
                return True
        finally:
            index.close()
        _pause(attempt)
    raise ArchiveUnavailable("the recall index changed under every attempt to update it")


def rebuild(
    archive: Archive,
    caller_id: str,
    agent_segment: str | None = None,
    retention_days: int | None = None,
    redact_kinds: frozenset[SensitiveKind] = ALL_KINDS,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> frozenset[str]:
    """Build the caller's index again from their archived transcriptions (with ``agent_segment``:
    that agent's calls only) and store it; the conversation ids of the calls indexed (several agents'
    indexes of one caller share transferred calls: their union counts each call once). No call: the
    index is removed."""
    key = archive_keys.recall_key(caller_id, agent_segment)
    for attempt in range(MAX_WRITE_ATTEMPTS):
        try:
            version: str | None = archive.get_versioned(key)[1]
        except ArchiveKeyMissing:
            version = None
        index = RecallIndex.load(None)
        try:
            calls = list(archived_calls(archive, caller_id, agent_segment, redact_kinds, progress))
            for call in calls:
                index.add_call(call)
            newest = max((call.started_at for call in calls), default=now)
            _keep_within_bounds(index, retention_days, newest)
            indexed = frozenset(call.conversation_id for call in index.calls())
            if not indexed:
                archive.delete(key)
                return indexed
            # Conditional: a call the processor indexed meanwhile is in the archive, and read again.
            if archive.put_if_version(key, index.dump(), CONTENT_TYPE, version):
                return indexed
        finally:
            index.close()
        _pause(attempt)
    raise ArchiveUnavailable("the recall index changed under every attempt to rebuild it")


def archived_calls(
    archive: Archive,
    caller_id: str,
    agent_segment: str | None = None,
    redact_kinds: frozenset[SensitiveKind] = ALL_KINDS,
    progress: Progress | None = None,
) -> Iterator[IndexedCall]:
    """Every call of the caller in their archived transcriptions that happened, oldest first."""
    # The operator's corrections: the corrected name in what was said, removed calls left out.
    corrections = read_corrections(archive, caller_id)
    renamed = corrections.operator_name() is not None
    calls = [
        corrected_indexed_call(indexed_call(event.data, redact_kinds, renamed), corrections)
        for event in archived_transcriptions(archive, caller_id, progress)
        if visits(event.data, agent_segment) and event.data.conversation_id not in corrections.removed_calls()
    ]
    yield from sorted(calls, key=lambda call: (call.started_at, call.conversation_id))


def index_keys(archive: Archive, caller_id: str) -> list[str]:
    """Every index key of the caller: theirs and one per agent (``MEMORY_SCOPE=caller_and_agent``)."""
    return [
        key
        for key in archive.keys(archive_keys.RECALL_PREFIX)
        if (owner := archive_keys.recall_owner(key)) is not None and owner[0] == caller_id
    ]


class IndexCache:
    """The last few indexes a process opened, each checked against the archive at every use."""

    def __init__(self, size: int = CACHED_INDEXES) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[str, RecallIndex, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def opened(self, archive: Archive, key: str) -> Iterator[RecallIndex | None]:
        """The index at ``key`` as it is now, or None when there is none; held for the ``with``.

        Raises ``ArchiveUnavailable`` when the archive cannot answer, ``ValueError`` for an
        unreadable index."""
        with self._lock:
            cached = self._entries.get(key)
        try:
            changed = archive.get_if_changed(key, cached[0] if cached else None)
        except ArchiveKeyMissing:
            self._forget(key)
            yield None
            return
        if changed is not None:
            body, version = changed
            cached = (version, RecallIndex.load(body), threading.Lock())
            self._remember(key, cached)
        assert cached is not None  # noqa: S101 - get_if_changed returns a body when there is no copy
        with cached[2]:
            yield cached[1]

    def _remember(self, key: str, entry: tuple[str, RecallIndex, threading.Lock]) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


def _read_for_update(
    archive: Archive, key: str, caller_id: str, agent_segment: str | None, retention_days: int | None
) -> tuple[RecallIndex, str | None]:
    try:
        body, version = archive.get_versioned(key)
    except ArchiveKeyMissing:
        return RecallIndex.load(None), None
    try:
        return RecallIndex.load(body), version
    except ValueError:
        log.warning("an unreadable recall index is rebuilt from the archive")
        rebuild(archive, caller_id, agent_segment, retention_days)
        body, version = archive.get_versioned(key)
        return RecallIndex.load(body), version


def _keep_within_bounds(index: RecallIndex, retention_days: int | None, newest: datetime | None) -> None:
    calls = index.calls()
    if retention_days is not None and newest is not None:
        oldest_kept = newest - timedelta(days=retention_days)
        for call in calls:
            if call.started_at < oldest_kept:
                index.remove_call(call.conversation_id)
    while index.figures().characters > MAX_INDEXED_CHARACTERS and index.figures().calls > 1:
        index.remove_call(index.calls()[0].conversation_id)


def _pause(attempt: int) -> None:
    pause_before_retry(attempt, _RETRY_PAUSE_SECONDS)
