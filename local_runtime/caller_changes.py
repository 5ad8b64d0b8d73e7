"""Operators' changes to one caller that hold: correct the name, edit or delete a memory, remove a call.

Each is recorded first in the caller's corrections (``agentic_memory.corrections``: who, when, what),
then applied to the memory store, the brief and the recall index; ``replay``, ``profiles rebuild`` and
reprocessing read the same record, so what the operator changed stays changed. Used by the console
and by ``agentic-memory rename | memory edit | memory delete | remove-call``.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from agentic_memory import archive_keys, memory_adds
from agentic_memory.caller_profile import CallerProfile, encode
from agentic_memory.corrections import (
    Correction,
    corrected_brief,
    mark_removed_call,
    name_pairs,
    read_corrections,
    record_correction,
    renamed,
)
from agentic_memory.elevenlabs import post_call as wire
from agentic_memory.errors import ArchiveKeyMissing, ArchiveUnavailable
from agentic_memory.ports import Archive, MemoryRecord, MemoryStore
from agentic_memory.profile_store import archived_transcriptions, read_profile
from agentic_memory.recall.store import index_keys as recall_index_keys
from agentic_memory.redaction import ALL_KINDS, SensitiveKind
from agentic_memory.scope import MemoryScope
from agentic_memory.transfers import conversation_agents

from . import operations


@dataclass(frozen=True)
class Policy:
    """The settings a rebuild after a change uses (those of ``profiles rebuild``)."""

    scope: MemoryScope = MemoryScope.CALLER
    retention_days: int | None = None
    redact_kinds: frozenset[SensitiveKind] = ALL_KINDS


@dataclass
class NameCorrection:
    former: str
    name: str
    memories_updated: int
    brief: CallerProfile | None


def correct_name(
    archive: Archive,
    memory: MemoryStore,
    caller_id: str,
    name: str,
    by: str,
    now: datetime,
    agent_id: str | None = None,
    policy: Policy | None = None,
) -> NameCorrection | None:
    """The caller is called ``name`` from now on, in everything the agent hears: recorded, then the
    memories that say the former name are updated, and the brief and recall index are rebuilt (or,
    for a brief with no archived call behind it, corrected in place). None when the caller has no brief."""
    caller = archive_keys.safe_caller(caller_id)
    policy = policy or Policy()
    brief = _brief_of(archive, caller, agent_id, policy.scope)
    if brief is None:
        return None
    former = brief.name.name if brief.name else ""
    entry = Correction(kind="name", at=now, by=by, name=name, replaces=former if former != name else "")
    record_correction(archive, caller, entry)
    pairs = name_pairs(entry)
    updated = 0
    for record in caller_memories(archive, memory, caller):
        text = renamed(record.text, pairs)
        if text != record.text and memory.update(record.id, text):
            updated += 1
    _rebuild(archive, caller, policy)
    return NameCorrection(former, name, updated, _brief_of(archive, caller, agent_id, policy.scope))


def _brief_of(
    archive: Archive, caller: str, agent_id: str | None, scope: MemoryScope
) -> CallerProfile | None:
    """The brief with ``agent_id``; without one, the first of the caller's briefs of ``scope`` that
    names them (their own under ``caller``, one with an agent under ``caller_and_agent``), else of
    the other scope (briefs made before a change of scope)."""
    if agent_id is not None:
        return read_profile(archive, caller, agent_id)
    per_agent = scope is MemoryScope.CALLER_AND_AGENT
    owners = sorted(operations.brief_agents(archive, caller), key=lambda agent: (agent is None) == per_agent)
    briefs = [brief for agent in owners if (brief := read_profile(archive, caller, agent)) is not None]
    return next((brief for brief in briefs if brief.name), briefs[0] if briefs else None)


def caller_memories(archive: Archive, memory: MemoryStore, caller_id: str) -> list[MemoryRecord]:
    """Every memory of the caller, with every agent (``operations.caller_user_ids``)."""
    return [
        record
        for user_id in operations.caller_user_ids(archive, caller_id)
        for record in memory.list_all(user_id)
    ]


def find_memory(archive: Archive, memory: MemoryStore, caller_id: str, memory_id: str) -> MemoryRecord | None:
    """The caller's memory with this id; None when it is not one of theirs."""
    return next((r for r in caller_memories(archive, memory, caller_id) if r.id == memory_id), None)


def delete_memory(
    archive: Archive,
    memory: MemoryStore,
    caller_id: str,
    memory_id: str,
    by: str,
    now: datetime,
    policy: Policy | None = None,
) -> MemoryRecord | None:
    """Delete one of the caller's memories for good (recorded, so no replay adds it back), and its
    lines from the recall index (rebuilt: ``search_memory`` no longer finds them); the memory deleted,
    or None when the id is not one of theirs."""
    caller = archive_keys.safe_caller(caller_id)
    record = find_memory(archive, memory, caller, memory_id)
    if record is None:
        return None
    record_correction(archive, caller, _memory_entry("memory_deleted", record, by, now))
    memory.delete(memory_id)
    _rebuild(archive, caller, policy or Policy())
    return record


def edit_memory(
    archive: Archive,
    memory: MemoryStore,
    caller_id: str,
    memory_id: str,
    text: str,
    by: str,
    now: datetime,
    policy: Policy | None = None,
) -> MemoryRecord | None:
    """Replace one memory's text (recorded, so a replay keeps the edit), in the recall index too
    (rebuilt); the memory as it was, or None when the id is not one of the caller's."""
    caller = archive_keys.safe_caller(caller_id)
    record = find_memory(archive, memory, caller, memory_id)
    if record is None:
        return None
    entry = _memory_entry("memory_edited", record, by, now).model_copy(update={"new_text": text})
    record_correction(archive, caller, entry)
    memory.update(memory_id, text)
    _rebuild(archive, caller, policy or Policy())
    return record


def _memory_entry(kind: str, record: MemoryRecord, by: str, now: datetime) -> Correction:
    return Correction.model_validate(
        {
            "kind": kind,
            "at": now,
            "by": by,
            "memory_id": record.id,
            "conversation_id": str(record.metadata.get("conversation_id") or ""),
            "memory_type": str(record.metadata.get("type") or ""),
            "text": record.text,
        }
    )


@dataclass
class CallFootprint:
    """What one call left: its archived objects and its memories (with every agent)."""

    caller_id: str
    conversation_id: str
    object_keys: list[str] = field(default_factory=list)
    memories: list[MemoryRecord] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)


def call_footprint(
    archive: Archive, memory: MemoryStore, caller_id: str, conversation_id: str
) -> CallFootprint | None:
    """Everything one call of the caller left; None when the caller has no such archived call."""
    caller = archive_keys.safe_caller(caller_id)
    key = archive_keys.transcription_key(caller, conversation_id)
    try:
        event = wire.PostCallTranscription.model_validate_json(archive.get(key))
    except ArchiveKeyMissing:
        return None
    except ValueError:
        event = None
    found = CallFootprint(caller, conversation_id, [key])
    agents = {event.data.agent_id, *conversation_agents(event.data)} if event else set()
    found.agents = sorted(a for a in agents if a)
    for agent in found.agents:
        for joined in (
            *archive_keys.call_audio_keys(agent, conversation_id),
            archive_keys.initiation_failure_key(agent, conversation_id),
        ):
            if archive.exists(joined):
                found.object_keys.append(joined)
    found.object_keys.extend(archive.keys(f"{memory_adds.MEMORY_ADDS_PREFIX}{caller}/{conversation_id}/"))
    found.object_keys.extend(_pre_calls_of(archive, caller, event))
    found.memories = [
        record
        for record in caller_memories(archive, memory, caller)
        if record.metadata.get("conversation_id") == conversation_id
    ]
    return found


def _pre_calls_of(archive: Archive, caller: str, event: wire.PostCallTranscription | None) -> list[str]:
    """The pre-call exchanges that go with the call (``client-data/{caller}/{stamp}_{sid}/…``): its own,
    found by its call sid, and those received after it started, whose answers were made from a brief
    that held it (its summary, its values)."""
    phone = event.data.metadata.phone_call if event else None
    sid = archive_keys.id_segment(phone.call_sid) if phone and phone.call_sid else None
    started = event.data.metadata.start_time_unix_secs if event else None
    after = datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%S") if started else None
    return [
        key
        for key in archive.keys(f"{archive_keys.CLIENT_DATA_PREFIX}{caller}/")
        if len(parts := key.split("/")) > 3
        and (
            (sid is not None and parts[2].partition("_")[2] == sid)
            or (after is not None and parts[2][:15] > after)
        )
    ]


def remove_call(
    archive: Archive,
    memory: MemoryStore,
    found: CallFootprint,
    by: str,
    now: datetime,
    policy: Policy | None = None,
) -> int:
    """Remove what ``call_footprint`` found: recorded first (a late delivery of the call is then not
    processed; a marker per agent does the same for a late delivery of its audio, which names no
    caller), the memories, the archived objects, then the brief and recall index rebuilt without the
    call. The number of archived objects deleted."""
    entry = Correction(kind="call_removed", at=now, by=by, conversation_id=found.conversation_id)
    record_correction(archive, found.caller_id, entry)
    mark_removed_call(archive, found.agents, found.conversation_id, now)
    for record in found.memories:
        memory.delete(record.id)
    for key in found.object_keys:
        archive.delete(key)
    # The brief and index were built with the call: with no archived call left, they go (every agent's).
    _rebuild(archive, found.caller_id, policy or Policy(), keep_unarchived=False)
    if next(iter(archived_transcriptions(archive, found.caller_id)), None) is None:
        # Briefs and indexes of the other MEMORY_SCOPE too (made before a change of scope).
        for key in [
            *operations.caller_briefs(archive, found.caller_id),
            *recall_index_keys(archive, found.caller_id),
        ]:
            archive.delete(key)
    return len(found.object_keys)


def _rebuild(archive: Archive, caller: str, policy: Policy, keep_unarchived: bool = True) -> None:
    """The caller's briefs and recall indexes again, from the archive and the corrections. A brief with
    no archived call behind it (written before the archive kept calls) is corrected where it is, unless
    ``keep_unarchived`` is false: then it is removed, as a rebuild from no calls does."""
    if keep_unarchived and next(iter(archived_transcriptions(archive, caller)), None) is None:
        _correct_in_place(archive, caller)
        return
    report = operations.rebuild_profiles(
        [caller], archive, None, policy.scope, policy.retention_days, policy.redact_kinds
    )
    if report.failed:
        raise ArchiveUnavailable(f"the brief and index were not rebuilt: {report.failed[caller]}")


def _correct_in_place(archive: Archive, caller: str) -> None:
    corrections = read_corrections(archive, caller)
    for key in operations.caller_briefs(archive, caller):
        owner = archive_keys.profile_owner(key)
        brief = read_profile(archive, caller, owner[1] if owner else None)
        if brief is not None:
            archive.put(key, encode(corrected_brief(brief, corrections)), "application/json")
