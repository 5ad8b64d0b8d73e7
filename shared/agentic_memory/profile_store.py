"""Caller briefs in the archive: read one, add a call to one, rebuild one from the archived calls.

Two calls of one caller may be processed at once (SQS delivers in parallel), so every update is a
read, a pure change (``caller_profile.with_call``) and a write conditional on the version read (S3:
``If-Match`` on the ETag, ``If-None-Match: *`` for the first brief), retried a few times on a
conflict. A call already in the brief changes nothing, so a replay or a duplicate never counts twice.
"""

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from . import archive_keys, retention
from .caller_profile import (
    EARLIER_NAMES,
    CallerProfile,
    CallFacts,
    GivenName,
    call_facts,
    decode,
    encode,
    with_call,
)
from .corrections import Corrections, corrected_brief, corrected_facts, read_corrections
from .elevenlabs import post_call as wire
from .errors import ArchiveKeyMissing, ArchiveUnavailable, UnsafeIdentifier
from .memory_building import why_no_call
from .ports import Archive
from .transfers import visits

log = logging.getLogger(__name__)

MAX_WRITE_ATTEMPTS = 6
# Jittered pause between attempts, seconds: two writers that collided should not collide again.
_RETRY_PAUSE_SECONDS = 0.02
CONTENT_TYPE = "application/json"


def read_profile(archive: Archive, caller_id: str, agent_id: str | None = None) -> CallerProfile | None:
    """The caller's brief (with ``agent_id``: their brief with that agent, ``scope.scoped_agent``), or
    None for a caller we have no brief of (a new caller).

    Raises ``ArchiveUnavailable`` when the archive cannot answer: that is not "new caller".
    """
    try:
        body = archive.get(archive_keys.profile_key(caller_id, agent_id))
    except ArchiveKeyMissing:
        return None
    return decode(body)


def record_call(
    archive: Archive,
    caller_id: str,
    call: CallFacts,
    agent_id: str | None = None,
    retention_days: int | None = None,
) -> bool:
    """Add one call to the caller's brief (with ``agent_id``: their brief with that agent); False when
    it was already counted (nothing written). A brief that had expired when the call came (its last
    call more than ``retention_days`` before it, ``retention``) is replaced by one of this call only.
    An unreadable brief is rebuilt from the archived calls first (``rebuild_profile``), not replaced
    by one of this call only."""
    key = archive_keys.profile_key(caller_id, agent_id)
    rebuilt = False
    for attempt in range(MAX_WRITE_ATTEMPTS):
        current, version = _read_versioned(archive, key)
        if current is None and version is not None and not rebuilt:
            log.warning("an unreadable caller brief is rebuilt from the archive")
            rebuild_profile(archive, caller_id, agent_id=agent_id, retention_days=retention_days)
            rebuilt = True
            continue
        updated = _with_call_in_force(current, caller_id, call, retention_days)
        if updated is None:
            return rebuilt  # the rebuilt brief counted this call already
        if archive.put_if_version(key, encode(updated), CONTENT_TYPE, version):
            return True
        _pause(attempt)
    # The processor's queue retries the event later; the update is idempotent.
    raise ArchiveUnavailable("the caller brief changed under every attempt to update it")


def correct_name(
    archive: Archive, caller_id: str, name: str, now: datetime, agent_id: str | None = None
) -> CallerProfile | None:
    """Set the caller's name by hand (source ``operator``, at ``now``); the former name goes to
    ``earlier_names``. Written conditionally on the version read, like a call. None (nothing written)
    when the caller has no brief. A later call that gives a name replaces this one, as any newer name does.
    """
    key = archive_keys.profile_key(caller_id, agent_id)
    given = GivenName(name=name, source="operator", at=now, conversation_id="")
    for attempt in range(MAX_WRITE_ATTEMPTS):
        current, version = _read_versioned(archive, key)
        if current is None:
            return None
        updated = _named(current, given)
        if archive.put_if_version(key, encode(updated), CONTENT_TYPE, version):
            return updated
        _pause(attempt)
    raise ArchiveUnavailable("the caller brief changed under every attempt to correct it")


def rebuild_profile(
    archive: Archive,
    caller_id: str,
    now: datetime | None = None,
    agent_id: str | None = None,
    retention_days: int | None = None,
) -> CallerProfile | None:
    """Build the caller's brief again from their archived transcriptions and store it (with
    ``agent_id``: their brief with that agent, from that agent's calls only).

    Calls are folded in call-time order, so the brief is what processing them made, in whatever order
    they were processed (``caller_profile`` places each call, name and collected value by its time; a
    late value that contradicts the middle of a run of another is the exception): calls before a gap
    longer than ``retention_days`` are left out, as the brief had expired. It is also how a brief of an
    older ``PROFILE_VERSION`` gets what that version did not keep (first calls, calls between, the
    history of collected values).
    Returns the stored brief, or None (and removes any brief) when no archived call counts. The
    operator's corrections (``corrections``) are applied: the corrected name in every call's texts and
    as the brief's name; a name corrected before corrections were recorded is kept unless a later
    call gave another.
    """
    key = archive_keys.profile_key(caller_id, agent_id)
    for attempt in range(MAX_WRITE_ATTEMPTS):
        current, version = _read_versioned(archive, key)
        calls = archived_calls(archive, caller_id, now or datetime.now(UTC), agent_id)
        profile = _built_from(caller_id, calls, retention_days)
        corrections = read_corrections(archive, caller_id)
        if profile is not None and corrections.operator_name() is not None:
            profile = corrected_brief(profile, corrections)
        elif profile is not None and current is not None:
            profile = _with_operator_name(profile, current)
        if profile is None:
            archive.delete(key)
            return None
        if archive.put_if_version(key, encode(profile), CONTENT_TYPE, version):
            return profile
        _pause(attempt)
    raise ArchiveUnavailable("the caller brief changed under every attempt to rebuild it")


def _with_operator_name(rebuilt: CallerProfile, current: CallerProfile) -> CallerProfile:
    corrected = current.name
    if corrected is None or corrected.source != "operator":
        return rebuilt
    if rebuilt.name is not None and rebuilt.name.at > corrected.at:
        return rebuilt
    return _named(rebuilt, corrected)


def _named(profile: CallerProfile, given: GivenName) -> CallerProfile:
    """``profile`` going by ``given``, its former name first in ``earlier_names``."""
    earlier = (profile.name, *profile.earlier_names) if profile.name else profile.earlier_names
    kept = tuple(old for old in earlier if old.name != given.name)[:EARLIER_NAMES]
    return profile.model_copy(update={"name": given, "earlier_names": kept})


def archived_callers(archive: Archive) -> list[str]:
    """Every caller with an archived transcription (folders under ``post-call/``), sorted."""
    callers = set()
    for key in archive.keys(archive_keys.POST_CALL_PREFIX):
        folder = key[len(archive_keys.POST_CALL_PREFIX) :].partition("/")[0]
        if folder and key.count("/") == 2 and archive_keys.is_post_call_event(key):
            callers.add(folder)
    return sorted(c for c in callers if _is_caller_folder(c))


def _built_from(
    caller_id: str, calls: Iterable[CallFacts], retention_days: int | None
) -> CallerProfile | None:
    profile = CallerProfile(caller_id=caller_id)
    for call in sorted(calls, key=lambda c: (c.at, c.conversation_id)):
        profile = _with_call_in_force(profile, caller_id, call, retention_days) or profile
    return profile if profile.call_count else None


def _with_call_in_force(
    current: CallerProfile | None, caller_id: str, call: CallFacts, retention_days: int | None
) -> CallerProfile | None:
    """``with_call`` on the brief in force when the call came: an expired brief counts as none, so an
    expired caller who calls again starts afresh (the pre-call greeted them as a new caller)."""
    in_force = retention.brief_in_force(current, retention.cutoff(retention_days, call.at))
    return with_call(in_force or CallerProfile(caller_id=caller_id), call)


def archived_calls(
    archive: Archive, caller_id: str, now: datetime, agent_segment: str | None = None
) -> list[CallFacts]:
    """The facts of every call of the caller in their archived transcriptions (calls that happened);
    with ``agent_segment``, only the calls that agent took part in (``transfers.visits``)."""
    return list(_archived_calls(archive, caller_id, now, agent_segment))


def _archived_calls(
    archive: Archive, caller_id: str, now: datetime, agent_segment: str | None
) -> Iterable[CallFacts]:
    corrections = read_corrections(archive, caller_id)
    for event in archived_transcriptions(archive, caller_id):
        if visits(event.data, agent_segment) and not _removed(event, corrections):
            yield corrected_facts(call_facts(event.data, event.event_timestamp, now), corrections)


def _removed(event: wire.PostCallTranscription, corrections: Corrections) -> bool:
    return event.data.conversation_id in corrections.removed_calls()


def archived_transcriptions(
    archive: Archive, caller_id: str, progress: Callable[[int, int, str], None] | None = None
) -> Iterator[wire.PostCallTranscription]:
    """The caller's archived transcriptions of calls that happened (``why_no_call``), in key order;
    unreadable ones are skipped with a warning. ``progress(done, total, key)`` after each key read."""
    prefix = f"{archive_keys.POST_CALL_PREFIX}{archive_keys.safe_caller(caller_id)}/"
    keys = [key for key in archive.keys(prefix) if archive_keys.is_post_call_event(key)]
    for done, key in enumerate(keys, start=1):
        try:
            event = wire.PostCallTranscription.model_validate_json(archive.get(key))
        except (ValueError, ArchiveKeyMissing):
            log.warning("skipped an unreadable archived transcription")
            event = None
        if progress is not None:
            progress(done, len(keys), key)
        if event is not None and why_no_call(event.data) is None:
            yield event


def _read_versioned(archive: Archive, key: str) -> tuple[CallerProfile | None, str | None]:
    try:
        body, version = archive.get_versioned(key)
    except ArchiveKeyMissing:
        return None, None
    return decode(body), version


def _is_caller_folder(folder: str) -> bool:
    try:
        archive_keys.safe_caller(folder)
    except UnsafeIdentifier:
        return False  # audio-only/, unattributed/ and the other folders of our own layout
    return True


def _pause(attempt: int) -> None:
    pause_before_retry(attempt, _RETRY_PAUSE_SECONDS)


def pause_before_retry(attempt: int, base_seconds: float) -> None:
    """A jittered pause that grows with the attempt, so that two writers that collided on a
    conditional write do not collide again."""
    time.sleep(random.uniform(0, base_seconds * (attempt + 1)))  # noqa: S311 (jitter, not crypto)
