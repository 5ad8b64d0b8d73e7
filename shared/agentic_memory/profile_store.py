"""Caller briefs in the archive: read one, add a call to one, rebuild one from the archived calls.

Two calls of one caller may be processed at once (SQS delivers in parallel), so every update is a
read, a pure change (``caller_profile.with_call``) and a write conditional on the version read (S3:
``If-Match`` on the ETag, ``If-None-Match: *`` for the first brief), retried a few times on a
conflict. A call already in the brief changes nothing, so a replay or a duplicate never counts twice.
"""

import logging
import random
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from . import archive_keys
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
from .elevenlabs import post_call as wire
from .errors import ArchiveKeyMissing, ArchiveUnavailable, UnsafeIdentifier
from .memory_building import why_no_call
from .ports import Archive

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


def record_call(archive: Archive, caller_id: str, call: CallFacts, agent_id: str | None = None) -> bool:
    """Add one call to the caller's brief (with ``agent_id``: their brief with that agent); False when
    it was already counted (nothing written)."""
    key = archive_keys.profile_key(caller_id, agent_id)
    for attempt in range(MAX_WRITE_ATTEMPTS):
        current, version = _read_versioned(archive, key)
        updated = with_call(current or CallerProfile(caller_id=caller_id), call)
        if updated is None:
            return False
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
        earlier = (current.name, *current.earlier_names) if current.name else current.earlier_names
        kept = tuple(old for old in earlier if old.name != name)[:EARLIER_NAMES]
        updated = current.model_copy(update={"name": given, "earlier_names": kept})
        if archive.put_if_version(key, encode(updated), CONTENT_TYPE, version):
            return updated
        _pause(attempt)
    raise ArchiveUnavailable("the caller brief changed under every attempt to correct it")


def rebuild_profile(
    archive: Archive, caller_id: str, now: datetime | None = None, agent_id: str | None = None
) -> CallerProfile | None:
    """Build the caller's brief again from their archived transcriptions and store it (with
    ``agent_id``: their brief with that agent, from that agent's calls only).

    Calls are folded in call-time order, so the brief is what processing them in order would have
    made. Returns the stored brief, or None (and removes any brief) when no archived call counts.
    """
    key = archive_keys.profile_key(caller_id, agent_id)
    for attempt in range(MAX_WRITE_ATTEMPTS):
        _current, version = _read_versioned(archive, key)
        calls = archived_calls(archive, caller_id, now or datetime.now(UTC))
        if agent_id is not None:
            calls = [call for call in calls if archive_keys.id_segment(call.agent_id) == agent_id]
        profile = _built_from(caller_id, calls)
        if profile is None:
            archive.delete(key)
            return None
        if archive.put_if_version(key, encode(profile), CONTENT_TYPE, version):
            return profile
        _pause(attempt)
    raise ArchiveUnavailable("the caller brief changed under every attempt to rebuild it")


def archived_callers(archive: Archive) -> list[str]:
    """Every caller with an archived transcription (folders under ``post-call/``), sorted."""
    callers = set()
    for key in archive.keys(archive_keys.POST_CALL_PREFIX):
        folder = key[len(archive_keys.POST_CALL_PREFIX) :].partition("/")[0]
        if folder and key.count("/") == 2 and archive_keys.is_post_call_event(key):
            callers.add(folder)
    return sorted(c for c in callers if _is_caller_folder(c))


def _built_from(caller_id: str, calls: Iterable[CallFacts]) -> CallerProfile | None:
    profile = CallerProfile(caller_id=caller_id)
    for call in sorted(calls, key=lambda c: (c.at, c.conversation_id)):
        profile = with_call(profile, call) or profile
    return profile if profile.call_count else None


def archived_calls(archive: Archive, caller_id: str, now: datetime) -> list[CallFacts]:
    """The facts of every call of the caller in their archived transcriptions (calls that happened)."""
    return list(_archived_calls(archive, caller_id, now))


def _archived_calls(archive: Archive, caller_id: str, now: datetime) -> Iterable[CallFacts]:
    prefix = f"{archive_keys.POST_CALL_PREFIX}{archive_keys.safe_caller(caller_id)}/"
    for key in archive.keys(prefix):
        if not archive_keys.is_post_call_event(key):
            continue
        try:
            event = wire.PostCallTranscription.model_validate_json(archive.get(key))
        except (ValueError, ArchiveKeyMissing):
            log.warning("skipped an unreadable archived transcription")
            continue
        if why_no_call(event.data) is None:
            yield call_facts(event.data, event.event_timestamp, now)


def _read_versioned(archive: Archive, key: str) -> tuple[CallerProfile | None, str | None]:
    try:
        body, version = archive.get_versioned(key)
    except ArchiveKeyMissing:
        return None, None
    profile = decode(body)
    if profile is None:
        log.warning("an unreadable caller brief is replaced")
    return profile, version


def _is_caller_folder(folder: str) -> bool:
    try:
        archive_keys.safe_caller(folder)
    except UnsafeIdentifier:
        return False  # audio-only/, unattributed/ and the other folders of our own layout
    return True


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, _RETRY_PAUSE_SECONDS * (attempt + 1)))  # noqa: S311 (jitter, not crypto)
