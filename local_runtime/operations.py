"""Operator tasks over the archive and the memory: replay events, list and erase a caller.

These run from ``agentic-memory replay|forget|memories``, against the local data or a stack's
bucket and Mem0 project. Everything a caller told us can be found from their number: memories by
``user_id``, pre-call exchanges under ``client-data/{caller}/``, transcriptions under
``post-call/{caller}/``, the caller brief at ``profiles/{caller}.json``, and, joined through each
transcription's agent and conversation ids, the audio under ``post-call/audio-only/``.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from agentic_memory import archive_keys, caller_links, memory_adds
from agentic_memory.archive_keys import id_segment
from agentic_memory.corrections import corrections_key, read_corrections
from agentic_memory.elevenlabs import post_call as wire
from agentic_memory.errors import ArchiveKeyMissing, BadRequest, MissingCaller
from agentic_memory.ports import Archive, AudioSource, MemoryRecord, MemoryStore
from agentic_memory.post_call import ProcessingResult, caller_of, parse_event, process_archived_event
from agentic_memory.profile_store import archived_transcriptions, rebuild_profile
from agentic_memory.recall import store as recall_store
from agentic_memory.redaction import ALL_KINDS, SensitiveKind
from agentic_memory.scope import MemoryScope, every_user_id
from agentic_memory.settings import IdentitySettings, ProcessorSettings
from agentic_memory.transfers import conversation_agents

Progress = Callable[[int, int, str, str], None]


@dataclass
class ReplayReport:
    processed: list[ProcessingResult] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


# What --since/--until compare: the call's own start (the event's time when it has none) or when
# the archive stored the event (the post-call webhook's delivery, or a later move by replay).
TimeBasis = Literal["call", "archived"]


def event_keys(
    archive: Archive,
    caller_id: str | None = None,
    conversation_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    by: TimeBasis = "call",
    settings: IdentitySettings | None = None,
) -> Iterator[str]:
    """Archived post-call event keys, narrowed to one caller, one conversation or a time range.

    A caller's events are everything archived for them (``caller_event_keys``; ``settings`` say who an
    unattributed transcription names). The time range applies to ``by``: ``call``, the call's start
    (``metadata.start_time_unix_secs``, else the event's ``event_timestamp``), or ``archived``, when the
    archive stored it (an archive that cannot tell raises ``ValueError``).
    """
    if caller_id:
        candidates: Iterator[str] = iter(caller_event_keys(archive, caller_id, settings))
    else:
        candidates = archive.keys(archive_keys.POST_CALL_PREFIX)
    wanted_conversation = (
        archive_keys.safe_id(conversation_id, "conversation_id") if conversation_id else None
    )
    for key in candidates:
        if not archive_keys.is_post_call_event(key):
            continue
        if wanted_conversation and not key.endswith(f"/{wanted_conversation}.json"):
            continue
        if (since or until) and not _within(archive, key, since, until, by):
            continue
        yield key


def caller_event_keys(
    archive: Archive, caller_id: str, settings: IdentitySettings | None = None
) -> list[str]:
    """Every archived post-call event of the caller: their transcriptions; the audio, oversized-audio
    and initiation-failure events of those calls (joined by agent and conversation); and unattributed
    transcriptions that are theirs, because configuration now names them (``CALLER_ID_VARIABLES``) or
    because they carry the call sid of one of the caller's pre-call exchanges (``client-data/``).
    ``replay(..., owner=caller_id)`` moves the latter to the caller's key."""
    caller = archive_keys.safe_caller(caller_id)
    transcriptions = [
        key
        for key in archive.keys(f"{archive_keys.POST_CALL_PREFIX}{caller}/")
        if archive_keys.is_post_call_event(key)
    ]
    keys = list(transcriptions)
    for key in transcriptions:
        call = _call_of(archive, key)
        if call is None:
            continue
        for joined in (
            archive_keys.audio_event_key(*call),
            archive_keys.oversized_audio_key(*call),
            archive_keys.initiation_failure_key(*call),
        ):
            if archive.exists(joined):
                keys.append(joined)
    return keys + _unattributed_of(archive, caller, settings)


def _call_of(archive: Archive, transcription_key: str) -> tuple[str, str] | None:
    try:
        event = parse_event(archive.get(transcription_key))
    except (ArchiveKeyMissing, BadRequest):
        return None
    if not isinstance(event, wire.PostCallTranscription):
        return None
    return event.data.agent_id, event.data.conversation_id


def _unattributed_of(archive: Archive, caller: str, settings: IdentitySettings | None) -> list[str]:
    # The pre-call exchange folders end in the call sid: client-data/{caller}/{stamp}_{call sid}/.
    sids = {
        parts[2].split("_", 1)[1]
        for key in archive.keys(f"{archive_keys.CLIENT_DATA_PREFIX}{caller}/")
        if len(parts := key.split("/")) > 3 and "_" in parts[2]
    } - {"no-call-sid"}
    found = []
    for key in archive.keys(archive_keys.UNATTRIBUTED_PREFIX):
        try:
            event = parse_event(archive.get(key))
        except (ArchiveKeyMissing, BadRequest):
            continue
        if not isinstance(event, wire.PostCallTranscription):
            continue
        phone = event.data.metadata.phone_call
        sid = phone.call_sid if phone else None
        if (sid and archive_keys.id_segment(sid) in sids) or _named_by_settings(event, settings) == caller:
            found.append(key)
    return found


def _named_by_settings(event: wire.PostCallTranscription, settings: IdentitySettings | None) -> str | None:
    if settings is None:
        return None
    try:
        return caller_of(event.data, settings)
    except MissingCaller:
        return None


def replay(
    keys: list[str],
    settings: ProcessorSettings,
    archive: Archive,
    memory: MemoryStore,
    progress: Progress | None = None,
    audio_source: AudioSource | None = None,
    owner: str | None = None,
) -> ReplayReport:
    """Process each archived event again; processing is idempotent, so nothing is stored twice.

    An unattributed transcription that configuration now attributes (``CALLER_ID_VARIABLES`` set
    since, say) is first moved to its caller's key (``attribute``), then processed there; one that
    still names nobody is moved to ``owner`` when given (``caller_event_keys`` found it theirs).
    """
    report = ReplayReport()
    for index, key in enumerate(keys, start=1):
        try:
            attributed = attribute(key, settings, archive, owner)
            if attributed is None:
                conversation = key.rsplit("/", 1)[-1].removesuffix(".json")
                result = ProcessingResult(
                    key=key,
                    event_type="post_call_transcription",
                    conversation_id=conversation,
                    skipped="removed_by_operator",
                )
            else:
                key = attributed
                result = process_archived_event(
                    key, settings, archive, memory, audio_source, fetch_missing_audio=True
                )
        except Exception as error:  # one bad event must not stop a replay of thousands
            report.failed[key] = f"{type(error).__name__}: {error}"
            outcome = f"failed ({type(error).__name__})"
        else:
            report.processed.append(result)
            outcome = result.skipped or (
                f"{result.memories_added} memories" if result.memories_added else result.audio_key or "ok"
            )
        if progress is not None:
            progress(index, len(keys), key, outcome)
    return report


def attribute(
    key: str, settings: ProcessorSettings, archive: Archive, owner: str | None = None
) -> str | None:
    """The key of an unattributed transcription once it names a caller, after moving it there; None
    when that caller's operator removed the conversation (the unattributed copy is deleted).

    Any other key, or a transcription that still names nobody (or a withheld number), is returned
    as it is. The event is copied byte for byte before the unattributed copy is deleted, so a crash
    in between leaves two copies, never none; processing is idempotent either way.
    """
    if not key.startswith(archive_keys.UNATTRIBUTED_PREFIX):
        return key
    body = archive.get(key)
    event = parse_event(body)
    if not isinstance(event, wire.PostCallTranscription):
        return key
    try:
        caller_id = caller_of(event.data, settings, archive)
    except MissingCaller:
        if owner is None:
            return key
        caller_id = owner
    attributed = archive_keys.transcription_key(caller_id, event.data.conversation_id)
    if event.data.conversation_id in read_corrections(archive, caller_id).removed_calls():
        # A copy of a call the operator removed: it goes, it does not come back to the caller.
        archive.delete(key)
        return None
    archive.put_new(attributed, body, "application/json")
    archive.delete(key)
    return attributed


@dataclass(frozen=True)
class CallerFootprint:
    """Everything stored about one caller, found before anything is erased: with every agent, whatever
    ``MEMORY_SCOPE`` is now (memories may have been kept per agent before)."""

    caller_id: str
    memories: list[MemoryRecord]
    object_keys: list[str]
    # Every Mem0 user_id the caller's memories may be under: theirs and one per agent (``scope``).
    user_ids: list[str] = field(default_factory=list)


def footprint(caller_id: str, archive: Archive, memory: MemoryStore) -> CallerFootprint:
    """What is kept about the caller, and about every WhatsApp business-scoped id linked to their
    number (``caller_links``), with the links themselves."""
    own = _own_footprint(caller_id, archive, memory)
    for linked in caller_links.ids_linked_to(archive, own.caller_id):
        theirs = _own_footprint(linked, archive, memory)
        own.memories.extend(theirs.memories)
        own.object_keys.extend([*theirs.object_keys, caller_links.link_key(linked)])
        own.user_ids.extend(theirs.user_ids)
    return own


def _own_footprint(caller_id: str, archive: Archive, memory: MemoryStore) -> CallerFootprint:
    caller = archive_keys.safe_caller(caller_id)
    transcriptions = list(archive.keys(f"{archive_keys.POST_CALL_PREFIX}{caller}/"))
    keys = list(archive.keys(f"{archive_keys.CLIENT_DATA_PREFIX}{caller}/")) + transcriptions
    keys.extend(archive.keys(f"{memory_adds.MEMORY_ADDS_PREFIX}{caller}/"))
    agents: set[str] = set()
    for key in transcriptions:
        audio, visited = _audio_of(archive, key)
        keys.extend(k for k in audio if archive.exists(k))
        agents.update(visited)
    briefs = caller_briefs(archive, caller)
    keys.extend(briefs)
    keys.extend(recall_store.index_keys(archive, caller))
    if archive.exists(corrections_key(caller)):
        keys.append(corrections_key(caller))
    user_ids = every_user_id(caller, agents | set(_agents_of(briefs)))
    memories = [record for user_id in user_ids for record in memory.list_all(user_id)]
    return CallerFootprint(caller_id=caller, memories=memories, object_keys=keys, user_ids=user_ids)


def caller_briefs(archive: Archive, caller_id: str) -> list[str]:
    """The caller's brief keys: ``profiles/{caller}.json`` and one ``profiles/{agent}/{caller}.json``
    per agent they have a brief with (``MEMORY_SCOPE=caller_and_agent``)."""
    own = archive_keys.profile_key(caller_id)
    per_agent = [
        key
        for key in archive.keys(archive_keys.PROFILE_PREFIX)
        if (owner := archive_keys.profile_owner(key)) and owner == (caller_id, owner[1]) and owner[1]
    ]
    return ([own] if archive.exists(own) else []) + sorted(per_agent)


def brief_agents(archive: Archive, caller_id: str) -> list[str | None]:
    """Whose each of the caller's briefs is (``caller_briefs``' order): None for their own brief, an
    agent segment for a brief with that agent."""
    return [
        owner[1] for key in caller_briefs(archive, caller_id) if (owner := archive_keys.profile_owner(key))
    ]


def caller_user_ids(archive: Archive, caller_id: str) -> list[str]:
    """The Mem0 user_ids of the caller's memories: theirs, and one per agent they have a brief with."""
    return every_user_id(caller_id, _agents_of(caller_briefs(archive, caller_id)))


def _agents_of(brief_keys: list[str]) -> list[str]:
    return [owner[1] for key in brief_keys if (owner := archive_keys.profile_owner(key)) and owner[1]]


@dataclass
class RebuildReport:
    rebuilt: dict[str, int] = field(default_factory=dict)  # caller → calls in the new brief
    indexed: dict[str, int] = field(default_factory=dict)  # caller → calls in the new recall index
    failed: dict[str, str] = field(default_factory=dict)


def rebuild_profiles(
    callers: list[str],
    archive: Archive,
    progress: Callable[[int, int, str, str], None] | None = None,
    scope: MemoryScope = MemoryScope.CALLER,
    retention_days: int | None = None,
    redact_kinds: frozenset[SensitiveKind] = ALL_KINDS,
) -> RebuildReport:
    """Rebuild each caller's brief and recall index from their archived transcriptions (also how a
    deployment made before briefs or indexes existed gets them); under ``scope`` caller_and_agent,
    one of each per agent they called; calls before a gap longer than ``retention_days`` are left out
    of the brief, calls older than it out of the index. One caller failing does not stop the others."""
    report = RebuildReport()
    for index, caller in enumerate(callers, start=1):
        try:
            calls = _rebuild_briefs(archive, caller, scope, retention_days)
            indexed = _rebuild_indexes(archive, caller, scope, retention_days, redact_kinds)
        except Exception as error:
            report.failed[caller] = f"{type(error).__name__}: {error}"
            outcome = f"failed ({type(error).__name__})"
        else:
            report.rebuilt[caller] = calls
            report.indexed[caller] = indexed
            brief = f"{calls} call{'s' if calls != 1 else ''} in the brief" if calls else "no calls: no brief"
            outcome = f"{brief}, {indexed} in the recall index"
        if progress is not None:
            progress(index, len(callers), caller, outcome)
    return report


def _rebuild_briefs(archive: Archive, caller: str, scope: MemoryScope, retention_days: int | None) -> int:
    """The calls counted in the caller's rebuilt brief(s), a call kept by several agents once."""
    if scope is MemoryScope.CALLER:
        profile = rebuild_profile(archive, caller, retention_days=retention_days)
        return profile.call_count if profile is not None else 0
    rebuilt = [
        rebuild_profile(archive, caller, agent_id=agent, retention_days=retention_days)
        for agent in sorted(_agents_to_rebuild(archive, caller))
    ]
    profiles = [profile for profile in rebuilt if profile is not None]
    shared = set().union(*(profile.conversations for profile in profiles))
    # A brief keeps the ids of its newest calls only: a long history is counted by its longest brief.
    return max([len(shared), *(profile.call_count for profile in profiles)])


def _rebuild_indexes(
    archive: Archive,
    caller: str,
    scope: MemoryScope,
    retention_days: int | None,
    redact_kinds: frozenset[SensitiveKind],
) -> int:
    """The calls in the caller's rebuilt recall index(es), a call kept by several agents once."""
    agents = [None] if scope is MemoryScope.CALLER else sorted(_agents_to_rebuild(archive, caller))
    indexed: set[str] = set()
    for agent in agents:
        indexed |= recall_store.rebuild(
            archive, caller, agent, retention_days, redact_kinds, datetime.now(UTC)
        )
    return len(indexed)


def _agents_to_rebuild(archive: Archive, caller: str) -> set[str]:
    """Every agent the caller's archived calls visited, and every agent they still have a brief or an
    index with: a brief or index that no archived call is left for (its calls removed) is removed."""
    indexes = [
        owner[1]
        for key in recall_store.index_keys(archive, caller)
        if (owner := archive_keys.recall_owner(key)) and owner[1]
    ]
    return _agents_called(archive, caller) | set(_agents_of(caller_briefs(archive, caller))) | set(indexes)


def _agents_called(archive: Archive, caller: str) -> set[str]:
    """The agent segments of every agent the caller's archived calls visited (transfers included)."""
    return {
        id_segment(agent)
        for event in archived_transcriptions(archive, caller)
        for agent in conversation_agents(event.data)
    }


def forget(found: CallerFootprint, archive: Archive, memory: MemoryStore) -> int:
    """Erase what ``footprint`` found: the memories first (with every agent), then the archived objects."""
    for user_id in found.user_ids or [found.caller_id]:
        memory.delete_all(user_id)
    for key in found.object_keys:
        archive.delete(key)
    return len(found.object_keys)


def _audio_of(archive: Archive, transcription_key: str) -> tuple[list[str], tuple[str, ...]]:
    """The audio keys of an archived transcription's call, and every agent it visited (``transfers``)."""
    try:
        event = parse_event(archive.get(transcription_key))
    except (ArchiveKeyMissing, BadRequest):
        return [], ()
    if not isinstance(event, wire.PostCallTranscription):
        return [], ()
    agent_id, conversation_id = event.data.agent_id, event.data.conversation_id
    return [
        archive_keys.audio_event_key(agent_id, conversation_id),
        archive_keys.audio_key(agent_id, conversation_id),
    ], conversation_agents(event.data)


def _within(
    archive: Archive, key: str, since: datetime | None, until: datetime | None, by: TimeBasis = "call"
) -> bool:
    zone = (since or until).tzinfo  # type: ignore[union-attr]
    if by == "archived":
        archived_at = getattr(archive, "archived_at", None)
        if archived_at is None:
            raise ValueError("this archive cannot tell when an event was archived: use --by call")
        try:
            moment: datetime = archived_at(key).astimezone(zone)
        except ArchiveKeyMissing:
            return False
    else:
        try:
            event = json.loads(archive.get(key))
            started = ((event.get("data") or {}).get("metadata") or {}).get("start_time_unix_secs")
            moment = datetime.fromtimestamp(float(started or event.get("event_timestamp")), tz=zone)
        except (ArchiveKeyMissing, ValueError, TypeError, AttributeError):
            return False
    return (since is None or moment >= since) and (until is None or moment <= until)
