"""Retention: after ``RETENTION_DAYS`` without a call, a caller's brief and memories are neither used
nor kept.

Used: the pre-call treats a brief whose last call is older than the period as no brief (a new caller,
``brief_in_force``) and the search tool drops memories of calls before it (``recent_records``: the
call time the processor put in ``metadata.timestamp``, else Mem0's ``created_at``).

Kept: ``purge_expired`` walks the briefs (``profiles/``) and, for each whose last call is older than
the period, deletes the memories of that brief's ``user_id`` (``scope``), then the caller's raw
archive from before the period (their post-call transcriptions with that brief's agent, those calls'
audio and memory-add receipts, and their pre-call exchanges under ``client-data/``), then the brief
itself, last, so that a purge interrupted half-way is finished by the next one. The raw archive
follows the retention: a transcription is what the memories and the brief are built from, so keeping
it would keep the memory. The operators' corrections record of the caller (``corrections``: former
names, texts of deleted memories) goes with their last brief. It runs daily in AWS
(``services/retention``) and as ``agentic-memory retention purge [--dry-run]`` locally.

Memories of a caller who still calls are not purged one by one: they stay hidden from the tool once
older than the period and go when the caller's brief expires (Mem0 has no delete by date).
"""

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import archive_keys, memory_adds
from .caller_profile import CallerProfile, decode
from .corrections import corrections_key
from .errors import ArchiveKeyMissing, UnsafeIdentifier
from .ports import Archive, MemoryRecord, MemoryStore
from .scope import scoped_user_id

log = logging.getLogger(__name__)

# (index, total, what, outcome): one line of progress per expired brief.
Progress = Callable[[int, int, str, str], None]
_CLIENT_DATA_STAMP = "%Y%m%dT%H%M%S"


def cutoff(retention_days: int | None, now: datetime) -> datetime | None:
    """The oldest moment still kept (UTC), or None when everything is kept (no retention)."""
    return None if retention_days is None else now.astimezone(UTC) - timedelta(days=retention_days)


def is_expired(profile: CallerProfile, oldest_kept: datetime | None) -> bool:
    """True when the brief's last call is older than the retention period (a brief with no call, too)."""
    if oldest_kept is None:
        return False
    return profile.last_call_at is None or profile.last_call_at < oldest_kept


def brief_in_force(profile: CallerProfile | None, oldest_kept: datetime | None) -> CallerProfile | None:
    """The brief, or None when it has expired: the caller is then greeted as a new caller."""
    return None if profile is None or is_expired(profile, oldest_kept) else profile


def recent_records(records: Iterable[MemoryRecord], oldest_kept: datetime | None) -> list[MemoryRecord]:
    """The memories made within the retention period; one with no readable time is kept."""
    if oldest_kept is None:
        return list(records)
    return [r for r in records if (made := record_time(r)) is None or made >= oldest_kept]


def record_time(record: MemoryRecord) -> datetime | None:
    """When a memory's call happened: the call time the processor put in ``metadata.timestamp``, else
    Mem0's ``created_at`` (when it was processed, which a replay or a late queue can put days later)."""
    for text in (record.metadata.get("timestamp"), record.created_at):
        if isinstance(text, str) and text:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True)
class ExpiredBrief:
    key: str
    caller_id: str
    agent_id: str | None  # set for a brief per caller and agent (profiles/{agent}/{caller}.json)
    user_id: str  # whose memories go with it


@dataclass
class PurgeReport:
    expired: list[ExpiredBrief] = field(default_factory=list)
    memories_deleted: int = 0
    objects_deleted: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # brief key → why
    dry_run: bool = False


def expired_briefs(archive: Archive, oldest_kept: datetime) -> Iterator[ExpiredBrief]:
    """Every brief whose last call is older than ``oldest_kept``. An unreadable brief is skipped."""
    for key in archive.keys(archive_keys.PROFILE_PREFIX):
        owner = archive_keys.profile_owner(key)
        if owner is None:
            continue
        try:
            profile = decode(archive.get(key))
        except ArchiveKeyMissing:
            continue
        if profile is None or not is_expired(profile, oldest_kept):
            continue
        caller, agent = owner
        yield ExpiredBrief(key=key, caller_id=caller, agent_id=agent, user_id=scoped_user_id(caller, agent))


def purge_expired(
    archive: Archive,
    memory: MemoryStore,
    retention_days: int | None,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> PurgeReport:
    """Delete what has expired (see the module's docstring); with ``dry_run``, only count it.

    One brief failing (Mem0 down, say) does not stop the others; it is retried by the next run, since
    its brief is deleted last.
    """
    report = PurgeReport(dry_run=dry_run)
    oldest_kept = cutoff(retention_days, now)
    if oldest_kept is None:
        return report
    report.expired = list(expired_briefs(archive, oldest_kept))
    unexpired_owners = _callers_with_a_brief_in_force(archive, report.expired)
    for index, brief in enumerate(report.expired, start=1):
        try:
            last = brief.caller_id not in unexpired_owners
            memories, keys = _purge_one(archive, memory, brief, oldest_kept, dry_run, last)
        except Exception as error:  # one caller must not stop the purge of thousands
            report.failed[brief.key] = f"{type(error).__name__}: {error}"
            outcome = f"failed ({type(error).__name__})"
        else:
            report.memories_deleted += memories
            report.objects_deleted += len(keys)
            verb = "would delete" if dry_run else "deleted"
            outcome = f"{verb} {memories} memories and {len(keys)} archived objects"
        if progress is not None:
            progress(index, len(report.expired), brief.key, outcome)
    return report


def _callers_with_a_brief_in_force(archive: Archive, expired: list[ExpiredBrief]) -> set[str]:
    """The callers with a brief that has not expired (with another agent, under per-agent scope)."""
    expired_keys = {brief.key for brief in expired}
    owners = set()
    for key in archive.keys(archive_keys.PROFILE_PREFIX):
        owner = archive_keys.profile_owner(key)
        if owner is not None and key not in expired_keys:
            owners.add(owner[0])
    return owners


def _purge_one(
    archive: Archive,
    memory: MemoryStore,
    brief: ExpiredBrief,
    oldest_kept: datetime,
    dry_run: bool,
    last_brief: bool = True,
) -> tuple[int, list[str]]:
    """``last_brief``: no other brief of the caller is in force, so the operators' corrections record
    (which holds the former name and the texts of deleted memories) goes too."""
    index = archive_keys.recall_key(brief.caller_id, brief.agent_id)
    record = corrections_key(brief.caller_id)
    keys = [
        *_expired_archive(archive, brief, oldest_kept),
        *([index] if archive.exists(index) else []),
        *([record] if last_brief and archive.exists(record) else []),
        brief.key,
    ]
    if dry_run:
        return len(memory.list_all(brief.user_id)), keys
    deleted = memory.delete_all(brief.user_id)
    for key in keys:  # the brief is last: until it goes, the next purge finds this caller again
        archive.delete(key)
    return deleted, keys


def _expired_archive(archive: Archive, brief: ExpiredBrief, oldest_kept: datetime) -> list[str]:
    caller = brief.caller_id
    keys: list[str] = []
    for key in archive.keys(f"{archive_keys.POST_CALL_PREFIX}{caller}/"):
        event = _event(archive, key)
        moment = _event_time(event) if event is not None else None
        if event is None or moment is None or moment >= oldest_kept:
            continue
        data = event.get("data")
        ids = data if isinstance(data, dict) else {}
        agent, conversation = str(ids.get("agent_id", "")), str(ids.get("conversation_id", ""))
        if brief.agent_id is not None and archive_keys.id_segment(agent) != brief.agent_id:
            continue  # another agent's call with this caller: that brief decides
        keys.append(key)
        keys.extend(_files_of_call(archive, caller, agent, conversation))
    for key in archive.keys(f"{archive_keys.CLIENT_DATA_PREFIX}{caller}/"):
        stamp = key[len(archive_keys.CLIENT_DATA_PREFIX) + len(caller) + 1 :].partition("_")[0][:15]
        try:
            received = datetime.strptime(stamp, _CLIENT_DATA_STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue
        if received < oldest_kept:
            keys.append(key)
    return keys


def _files_of_call(archive: Archive, caller: str, agent_id: str, conversation_id: str) -> list[str]:
    try:
        candidates = [
            archive_keys.audio_event_key(agent_id, conversation_id),
            archive_keys.audio_key(agent_id, conversation_id),
        ]
    except UnsafeIdentifier:
        candidates = []
    receipts = f"{memory_adds.MEMORY_ADDS_PREFIX}{caller}/{archive_keys.id_segment(conversation_id)}/"
    return [k for k in candidates if archive.exists(k)] + list(archive.keys(receipts))


def _event(archive: Archive, key: str) -> dict[str, object] | None:
    if not archive_keys.is_post_call_event(key):
        return None
    try:
        event = json.loads(archive.get(key))
    except (ArchiveKeyMissing, ValueError):
        return None
    return event if isinstance(event, dict) else None


def _event_time(event: dict[str, object]) -> datetime | None:
    data = event.get("data")
    metadata = data.get("metadata") if isinstance(data, dict) else None
    started = metadata.get("start_time_unix_secs") if isinstance(metadata, dict) else None
    stamp = started or event.get("event_timestamp")
    try:
        return datetime.fromtimestamp(float(stamp), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
