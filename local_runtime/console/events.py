"""Every kind of event the console shows, read from the archive and the dead letters: no HTTP here.

- ``call``: a transcription filed under its caller (``post-call/{caller}/{conversation}.json``);
- ``pre-call``: a pre-call exchange (``client-data/{caller}/{stamp}_{call sid}/``) that no archived
  transcription of the caller matches (by conversation id or call sid): a call that was answered but
  left no transcript (hung up at once, a post-call webhook not configured or not yet delivered);
- ``unattributed``: a transcription that names nobody (``post-call/unattributed/``);
- ``initiation failure``: an outbound call that never connected (``post-call/initiation-failure/``),
  attributed to the number it dialled;
- ``other``: a signed event of a type not processed (``post-call/other/``).

Any of them may be *dead-lettered*: processing gave up on it. Locally the dead letters are the records
in ``$AGENTIC_MEMORY_HOME/dead-letter/``; a stack's are messages in its SQS dead-letter queue, which the
console does not read (receiving a message hides it from the scheduled re-drive), and says so.
"""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentic_memory import archive_keys
from agentic_memory.elevenlabs import post_call as wire
from agentic_memory.errors import ArchiveKeyMissing, BadRequest, UnsafeIdentifier
from agentic_memory.identity import normalise_phone_number
from agentic_memory.post_call import parse_event
from agentic_memory.settings import ArchiveBackend
from agentic_memory.wiring import Dependencies

from .. import dead_letter, operations

CALL, PRE_CALL, UNATTRIBUTED = "call", "pre-call", "unattributed"
FAILURE, OTHER = "initiation failure", "other"
KINDS = (CALL, PRE_CALL, UNATTRIBUTED, FAILURE, OTHER)
DEAD_LETTERED = "dead-lettered"
# Where a twilio or SIP initiation failure names the number dialled, and the number dialled from.
_DIALLED = ("To", "Called", "to_number")
_DIALLING = ("From", "Caller", "from_number")
_STAMP = re.compile(r"(\d{8}T\d{6})(\d{3})Z")


@dataclass(frozen=True)
class DeadLetter:
    attempts: int
    redrives: int


@dataclass(frozen=True)
class DeadLetters:
    """The dead letters the console can see: the local folder's, or None for a stack's SQS queue."""

    folder: Path | None

    @property
    def readable(self) -> bool:
        return self.folder is not None

    def parked(self) -> dict[str, DeadLetter]:
        if self.folder is None:
            return {}
        return {e.key: DeadLetter(e.attempts, e.redrives) for e in dead_letter.parked_events(self.folder)}


def dead_letters_of(deps: Dependencies) -> DeadLetters:
    """The local runtime's dead-letter folder when the archive is this machine's, else none readable."""
    settings = deps.settings
    if settings.archive_backend is ArchiveBackend.FILESYSTEM:
        return DeadLetters(settings.home / "dead-letter")
    return DeadLetters(None)


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime | None
    key: str
    caller_id: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    conversation_id: str | None = None
    detail: str = ""
    call_sid: str | None = None
    dead_letter: DeadLetter | None = None
    # A call's view, for transcriptions (title, summary, turns), built by ``views``.
    transcription: wire.PostCallTranscription | None = field(default=None, compare=False, repr=False)

    @property
    def agent_label(self) -> str:
        return self.agent_name or self.agent_id or ""

    def text(self) -> str:
        """What a search looks in, lower-cased."""
        parts = [self.kind, self.caller_id, self.agent_id, self.agent_name, self.conversation_id, self.detail]
        if self.dead_letter is not None:
            parts.append(DEAD_LETTERED)
        return " ".join(p for p in parts if p).lower()


def agent_name_of(data: wire.TranscriptionData) -> str | None:
    """The transcription's ``agent_name`` (sent by ElevenLabs, not modelled: extra fields are kept)."""
    name = (data.model_extra or {}).get("agent_name")
    return name.strip() if isinstance(name, str) and name.strip() else None


def every_event(deps: Dependencies, dead: DeadLetters) -> list[Event]:
    """Every event in the archive, newest first: one archive read per event."""
    parked = dead.parked()
    archive = deps.archive
    events: list[Event] = []
    calls: dict[str, list[Event]] = {}
    for key in archive.keys(archive_keys.POST_CALL_PREFIX):
        if not archive_keys.is_post_call_event(key):
            continue
        event = event_at(deps, key, parked.get(key))
        if event is None:
            continue
        events.append(event)
        if event.kind == CALL and event.caller_id:
            calls.setdefault(event.caller_id, []).append(event)
    unattributed = [event for event in events if event.kind == UNATTRIBUTED]
    events.extend(
        pre_call
        for pre_call in _pre_calls(deps, archive.keys(archive_keys.CLIENT_DATA_PREFIX))
        if not _answered(pre_call, [*calls.get(pre_call.caller_id or "", []), *unattributed])
    )
    seen = {event.key for event in events}
    events.extend(_gone(key, letter) for key, letter in parked.items() if key not in seen)
    return newest_first(events)


def caller_events(deps: Dependencies, caller_id: str, dead: DeadLetters) -> list[Event]:
    """The caller's events, newest first: their transcriptions, pre-calls without one, unattributed
    transcriptions that are theirs (as ``agentic-memory replay --caller`` finds them), initiation
    failures that dialled them, and any of these dead-lettered."""
    caller = archive_keys.safe_caller(caller_id)
    archive = deps.archive
    parked = dead.parked()
    calls = [
        event
        for key in archive.keys(f"{archive_keys.POST_CALL_PREFIX}{caller}/")
        if archive_keys.is_post_call_event(key) and (event := event_at(deps, key, parked.get(key)))
    ]
    events = list(calls)
    theirs = operations.caller_event_keys(archive, caller, deps.settings)
    for key in theirs:
        if key.startswith(archive_keys.UNATTRIBUTED_PREFIX):
            unattributed = event_at(deps, key, parked.get(key))
            if unattributed is not None:
                events.append(unattributed)
    client_data = archive.keys(f"{archive_keys.CLIENT_DATA_PREFIX}{caller}/")
    answered = list(events)
    events.extend(p for p in _pre_calls(deps, client_data) if not _answered(p, answered))
    for key in archive.keys(archive_keys.FAILURE_PREFIX):
        failure = event_at(deps, key, parked.get(key))
        if failure is not None and failure.caller_id == caller:
            events.append(failure)
    seen = {event.key for event in events}
    own = (f"{archive_keys.POST_CALL_PREFIX}{caller}/", *theirs)
    events.extend(
        _gone(key, letter) for key, letter in parked.items() if key.startswith(own) and key not in seen
    )
    return newest_first(events)


def matching(events: Iterable[Event], query: str, country_code: str, kind: str = "") -> list[Event]:
    """The events of ``kind`` (a kind, ``dead-lettered``, or any) that ``query`` finds: a number in
    any common format, a part of one (its digits), or words in the kind, ids, agent or detail."""
    wanted = query.strip()
    number = normalise_phone_number(wanted, country_code) if wanted else None
    digits = phone_digits(wanted)
    found = []
    for event in events:
        if kind == DEAD_LETTERED and event.dead_letter is None:
            continue
        if kind and kind != DEAD_LETTERED and event.kind != kind:
            continue
        if not wanted or _finds(event, wanted, number, digits):
            found.append(event)
    return found


def _finds(event: Event, wanted: str, number: str | None, digits: str) -> bool:
    if number and event.caller_id == number:
        return True
    if digits and event.caller_id and digits in phone_digits(event.caller_id, minimum=1):
        return True
    return wanted.lower() in event.text()


def phone_digits(text: str, minimum: int = 3) -> str:
    """The digits of ``text`` when it is written like (a part of) a phone number, else ""."""
    if not re.fullmatch(r"[\s().\-/+0-9]+", text):
        return ""
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= minimum else ""


def newest_first(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.at or datetime.min.replace(tzinfo=UTC), reverse=True)


def event_at(deps: Dependencies, key: str, letter: DeadLetter | None = None) -> Event | None:
    """The event archived at ``key``; None for the parts of a call that are no event of their own
    (audio, oversized-audio records) unless dead-lettered, and for keys that are gone."""
    part_of_a_call = key.startswith((archive_keys.AUDIO_PREFIX, archive_keys.OVERSIZED_AUDIO_PREFIX))
    if part_of_a_call and letter is None:
        return None
    try:
        body = deps.archive.get(key)
    except ArchiveKeyMissing:
        return _gone(key, letter) if letter is not None else None
    if key.startswith(archive_keys.OTHER_PREFIX) or part_of_a_call:
        return _other(key, body, letter)
    try:
        event = parse_event(body)
    except BadRequest:
        return _other(key, body, letter)
    if isinstance(event, wire.PostCallTranscription):
        return _transcription(key, event, letter)
    if isinstance(event, wire.CallInitiationFailure):
        return _failure(deps, key, event, letter)
    return _other(key, body, letter)


def _transcription(key: str, event: wire.PostCallTranscription, letter: DeadLetter | None) -> Event:
    data = event.data
    unattributed = key.startswith(archive_keys.UNATTRIBUTED_PREFIX)
    analysis = data.analysis
    phone = data.metadata.phone_call
    return Event(
        kind=UNATTRIBUTED if unattributed else CALL,
        at=_unix(data.metadata.start_time_unix_secs or event.event_timestamp),
        key=key,
        caller_id=None if unattributed else key.split("/")[1],
        agent_id=data.agent_id,
        agent_name=agent_name_of(data),
        conversation_id=data.conversation_id,
        detail=((analysis.call_summary_title or analysis.transcript_summary or "") if analysis else ""),
        call_sid=phone.call_sid if phone else None,
        dead_letter=letter,
        transcription=event,
    )


def _failure(
    deps: Dependencies, key: str, event: wire.CallInitiationFailure, letter: DeadLetter | None
) -> Event:
    data = event.data
    body: dict[str, Any] = data.metadata.body if data.metadata else {}
    return Event(
        kind=FAILURE,
        at=_unix(event.event_timestamp),
        key=key,
        caller_id=_dialled(body, deps.settings.default_country_code, deps.settings.agent_numbers),
        agent_id=data.agent_id,
        conversation_id=data.conversation_id,
        detail=data.failure_reason or "",
        dead_letter=letter,
    )


def _dialled(body: dict[str, Any], country_code: str, agent_numbers: Iterable[str]) -> str | None:
    """The person's number in a failure's body: the one dialled, or the other party when the one
    dialled is the agent's own (an inbound call that failed)."""
    own = set(agent_numbers)
    for names in (_DIALLED, _DIALLING):
        for name in names:
            raw = body.get(name)
            number = normalise_phone_number(raw, country_code) if isinstance(raw, str) else None
            if number and number not in own:
                return number
    return None


def _other(key: str, body: bytes, letter: DeadLetter | None) -> Event:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    kind_of = payload.get("type") if isinstance(payload, dict) else None
    data = payload.get("data") if isinstance(payload, dict) else None
    data = data if isinstance(data, dict) else {}
    stamp = payload.get("event_timestamp") if isinstance(payload, dict) else None
    return Event(
        kind=OTHER,
        at=_unix(stamp if isinstance(stamp, int | float) else None),
        key=key,
        agent_id=_text(data.get("agent_id")),
        conversation_id=_text(data.get("conversation_id")) or archive_keys.conversation_of_event(key),
        detail=str(kind_of)[:60] if kind_of else "an event in a shape not processed",
        dead_letter=letter,
    )


def _gone(key: str, letter: DeadLetter) -> Event:
    return Event(
        kind=OTHER,
        at=None,
        key=key,
        conversation_id=archive_keys.conversation_of_event(key),
        detail="dead letter whose archived event is gone",
        dead_letter=letter,
    )


def _pre_calls(deps: Dependencies, keys: Iterable[str]) -> Iterator[Event]:
    """One event per pre-call exchange folder (``client-data/{caller}/{stamp}_{call sid}/``)."""
    folders = sorted({key.rsplit("/", 1)[0] + "/" for key in keys if key.count("/") >= 3})
    for folder in folders:
        _, caller, name, _ = folder.split("/", 3)
        stamp, _, sid = name.partition("_")
        received = _json(deps, folder + "received.json")
        agent = _text(received.get("agent_id"))
        yield Event(
            kind=PRE_CALL,
            at=stamp_of(stamp),
            key=folder,
            caller_id=caller,
            agent_id=agent,
            conversation_id=_text(received.get("conversation_id")),
            detail="pre-call answered; no transcript archived",
            call_sid=None if sid in ("", "no-call-sid") else sid,
        )


def _answered(pre_call: Event, calls: list[Event]) -> bool:
    """Whether one of ``calls`` (the caller's transcriptions, unattributed ones) is this pre-call's."""
    for call in calls:
        if pre_call.conversation_id and call.conversation_id == pre_call.conversation_id:
            return True
        if pre_call.call_sid and call.call_sid and _sid_segment(call.call_sid) == pre_call.call_sid:
            return True
    return False


def _sid_segment(sid: str) -> str:
    try:
        return archive_keys.id_segment(sid)
    except UnsafeIdentifier:
        return sid


def _json(deps: Dependencies, key: str) -> dict[str, Any]:
    try:
        payload = json.loads(deps.archive.get(key))
    except (ArchiveKeyMissing, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _unix(seconds: float | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC) if seconds else None
    except (OverflowError, OSError, ValueError):
        return None


def stamp_of(text: str) -> datetime | None:
    match = _STAMP.fullmatch(text)
    if match is None:
        return None
    at = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return at.replace(microsecond=int(match.group(2)) * 1000)
