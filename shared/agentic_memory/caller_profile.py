"""The caller brief ("caller profile"): what the pre-call needs about one caller, in one small document.

Kept in the archive at ``profiles/{caller_id}.json`` and rewritten by the processor after each call
(``profile_store``), so the pre-call reads one object whatever the caller's history. This module is
pure: it turns a transcription into the facts of one call (``call_facts``), folds them into a brief
(``with_call``) and keeps the encoded brief under ``MAX_PROFILE_BYTES`` (``encode``).

The brief carries the whole relationship, bounded by count before it is bounded by bytes: the call
count and span; the first ``FIRST_CALLS`` calls and the newest ``RECENT_CALLS`` with their summaries
(the newest ``FULL_SUMMARY_CALLS`` at ``SUMMARY_MAX_CHARS``, the others at ``NOTE_MAX_CHARS``, cut at a
word); the newest ``BETWEEN_CALLS`` of the calls between them by date and title; each collected field's
current value with when it was first and last given and up to ``EARLIER_VALUES`` values it replaced
(a value given again is no change; strings compare without case and spacing); the name and up to
``EARLIER_NAMES`` former ones. Which calls land where does not depend on the order calls are folded
in, so a rebuild from the archive (``profile_store.rebuild_profile``, in call order) makes the brief
that processing made. Briefs of version 1 (no first calls, no calls between, no value history) and
of version 2 (no language) read as version 3 briefs that lack those parts, and are written as version 3
at their next call.

Sources of facts, all from the ``post_call_transcription`` event: the call time is
``metadata.start_time_unix_secs`` (else the envelope's ``event_timestamp``); the caller's timezone is
``metadata.timezone`` or the ``system__timezone`` dynamic variable; the caller's language is
``metadata.main_language`` (the newest call's that reported one, by call time); the summary and title are
ElevenLabs' own ``analysis.transcript_summary`` and ``analysis.call_summary_title``; collected fields
are ``analysis.data_collection_results``; the name comes from data collection, else from what the
caller said ("my name is …", "me llamo …", "我叫…"), else from the ``caller_name`` dynamic variable the call
started with (ElevenLabs echoes the pre-call's variables; a placeholder such as "there" is nobody).
"""

import json
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .call_time import timezone_of, zone_name
from .elevenlabs.post_call import TranscriptionData
from .memory_building import printable
from .names import name_from_data_collection, name_from_turns, name_from_variables
from .redaction import ALL_KINDS, SensitiveKind, redact, redact_named

# 2: first calls, calls between by title, the history of collected values. 3: the caller's language.
PROFILE_VERSION = 3
# The hard cap on the encoded brief, in bytes (UTF-8 JSON), whatever the caller's history. The count
# bounds below keep an English brief near 12 KB at most; text in scripts of two to four bytes a
# character is trimmed to the cap (``encode``), least useful and oldest first.
MAX_PROFILE_BYTES = 16 * 1024
RECENT_CALLS = 10
FIRST_CALLS = 2
BETWEEN_CALLS = 24
# The newest calls keep their summaries at SUMMARY_MAX_CHARS; older ones at NOTE_MAX_CHARS, as much as
# a line of the pre-call's context shows of a call (``call_context``).
FULL_SUMMARY_CALLS = 2
EARLIER_NAMES = 5
MAX_AGENTS = 20
MAX_COLLECTED_FIELDS = 30
EARLIER_VALUES = 3
# Conversation ids remembered for idempotency; older calls are covered by ``counted_through``. An id
# costs ~45 bytes, so 50 of them are a seventh of the cap.
MAX_CONVERSATIONS = 50
MIN_CONVERSATIONS = 10
SUMMARY_MAX_CHARS = 600
NOTE_MAX_CHARS = 300
TITLE_MAX_CHARS = 120
VALUE_MAX_CHARS = 200
# ElevenLabs' language codes: ISO 639-1 ("es"), sometimes with a region ("pt-br").
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
# Trimming to the cap keeps at least this many recent calls before it takes anything else.
MIN_RECENT_CALLS = 3

# "operator": corrected by hand in the console (conversation_id is then empty).
NameSource = Literal["data_collection", "stated_in_call", "caller_name_variable", "operator"]
Scalar = str | int | float | bool


class _Part(BaseModel):
    # Briefs written by a newer version may carry fields this one does not know: ignore them.
    model_config = ConfigDict(frozen=True, extra="ignore")


class GivenName(_Part):
    """A name the caller went by, where it came from and the call (time, UTC) it came from."""

    name: str
    source: NameSource
    at: datetime
    conversation_id: str


class CallNote(_Part):
    """One past call: ElevenLabs' summary and title of it, clipped."""

    conversation_id: str
    at: datetime
    agent_id: str
    title: str = ""
    summary: str = ""


class CallTitle(_Part):
    """A call between the first and the recent ones: when (UTC) and ElevenLabs' title of it."""

    at: datetime
    title: str = ""


class PastValue(_Part):
    """A value a collected field held before: given first at ``since``, last at ``at`` (UTC)."""

    value: Scalar
    since: datetime
    at: datetime


class CollectedValue(_Part):
    """A collected field's current value: given last at ``at`` in ``conversation_id``, first at
    ``since`` (None in a version 1 brief: not known), after the values in ``earlier``, newest first."""

    value: Scalar
    at: datetime
    conversation_id: str
    since: datetime | None = None
    earlier: tuple[PastValue, ...] = ()


class CallerProfile(_Part):
    """The brief. Times are UTC; ``timezone`` is the caller's IANA zone when a call carried a known one."""

    version: int = PROFILE_VERSION
    caller_id: str
    name: GivenName | None = None
    earlier_names: tuple[GivenName, ...] = ()  # newest first
    call_count: int = 0
    first_call_at: datetime | None = None
    last_call_at: datetime | None = None
    timezone: str | None = None
    # The language of the newest call that reported one (``main_language``, e.g. "es"), and that
    # call's time: a call processed late changes it only if it is newer.
    language: str | None = None
    language_at: datetime | None = None
    agents: tuple[str, ...] = ()  # most recently spoken to last
    recent_calls: tuple[CallNote, ...] = ()  # newest first
    first_calls: tuple[CallNote, ...] = ()  # oldest first, none of them in recent_calls
    between_calls: tuple[CallTitle, ...] = ()  # newest first: calls neither first nor recent
    collected: dict[str, CollectedValue] = Field(default_factory=dict)
    # Conversation id → call start (unix seconds), for idempotency; calls at or before the pair
    # (``counted_through``, ``counted_through_id``) had their ids trimmed and count as already seen:
    # the id orders calls that started in the same second, as the trimming does.
    conversations: dict[str, int] = Field(default_factory=dict)
    counted_through: datetime | None = None
    counted_through_id: str = ""


class CallFacts(_Part):
    """What one transcription tells the brief."""

    conversation_id: str
    agent_id: str
    at: datetime
    timezone: str | None = None
    language: str | None = None
    name: GivenName | None = None
    title: str = ""
    summary: str = ""
    collected: dict[str, Scalar] = Field(default_factory=dict)


def call_facts(
    data: TranscriptionData,
    event_timestamp: int | None,
    now: datetime,
    redact_kinds: Iterable[SensitiveKind] = ALL_KINDS,
) -> CallFacts:
    """What one call adds to the brief. Sensitive numbers of ``redact_kinds`` (cards, national ids,
    bank accounts) are redacted from the summary, the title and the collected values: the brief is
    read back into every later call (the archived event keeps the original)."""
    kinds = frozenset(redact_kinds)
    started = data.metadata.start_time_unix_secs or event_timestamp
    at = datetime.fromtimestamp(started, UTC) if started else now.astimezone(UTC)
    analysis = data.analysis
    variables = (
        data.conversation_initiation_client_data.dynamic_variables
        if (data.conversation_initiation_client_data)
        else {}
    )
    # Only a zone the tz database knows: the pre-call renders every date of the brief in it.
    zone = timezone_of((data.metadata.model_extra or {}).get("timezone"), variables)
    collected: dict[str, Scalar] = {}
    if analysis is not None:
        for field, result in analysis.data_collection_results.items():
            value = _scalar(result.value)
            if value is not None:
                collected[_clip(printable(field), TITLE_MAX_CHARS)] = _redacted_scalar(field, value, kinds)
    return CallFacts(
        conversation_id=data.conversation_id,
        agent_id=data.agent_id,
        at=at,
        timezone=None if zone is UTC else zone_name(zone),
        language=language_code(data.metadata.main_language),
        name=_name_of(data, variables, at),
        title=clip_at_word(redact(printable(analysis.call_summary_title or ""), kinds), TITLE_MAX_CHARS)
        if analysis
        else "",
        summary=clip_at_word(redact(printable(analysis.transcript_summary or ""), kinds), SUMMARY_MAX_CHARS)
        if analysis
        else "",
        collected=collected,
    )


def language_code(raw: str | None) -> str | None:
    """``raw`` as a language code the greetings are keyed by ("es", "pt-br"), or None when it is not one."""
    code = (raw or "").strip().lower().replace("_", "-")
    return code if LANGUAGE_CODE.fullmatch(code) else None


def _redacted_scalar(field: str, value: Scalar, kinds: frozenset[SensitiveKind]) -> Scalar:
    # A number collected as a number (a card read out digit by digit, say) is redacted as text too;
    # the field's name says what the value is, as the words before a number in a sentence would.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value
    text = str(value)
    cleaned = redact_named(field, text, kinds)
    return value if cleaned == text else cleaned


def already_counted(profile: CallerProfile, conversation_id: str, at: datetime) -> bool:
    if conversation_id in profile.conversations:
        return True
    if profile.counted_through is None:
        return False
    through = (int(profile.counted_through.timestamp()), profile.counted_through_id)
    return (int(at.timestamp()), conversation_id) <= through


def with_call(profile: CallerProfile, call: CallFacts) -> CallerProfile | None:
    """``profile`` with one more call, or None when the call is already counted (a replay)."""
    if already_counted(profile, call.conversation_id, call.at):
        return None
    newest = profile.last_call_at is None or call.at >= profile.last_call_at
    name, earlier = _names_after(profile, call.name)
    collected = dict(profile.collected)
    for field, value in call.collected.items():
        collected[field] = _with_value(collected.get(field), value, call.at, call.conversation_id)
    note = CallNote(
        conversation_id=call.conversation_id,
        at=call.at,
        agent_id=call.agent_id,
        title=call.title,
        summary=call.summary,
    )
    conversations = {**profile.conversations, call.conversation_id: int(call.at.timestamp())}
    return _bounded(
        profile.model_copy(
            update={
                "version": PROFILE_VERSION,
                "name": name,
                "earlier_names": earlier,
                "call_count": profile.call_count + 1,
                "first_call_at": min(filter(None, (profile.first_call_at, call.at))),
                "last_call_at": max(filter(None, (profile.last_call_at, call.at))),
                "timezone": call.timezone if call.timezone and newest else profile.timezone,
                **_language_after(profile, call),
                "agents": (*(a for a in profile.agents if a != call.agent_id), call.agent_id)
                if newest or call.agent_id not in profile.agents
                else profile.agents,
                **_calls_with(profile, note),
                "collected": collected,
                "conversations": conversations,
            }
        )
    )


def _language_after(profile: CallerProfile, call: CallFacts) -> dict[str, Any]:
    """The newest call's language, by call time, whatever order the calls are processed in."""
    if call.language is None or (profile.language_at is not None and call.at < profile.language_at):
        return {}
    return {"language": call.language, "language_at": call.at}


def encode(profile: CallerProfile) -> bytes:
    """The brief as UTF-8 JSON, trimmed (oldest first) until it fits ``MAX_PROFILE_BYTES``."""
    body = _dump(profile)
    while len(body) > MAX_PROFILE_BYTES:
        profile = _trimmed_once(profile)
        body = _dump(profile)
    return body


def decode(body: bytes) -> CallerProfile | None:
    """The brief in ``body``, or None when it is unreadable (then it is rebuilt by the next call)."""
    try:
        return CallerProfile.model_validate_json(body)
    except (ValidationError, ValueError):
        return None


def _names_after(
    profile: CallerProfile, given: GivenName | None
) -> tuple[GivenName | None, tuple[GivenName, ...]]:
    current, earlier = profile.name, profile.earlier_names
    if given is None:
        return current, earlier
    if current is not None and given.name == current.name:
        # The first call that gave the name, as a fold in call order keeps it (an operator's stays).
        earliest = given.at < current.at and current.source != "operator"
        return (given if earliest else current), earlier
    if current is not None and current.source == "operator":
        # An operator's correction outranks any name said in a call, before or after it.
        if any(old.name == given.name for old in earlier):
            return current, earlier
        return current, tuple(sorted((*earlier, given), key=_when, reverse=True))[:EARLIER_NAMES]
    if current is None or given.at >= current.at:
        # A newer name replaces the older one, which is kept in the history.
        history = (current, *earlier) if current is not None else earlier
        return given, _distinct_names(history, given.name)
    # A late-processed older call: its name is history, not news.
    if any(old.name == given.name for old in earlier):
        return current, earlier
    return current, tuple(sorted((*earlier, given), key=_when, reverse=True))[:EARLIER_NAMES]


def _distinct_names(history: tuple[GivenName, ...], current: str) -> tuple[GivenName, ...]:
    seen, kept = {current}, []
    for old in history:
        if old.name not in seen:
            seen.add(old.name)
            kept.append(old)
    return tuple(kept[:EARLIER_NAMES])


def _calls_with(profile: CallerProfile, note: CallNote) -> dict[str, Any]:
    """Where each call goes once ``note`` is in: the newest ``RECENT_CALLS``, then the oldest
    ``FIRST_CALLS`` of the others, then the newest ``BETWEEN_CALLS`` of the rest by title. Each call
    lands where a fold in call order would put it, whatever the order (a late call, a rebuild)."""
    recent = sorted((note, *profile.recent_calls), key=_call_order, reverse=True)
    firsts = sorted((*profile.first_calls, *recent[RECENT_CALLS:]), key=_call_order)
    between = [CallTitle(at=old.at, title=old.title) for old in firsts[FIRST_CALLS:]]
    return {
        "recent_calls": tuple(
            old if at < FULL_SUMMARY_CALLS else _as_note(old) for at, old in enumerate(recent[:RECENT_CALLS])
        ),
        "first_calls": tuple(_as_note(old) for old in firsts[:FIRST_CALLS]),
        "between_calls": tuple(
            sorted((*profile.between_calls, *between), key=lambda c: (c.at, c.title), reverse=True)[
                :BETWEEN_CALLS
            ]
        ),
    }


def _as_note(note: CallNote) -> CallNote:
    """The call as a note among others: its summary cut at a word at ``NOTE_MAX_CHARS``."""
    shorter = clip_at_word(note.summary, NOTE_MAX_CHARS)
    return note if shorter == note.summary else note.model_copy(update={"summary": shorter})


def _call_order(note: CallNote) -> tuple[datetime, str]:
    # The id breaks ties between calls that started in the same second, as in a rebuild.
    return note.at, note.conversation_id


def _with_value(
    known: CollectedValue | None, value: Scalar, at: datetime, conversation_id: str
) -> CollectedValue:
    """``known`` after a call gave ``value`` at ``at``: the same value again extends its run, another
    one starts a run. A late call lands in time order; one that contradicts the middle of a run splits
    it, its two parts dated by the run's own ends (the calls in between are not in the brief)."""
    if known is None:
        return CollectedValue(value=value, at=at, conversation_id=conversation_id, since=at)
    runs = [
        *reversed(known.earlier),
        PastValue(value=known.value, since=known.since or known.at, at=known.at),
    ]
    runs = _runs_with(runs, PastValue(value=value, since=at, at=at))[-(EARLIER_VALUES + 1) :]
    current = runs[-1]
    return CollectedValue(
        value=current.value,
        at=current.at,
        conversation_id=conversation_id if at >= known.at else known.conversation_id,
        since=current.since if known.since is not None or len(runs) > 1 else None,
        earlier=tuple(reversed(runs[:-1])),
    )


def _runs_with(runs: list[PastValue], given: PastValue) -> list[PastValue]:
    """``runs`` (oldest first, neighbours differ) with one more call's value in time order."""
    before = [n for n, run in enumerate(runs) if run.since <= given.at]
    if not before:
        first = runs[0]
        if same_value(first.value, given.value):
            return [first.model_copy(update={"since": given.at}), *runs[1:]]
        return [given, *runs]
    n = before[-1]
    run = runs[n]
    if same_value(run.value, given.value):
        # The wording of the newest call wins ("Gold" after "gold").
        latest = given if given.at >= run.at else run
        return [*runs[:n], run.model_copy(update={"value": latest.value, "at": latest.at}), *runs[n + 1 :]]
    if given.at >= run.at:
        following = runs[n + 1] if n + 1 < len(runs) else None
        if following is not None and same_value(following.value, given.value):
            return [*runs[: n + 1], following.model_copy(update={"since": given.at}), *runs[n + 2 :]]
        return [*runs[: n + 1], given, *runs[n + 1 :]]
    first_part = run.model_copy(update={"at": run.since})
    last_part = run.model_copy(update={"since": run.at})
    return [*runs[:n], first_part, given, last_part, *runs[n + 1 :]]


def same_value(one: Scalar, other: Scalar) -> bool:
    """Whether two collected values say the same: strings without case and spacing, numbers by value,
    a yes/no only as a yes/no (``True`` is not ``1``)."""
    if isinstance(one, str) and isinstance(other, str):
        return " ".join(one.casefold().split()) == " ".join(other.casefold().split())
    if isinstance(one, bool) or isinstance(other, bool):
        return isinstance(one, bool) and isinstance(other, bool) and one == other
    return not isinstance(one, str) and not isinstance(other, str) and one == other


def _bounded(profile: CallerProfile) -> CallerProfile:
    """Count bounds: the latest fields and agents, the last conversation ids (calls: ``_calls_with``)."""
    collected = dict(
        sorted(profile.collected.items(), key=lambda item: item[1].at, reverse=True)[:MAX_COLLECTED_FIELDS]
    )
    return _without_oldest_conversations(
        profile.model_copy(update={"agents": profile.agents[-MAX_AGENTS:], "collected": collected}),
        MAX_CONVERSATIONS,
    )


def _trimmed_once(profile: CallerProfile) -> CallerProfile:
    """One step towards the size cap, dropping the least useful oldest thing first: conversation ids
    past ``MIN_CONVERSATIONS`` (``counted_through`` still covers them), calls between, recent calls
    past ``MIN_RECENT_CALLS``, former values and names, the second first call, whole fields, the
    other recent calls, the first call, other agents; last, half the last call's summary."""
    for step in _TRIM_STEPS:
        trimmed = step(profile)
        if trimmed is not None:
            return trimmed
    # Only the last call's text is left: nothing else in a brief can grow past the cap.
    last = profile.recent_calls[0]
    shorter = last.model_copy(update={"summary": last.summary[: len(last.summary) // 2]})
    return profile.model_copy(update={"recent_calls": (shorter,)})


def _fewer_conversations(profile: CallerProfile) -> CallerProfile | None:
    if len(profile.conversations) <= MIN_CONVERSATIONS:
        return None
    return _without_oldest_conversations(profile, len(profile.conversations) - 1)


def _without_last(field: str, keep: int) -> Callable[[CallerProfile], CallerProfile | None]:
    """A step dropping the last (the oldest, or the newest of the first calls) of a tuple of the brief."""

    def step(profile: CallerProfile) -> CallerProfile | None:
        items = getattr(profile, field)
        return profile.model_copy(update={field: items[:-1]}) if len(items) > keep else None

    return step


def _fewer_past_values(profile: CallerProfile) -> CallerProfile | None:
    with_history = [field for field, known in profile.collected.items() if known.earlier]
    if not with_history:
        return None
    field = min(with_history, key=lambda f: profile.collected[f].earlier[-1].at)
    known = profile.collected[field]
    return profile.model_copy(
        update={
            "collected": {
                **profile.collected,
                field: known.model_copy(update={"earlier": known.earlier[:-1]}),
            }
        }
    )


def _fewer_fields(profile: CallerProfile) -> CallerProfile | None:
    if not profile.collected:
        return None
    oldest = min(profile.collected, key=lambda field: profile.collected[field].at)
    return profile.model_copy(
        update={"collected": {k: v for k, v in profile.collected.items() if k != oldest}}
    )


def _one_agent(profile: CallerProfile) -> CallerProfile | None:
    return profile.model_copy(update={"agents": profile.agents[-1:]}) if len(profile.agents) > 1 else None


_TRIM_STEPS: tuple[Callable[[CallerProfile], CallerProfile | None], ...] = (
    _fewer_conversations,
    _without_last("between_calls", 0),
    _without_last("recent_calls", MIN_RECENT_CALLS),
    _fewer_past_values,
    _without_last("earlier_names", 0),
    _without_last("first_calls", 1),
    _fewer_fields,
    _without_last("recent_calls", 1),
    _without_last("first_calls", 0),
    _one_agent,
)


def _without_oldest_conversations(profile: CallerProfile, keep: int) -> CallerProfile:
    if len(profile.conversations) <= keep:
        return profile
    ordered = sorted(profile.conversations.items(), key=lambda item: (item[1], item[0]))
    dropped, kept = ordered[: len(ordered) - keep], ordered[len(ordered) - keep :]
    last_id, last_started = dropped[-1]
    through = (last_started, last_id)
    if profile.counted_through is not None:
        through = max(through, (int(profile.counted_through.timestamp()), profile.counted_through_id))
    return profile.model_copy(
        update={
            "conversations": dict(kept),
            "counted_through": datetime.fromtimestamp(through[0], UTC),
            "counted_through_id": through[1],
        }
    )


def names_given(data: TranscriptionData) -> tuple[str, ...]:
    """Every name the call gives the caller (collected, set by a tool, said, or in the dynamic
    variables), distinct, in that order: what an operator's name correction replaces in this call."""
    initiation = data.conversation_initiation_client_data
    variables = initiation.dynamic_variables if initiation else {}
    turns = [(turn.role, turn.message or "") for turn in data.transcript]
    found = (
        name_from_data_collection(data.analysis.data_collection_results) if data.analysis else None,
        name_from_variables(_updated_variables(data)),
        name_from_turns(turns),
        name_from_variables(dict(variables or {})),
    )
    return tuple(dict.fromkeys(name for name in found if name))


def _name_of(data: TranscriptionData, variables: dict[str, Any], at: datetime) -> GivenName | None:
    # Only the caller's words name the caller; the agent's turns say what the caller is answering.
    turns = [(turn.role, turn.message or "") for turn in data.transcript]
    candidates: list[tuple[str | None, NameSource]] = [
        (
            name_from_data_collection(data.analysis.data_collection_results) if data.analysis else None,
            "data_collection",
        ),
        # A tool that set the name during the call (a CRM lookup, the agent saving it) knew it.
        (name_from_variables(_updated_variables(data)), "caller_name_variable"),
        (name_from_turns(turns), "stated_in_call"),
        (name_from_variables(variables), "caller_name_variable"),
    ]
    for name, source in candidates:
        if name:
            return GivenName(name=name, source=source, at=at, conversation_id=data.conversation_id)
    return None


def _updated_variables(data: TranscriptionData) -> dict[str, Any]:
    """The final value of each dynamic variable a tool changed during the call
    (``tool_results[].dynamic_variable_updates``, in the order they were made)."""
    updates = [
        update
        for turn in data.transcript
        for result in turn.tool_results or []
        for update in result.dynamic_variable_updates or []
        if update.new_value is not None
    ]
    updates.sort(key=lambda update: update.updated_at or 0.0)
    return {update.variable_name: update.new_value for update in updates}


def _scalar(value: Any) -> Scalar | None:
    if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, str) and value.strip():
        return _clip(printable(value), VALUE_MAX_CHARS)
    return None  # None, "", and structured values (the summary already covers them)


def _when(item: GivenName) -> datetime:
    return item.at


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clip_at_word(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut after the last whole word that fits, with "…"
    (mid-word only when the first half holds no space: a long run in a script without spaces)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def _dump(profile: CallerProfile) -> bytes:
    return json.dumps(profile.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")).encode()
