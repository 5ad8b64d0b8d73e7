"""Operators' corrections of one caller: facts that outrank what was said (design decision 12).

Kept in the archive at ``corrections/{caller_id}.json`` (the same key in S3 and locally), one
document per caller, written conditionally on the version read (as the brief is), so two operators
acting at once both land. Each entry says who, when and what:

* ``name``: the caller is called ``name`` (formerly ``replaces``). The brief carries it as a name from
  the operator, which no name said in a later call replaces; in every text derived from the calls
  (ElevenLabs' summaries and titles, collected values, the recall index's passages, the memories) the
  former name is replaced where it denotes the caller (``renamed``): whole words only, and not where
  it follows a word for someone else ("my daughter Margaret", "Dr. Margaret").
* ``memory_deleted`` / ``memory_edited``: one memory (its id, the conversation and type it came
  from, its text, for an edit the new text). Processing a call again never adds a deleted memory back
  and adds an edited one as edited (``corrected_messages``); a verbatim memory's lines leave the recall
  index (or are replaced there, ``corrected_indexed_call``); a call's factual memory stands for its
  summary, which leaves the brief and the index with it (``corrected_facts``).
* ``call_removed``: a conversation removed by the operator; processing it again (a late delivery) is
  skipped.

Every rebuild, replay and reprocessing reads this document: ``profile_store`` (brief),
``recall.store`` (index) and ``post_call`` (memories).
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from . import archive_keys
from .caller_profile import (
    EARLIER_NAMES,
    CallerProfile,
    CallFacts,
    CallNote,
    CallTitle,
    CollectedValue,
    GivenName,
    Scalar,
)
from .errors import ArchiveKeyMissing, ArchiveUnavailable
from .name_phrases import FIRST_NAME_FIELDS, FULL_NAME_FIELDS, OTHERS
from .names import field_key
from .ports import Archive, ChatMessage
from .recall.index import IndexedCall
from .recall.passages import AGENT, CALLER, Segment

CORRECTIONS_PREFIX = "corrections/"
# One marker per removed call and agent, ``{agent}/{conversation}.json``: an audio delivery names only
# the agent and the conversation, not the caller, so processing finds a removal there. No caller's
# number or words are in it, so a marker may outlive the caller (``forget``) without keeping anything.
REMOVED_CALLS_PREFIX = f"{CORRECTIONS_PREFIX}removed-calls/"
CONTENT_TYPE = "application/json"
MAX_WRITE_ATTEMPTS = 6
# Words before a name that make it someone else's: "Dr. Margaret", "Mrs Margaret" (the caller's full
# name, when the brief had one, is replaced as a whole first).
_TITLES = frozenset({"dr", "doctor", "mr", "mrs", "ms", "miss", "prof", "professor", "nurse", "sir", "madam"})
_WORD_BEFORE = re.compile(r"([\w'’.-]+)[\s,]*$")
# A former name that is also a month or a day ("June", "April", "May"): where it follows one of these
# words or stands next to a number it is the date, not the caller ("the wedding in June", "June 5th").
_CALENDAR_WORDS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)
_DATE_CONTEXT = frozenset(
    [
        "in",
        "of",
        "on",
        "since",
        "until",
        "till",
        "by",
        "before",
        "after",
        "during",
        "next",
        "last",
        "this",
        "that",
        "early",
        "late",
        "mid",
        "every",
        "each",
        "from",
        "to",
        "through",
        "around",
        "about",
        "until",
    ]
)
_NUMBER_AFTER = re.compile(r"\s*(?:the\s+)?\d")
_NUMBER_BEFORE = re.compile(r"\d(?:st|nd|rd|th)?(?:\s+of)?\s*$")
_RELATION_AFTER = re.compile(r",?\s+(?:my|his|her|their|our|the caller's|the)\s+([\w-]+)")

CorrectionKind = Literal["name", "memory_deleted", "memory_edited", "call_removed"]


class Correction(BaseModel):
    """One operator action: ``kind``, when (UTC), by whom, and what it changed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: CorrectionKind
    at: datetime
    by: str
    name: str = ""
    replaces: str = ""
    memory_id: str = ""
    user_id: str = ""
    conversation_id: str = ""
    memory_type: str = ""
    text: str = ""
    new_text: str = ""


class Corrections(BaseModel):
    """Every correction of one caller, oldest first."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    caller_id: str
    entries: tuple[Correction, ...] = ()

    def renames(self) -> list[tuple[str, str]]:
        """(former, new) pairs to apply in order (``name_pairs`` of each name correction)."""
        return [pair for entry in self.entries for pair in name_pairs(entry)]

    def operator_name(self) -> GivenName | None:
        named = [entry for entry in self.entries if entry.kind == "name"]
        if not named:
            return None
        last = named[-1]
        return GivenName(name=last.name, source="operator", at=last.at, conversation_id="")

    def removed_calls(self) -> frozenset[str]:
        return frozenset(e.conversation_id for e in self.entries if e.kind == "call_removed")

    def deleted_memories(self) -> list[Correction]:
        return [entry for entry in self.entries if entry.kind == "memory_deleted"]

    def edited_memories(self) -> list[Correction]:
        return [entry for entry in self.entries if entry.kind == "memory_edited"]

    def __bool__(self) -> bool:
        return bool(self.entries)


def name_pairs(entry: Correction) -> list[tuple[str, str]]:
    """What a name correction replaces: the whole former name, then its first word by the new one's."""
    if entry.kind != "name" or not entry.replaces.split() or entry.replaces == entry.name:
        return []
    old, new = entry.replaces.split(), entry.name.split()
    pairs = [(entry.replaces, entry.name)] if len(old) > 1 else []
    if old[0] != new[0]:
        pairs.append((old[0], new[0]))
    return pairs


def corrections_key(caller_id: str) -> str:
    return f"{CORRECTIONS_PREFIX}{archive_keys.safe_caller(caller_id)}.json"


def removed_call_key(agent_id: str, conversation_id: str) -> str:
    agent = archive_keys.safe_id(agent_id, "agent_id")
    return f"{REMOVED_CALLS_PREFIX}{agent}/{archive_keys.safe_id(conversation_id, 'conversation_id')}.json"


def mark_removed_call(archive: Archive, agent_ids: Iterable[str], conversation_id: str, at: datetime) -> None:
    """Mark the call removed for each agent it visited, so a later delivery of its audio is dropped."""
    for agent in sorted(set(agent_ids)):
        body = {"conversation_id": conversation_id, "agent_id": agent, "removed_at": at.isoformat()}
        archive.put(removed_call_key(agent, conversation_id), json.dumps(body).encode(), CONTENT_TYPE)


def call_was_removed(archive: Archive, agent_id: str, conversation_id: str) -> bool:
    return archive.exists(removed_call_key(agent_id, conversation_id))


def read_corrections(archive: Archive, caller_id: str) -> Corrections:
    """The caller's corrections (none recorded: an empty record)."""
    try:
        body = archive.get(corrections_key(caller_id))
    except ArchiveKeyMissing:
        return Corrections(caller_id=caller_id)
    return _decoded(body, caller_id)


def record_correction(archive: Archive, caller_id: str, correction: Correction) -> Corrections:
    """Append one correction to the caller's record (conditional write, retried on a conflict)."""
    key = corrections_key(caller_id)
    for _ in range(MAX_WRITE_ATTEMPTS):
        try:
            body, version = archive.get_versioned(key)
            current: Corrections = _decoded(body, caller_id)
        except ArchiveKeyMissing:
            current, version = Corrections(caller_id=caller_id), None  # type: ignore[assignment]
        updated = current.model_copy(update={"entries": (*current.entries, correction)})
        if archive.put_if_version(key, _encoded(updated), CONTENT_TYPE, version):
            return updated
    raise ArchiveUnavailable("the corrections record changed under every attempt to add to it")


def _decoded(body: bytes, caller_id: str) -> Corrections:
    try:
        return Corrections.model_validate_json(body)
    except (ValidationError, ValueError) as error:
        # A correction must never be silently lost: refuse rather than act as if there were none.
        raise ArchiveUnavailable(f"the corrections record of the caller is unreadable: {error}") from None


def _encoded(corrections: Corrections) -> bytes:
    return json.dumps(corrections.model_dump(mode="json"), ensure_ascii=False, indent=1).encode()


# -- applying them -------------------------------------------------------------------------------


def renamed(text: str, renames: Sequence[tuple[str, str]]) -> str:
    """``text`` with each former name replaced by the new one where it names the caller."""
    for old, new in renames:
        if old in text:
            text = _replace_name(text, old, new)
    return text


def _replace_name(text: str, old: str, new: str) -> str:
    pattern = re.compile(rf"(?<![\w-]){re.escape(old)}(?![\w-])")

    calendar = old.casefold() in _CALENDAR_WORDS

    def swap(match: re.Match[str]) -> str:
        before = _WORD_BEFORE.search(text[: match.start()])
        if before and before.group(1).casefold().rstrip(".") in OTHERS | _TITLES:
            return match.group(0)
        if calendar and _is_date(text, match, before):
            return match.group(0)
        after = _RELATION_AFTER.match(text, match.end())
        if after and after.group(1).casefold() in OTHERS:
            return match.group(0)
        return new

    return pattern.sub(swap, text)


def _is_date(text: str, match: re.Match[str], before: re.Match[str] | None) -> bool:
    if before and before.group(1).casefold() in _DATE_CONTEXT:
        return True
    return bool(_NUMBER_AFTER.match(text, match.end()) or _NUMBER_BEFORE.search(text[: match.start()]))


def _renamed_scalar(value: Scalar, renames: Sequence[tuple[str, str]]) -> Scalar:
    return renamed(value, renames) if isinstance(value, str) else value


def pairs_for_call(names: Iterable[str], corrections: Corrections) -> list[tuple[str, str]]:
    """What the operator's name replaces in one call's texts beyond the former names: every other name
    the call gave the caller ("Hi, this is Maggie"), whole, then its first word ("Maggie's")."""
    given = corrections.operator_name()
    if given is None:
        return []
    first = given.name.split()[0]
    pairs: list[tuple[str, str]] = []
    for name in names:
        words = name.split()
        if not words or name == given.name:
            continue
        pairs.append((name, given.name))
        if len(words) > 1 and words[0] != first:
            pairs.append((words[0], first))
    return pairs


def corrected_facts(facts: CallFacts, corrections: Corrections) -> CallFacts:
    """One call's facts for the brief, as the operator left them: the corrected name in its texts and
    values (the former names, and whatever name this call gave the caller), name fields holding the
    operator's name, and the summary and title gone with the call's factual memory when that was
    deleted (its text when that was edited)."""
    given = corrections.operator_name()
    # A later call may give another name ("Hi, this is Maggie"): the agent hears the operator's.
    said = [facts.name.name] if facts.name is not None else []
    pairs = [*corrections.renames(), *pairs_for_call(said, corrections)]
    summary_memory = [
        entry
        for entry in corrections.entries
        if entry.kind in ("memory_deleted", "memory_edited")
        and entry.memory_type == "factual"
        and entry.conversation_id == facts.conversation_id
    ]
    if not pairs and not summary_memory and given is None:
        return facts
    # The name said in the call stays as said: the brief keeps it in its history, under the
    # operator's name (``corrected_brief``), and the agent hears only the operator's.
    title, summary = renamed(facts.title, pairs), renamed(facts.summary, pairs)
    if summary_memory:
        title, summary = "", summary_memory[-1].new_text
    collected = {
        field: _operator_name_value(field, value, given.name)
        if given is not None and _is_name_field(field)
        else _renamed_scalar(value, pairs)
        for field, value in facts.collected.items()
    }
    return facts.model_copy(update={"title": title, "summary": summary, "collected": collected})


def _is_name_field(field: str) -> bool:
    key = field_key(field)
    return key in FIRST_NAME_FIELDS or key in FULL_NAME_FIELDS


def _operator_name_value(field: str, value: Scalar, name: str) -> Scalar:
    """A collected name as the operator named the caller: a first name is the operator's first word; a
    full name is the operator's when it has several words, else it keeps its last words."""
    if not isinstance(value, str) or not value.split():
        return value
    words = name.split()
    if field_key(field) in FIRST_NAME_FIELDS or len(words) > 1:
        return words[0] if field_key(field) in FIRST_NAME_FIELDS else name
    return " ".join([name, *value.split()[1:]])


def corrected_brief(profile: CallerProfile, corrections: Corrections) -> CallerProfile:
    """The brief with the corrected name everywhere the agent hears it, the operator's name first."""
    pairs = corrections.renames()

    def note(old: CallNote) -> CallNote:
        return old.model_copy(
            update={"title": renamed(old.title, pairs), "summary": renamed(old.summary, pairs)}
        )

    def value(old: CollectedValue) -> CollectedValue:
        earlier = tuple(
            past.model_copy(update={"value": _renamed_scalar(past.value, pairs)}) for past in old.earlier
        )
        return old.model_copy(update={"value": _renamed_scalar(old.value, pairs), "earlier": earlier})

    if pairs:
        profile = profile.model_copy(
            update={
                "recent_calls": tuple(note(old) for old in profile.recent_calls),
                "first_calls": tuple(note(old) for old in profile.first_calls),
                "between_calls": tuple(
                    CallTitle(at=old.at, title=renamed(old.title, pairs)) for old in profile.between_calls
                ),
                "collected": {field: value(old) for field, old in profile.collected.items()},
            }
        )
    given = corrections.operator_name()
    if given is None or profile.name == given:
        return profile
    earlier = (profile.name, *profile.earlier_names) if profile.name else profile.earlier_names
    # Names an operator gave before the last correction are history too (Harold → Howard → Hank).
    superseded = [
        GivenName(name=entry.name, source="operator", at=entry.at, conversation_id="")
        for entry in corrections.entries
        if entry.kind == "name" and entry.name != given.name
    ]
    kept: list[GivenName] = []
    for old in sorted((*earlier, *superseded), key=lambda name: name.at, reverse=True):
        if old.name != given.name and all(old.name != seen.name for seen in kept):
            kept.append(old)
    return profile.model_copy(update={"name": given, "earlier_names": tuple(kept[:EARLIER_NAMES])})


def corrected_indexed_call(call: IndexedCall, corrections: Corrections) -> IndexedCall:
    """One call as the recall index keeps it, as the operator left it: the corrected name in what was
    said, and the memories deleted or edited from this call deleted or edited in it too (a verbatim
    memory's lines are the index's own segments, ``memory_building.transcript_passages``; the call's
    factual memory stands for its summary). Entries apply in the order they were made, as the memory
    store saw them."""
    segments, summary = list(call.segments), call.summary
    others = pairs_for_call(call.names_given, corrections)
    for entry in corrections.entries:
        if entry.kind == "name" and (pairs := name_pairs(entry)):
            segments = [Segment(s.speaker, renamed(s.text, pairs)) for s in segments]
            summary = renamed(summary, pairs)
        elif entry.kind in ("memory_deleted", "memory_edited") and (
            entry.conversation_id == call.conversation_id
        ):
            replacement = entry.new_text if entry.kind == "memory_edited" else ""
            if entry.memory_type == "factual":
                summary = replacement
            else:
                segments = _with_lines_replaced(segments, entry.text, replacement)
    if others:
        segments = [Segment(s.speaker, renamed(s.text, others)) for s in segments]
        summary = renamed(summary, others)
    if segments == list(call.segments) and summary == call.summary:
        return call
    return replace(call, segments=tuple(segments), summary=summary)


def _with_lines_replaced(segments: list[Segment], old_text: str, new_text: str) -> list[Segment]:
    """``segments`` with the run of consecutive segments whose lines are ``old_text``'s replaced by
    the lines of ``new_text`` (none: removed). A line of the new text that names no speaker keeps the
    speaker of the first line it replaces. Unchanged when ``old_text`` is not such a run (a fact Mem0
    extracted is no passage of the index)."""
    wanted = [line for line in old_text.split("\n") if line]
    if not wanted:
        return segments
    lines = [segment.line for segment in segments]
    for start in range(len(lines) - len(wanted) + 1):
        if lines[start : start + len(wanted)] == wanted:
            speaker = segments[start].speaker
            added = [_segment_of(line, speaker) for line in new_text.split("\n") if line.strip()]
            return [*segments[:start], *added, *segments[start + len(wanted) :]]
    return segments


def _segment_of(line: str, default_speaker: str) -> Segment:
    speaker, separator, text = line.partition(": ")
    if separator and speaker in (AGENT, CALLER) and text.strip():
        return Segment(speaker, " ".join(text.split()))
    return Segment(default_speaker, " ".join(line.split()))


def corrected_messages(
    messages: Iterable[ChatMessage],
    conversation_id: str,
    memory_type: str,
    corrections: Corrections,
    names: Iterable[str] = (),
) -> tuple[ChatMessage, ...]:
    """The verbatim memories of one call as the operator left them: renamed, edited, and without the
    deleted ones (matched by the conversation, the type and the text, as processing matches them);
    the other ``names`` the call gave the caller replaced by the operator's (``pairs_for_call``)."""
    others = pairs_for_call(names, corrections)
    kept = []
    for message in messages:
        text: str | None = message.content
        for entry in corrections.entries:
            if text is None:
                break
            if entry.kind == "name":
                text = renamed(text, name_pairs(entry))
            elif (entry.conversation_id, entry.memory_type, entry.text) == (
                conversation_id,
                memory_type,
                text,
            ):
                text = entry.new_text if entry.kind == "memory_edited" else None
        if text is not None:
            kept.append(message.model_copy(update={"content": renamed(text, others)}))
    return tuple(kept)
