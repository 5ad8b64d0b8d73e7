"""What the agent knows when the call starts: name, greeting, summary, context, dynamic variables.

All of it comes from the caller's brief (``caller_profile``): one small document, whatever the
caller's history, so the answer costs the same for a first-time and a five-hundredth call.

Every dynamic variable is always present and always a string: ElevenLabs fails a call whose prompt
references a variable the webhook did not return.
"""

from datetime import UTC, datetime, tzinfo

from pydantic import BaseModel, ConfigDict

from .call_time import call_zone, describe, local_date, zone_name
from .caller_profile import CallerProfile, CallNote, CollectedValue, clip_at_word
from .elevenlabs.conversation_initiation import (
    AgentOverride,
    ConversationConfigOverride,
    ConversationInitiationClientData,
    PromptOverride,
)

SUMMARY_MAX_CHARS = 400
# ``memory_context`` in characters, whatever the caller's history: about 600 tokens of the prompt.
CONTEXT_MAX_CHARS = 2500
# Its parts, so that none crowds out the others: the collected values (with their heading) and the
# titles of the calls between the first and the recent ones take at most these; the calls share
# the rest, each line cut at a word to an equal share between these two bounds.
CONTEXT_COLLECTED_MAX_CHARS = 600
CONTEXT_BETWEEN_MAX_CHARS = 360
CONTEXT_CALL_MAX_CHARS = 320
CONTEXT_CALL_MIN_CHARS = 150
CONTEXT_VALUE_MAX_CHARS = 120
# A former value of a field, and how many of them a field's line shows.
CONTEXT_EARLIER_VALUE_MAX_CHARS = 40
CONTEXT_EARLIER_VALUES = 2


class Greetings(BaseModel):
    """The first messages for this call. None: no first_message override, so the agent's own first
    message (in the conversation's language) stands."""

    model_config = ConfigDict(frozen=True)

    welcome: str | None
    returning: str | None  # contains {name}
    returning_without_name: str | None
    # The language these greetings are in, sent as the `language` override with them; None: not sent
    # (the agent does not allow it, or the caller's language is not known).
    language: str | None = None


class CallContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    caller_id: str
    caller_name: str
    returning: bool
    conversation_count: int
    summary: str
    context: str
    first_message: str | None
    # The language of the caller's last call ("es"), "" when not known.
    language: str = ""
    # Sent as `language` with the first message; None: no language override.
    language_override: str | None = None

    def dynamic_variables(self) -> dict[str, str]:
        return {
            "caller_id": self.caller_id,
            "caller_name": self.caller_name,
            "returning_caller": "yes" if self.returning else "no",
            "memory_count": str(self.conversation_count),
            "memory_summary": self.summary,
            "memory_context": self.context,
            "caller_language": self.language,
        }

    def to_response(self, prompt_template: str | None = None) -> ConversationInitiationClientData:
        """The initiation answer. A prompt override, when configured, is the complete system prompt."""
        variables = self.dynamic_variables()
        prompt = PromptOverride(prompt=render(prompt_template, variables)) if prompt_template else None
        language = self.language_override if self.first_message is not None else None
        agent = AgentOverride(first_message=self.first_message, language=language, prompt=prompt)
        # No override at all rather than an empty one: the agent's own settings stand.
        empty = agent == AgentOverride()
        return ConversationInitiationClientData(
            dynamic_variables=variables,
            conversation_config_override=None if empty else ConversationConfigOverride(agent=agent),
        )


def build_call_context(caller_id: str, profile: CallerProfile | None, greetings: Greetings) -> CallContext:
    """The context from the caller's brief; no brief (or one with no call) is a new caller."""
    if profile is None or profile.call_count == 0:
        return neutral_call_context(caller_id, greetings)
    name = profile.name.name if profile.name else ""
    if name and greetings.returning is not None:
        first_message: str | None = greetings.returning.replace("{name}", name)
    else:
        first_message = greetings.returning_without_name
    return CallContext(
        caller_id=caller_id,
        caller_name=name,
        returning=True,
        conversation_count=profile.call_count,
        summary=summarise(profile),
        context=memory_context(profile),
        first_message=first_message,
        language=profile.language or "",
        language_override=greetings.language,
    )


def neutral_call_context(caller_id: str, greetings: Greetings) -> CallContext:
    """What the agent gets for a new caller, or when the brief is unavailable: complete, promising nothing."""
    return CallContext(
        caller_id=caller_id,
        caller_name="",
        returning=False,
        conversation_count=0,
        summary="",
        context="",
        first_message=greetings.welcome,
        language_override=greetings.language,
    )


def summarise(profile: CallerProfile) -> str:
    """``N previous calls.`` and when the last call was (the caller's day, part of day and zone, or UTC
    when no call carried a timezone), its title and summary, at most ``SUMMARY_MAX_CHARS``:
    ``2 previous calls. Last call: Sunday 29 November 2026, evening (America/Los_Angeles). Title: …``"""
    calls = profile.call_count
    head = f"{calls} previous call{'s' if calls != 1 else ''}."
    if not profile.recent_calls:
        return head
    note = profile.recent_calls[0]
    title = f"{_one_line(note.title)}: " if _one_line(note.title) else ""
    summary = _one_line(note.summary) or "no summary."
    when = describe(note.at, _zone(profile))
    return clip_at_word(f"{head} Last call: {when}. {title}{summary}", SUMMARY_MAX_CHARS)


def memory_context(profile: CallerProfile) -> str:
    """A compact text the agent's prompt template can include as ``{{memory_context}}``, at most
    ``CONTEXT_MAX_CHARS`` characters whatever the history, all of it from the brief.

    The name, the caller's timezone (dates are the caller's own, or UTC and said so when no call
    carried a valid IANA zone), how many calls there were and when the first and the last were, the
    recent calls newest first (date, title, summary), the calls between (how many, and the dates and
    titles of the newest, at most ``CONTEXT_BETWEEN_MAX_CHARS``), the first call(s), and what was
    collected in calls: each field's current value, since when if it changed, and what it was before
    (at most ``CONTEXT_COLLECTED_MAX_CHARS``). The calls share what is left, one line each cut at a
    word; the newest and the first call come first when not all fit. Text from calls (titles,
    summaries, collected values) is put on one line each, so it cannot forge a line.
    """
    zone = _zone(profile)
    name = _one_line(profile.name.name) if profile.name else ""
    head = [f"Caller's name: {name}." if name else "Caller's name: not known yet."]
    if zone is UTC:
        head.append("Caller's timezone: not known; dates are UTC.")
    else:
        head.append(f"Caller's timezone: {zone_name(zone)}; dates are the caller's.")
    span = ""
    if profile.first_call_at and profile.last_call_at:
        first, last = local_date(profile.first_call_at, zone), local_date(profile.last_call_at, zone)
        span = f" (first {first}, last {last})"
    head.append(f"Previous calls: {profile.call_count}{span}.")
    collected = _whole_lines(_collected_lines(profile, zone), CONTEXT_COLLECTED_MAX_CHARS).splitlines()
    between = _between_lines(profile, zone)
    left = CONTEXT_MAX_CHARS - _length([*head, *collected, *between]) - 1
    recent, firsts = _call_lines(profile, zone, left)
    return _whole_lines([*head, *recent, *between, *firsts, *collected], CONTEXT_MAX_CHARS)


def _call_lines(profile: CallerProfile, zone: tzinfo, budget: int) -> tuple[list[str], list[str]]:
    """The recent calls' and the first calls' lines, with their headings, within ``budget``
    characters (newlines included). The newest call is told at length (``CONTEXT_CALL_MAX_CHARS``: the
    one the caller most likely calls back about); the others share what is left, each line cut at a
    word. When not all fit: the newest, the first, the other recent ones newest first, the second first."""
    recent, firsts = profile.recent_calls, profile.first_calls
    if not recent and not firsts:
        return [], []
    headings = ["Recent calls, newest first:", _first_heading(profile) if firsts else ""]
    left = budget - _length(headings) - 1
    newest, *others = (*recent, *firsts)
    lines = {newest.conversation_id: _call_line(newest, zone, CONTEXT_CALL_MAX_CHARS)}
    share = (left - len(lines[newest.conversation_id]) - 1) // max(len(others), 1) - 1
    width = max(CONTEXT_CALL_MIN_CHARS, min(CONTEXT_CALL_MAX_CHARS, share))
    lines.update((note.conversation_id, _call_line(note, zone, width)) for note in others)
    kept: set[str] = set()
    for note in (newest, *firsts[:1], *recent, *firsts[1:]):
        cost = len(lines[note.conversation_id]) + 1
        if note.conversation_id not in kept and cost <= left:
            kept.add(note.conversation_id)
            left -= cost
    shown_recent = [lines[n.conversation_id] for n in recent if n.conversation_id in kept]
    shown_firsts = [lines[n.conversation_id] for n in firsts if n.conversation_id in kept]
    return (
        [headings[0], *shown_recent] if shown_recent else [],
        [headings[1], *shown_firsts] if shown_firsts else [],
    )


def _call_line(note: CallNote, zone: tzinfo, width: int) -> str:
    return f"- {clip_at_word(_describe(note, zone), width - 2)}"


def _first_heading(profile: CallerProfile) -> str:
    # A brief written before first calls were kept (version 1) keeps the oldest it still had.
    if profile.first_calls[0].at != profile.first_call_at:
        return "Earliest calls kept:"
    return "First call:" if len(profile.first_calls) == 1 else "First calls:"


def _between_lines(profile: CallerProfile, zone: tzinfo) -> list[str]:
    """One line: how many calls came between the first and the recent ones, and the dates and titles
    of the newest of them, whole, within ``CONTEXT_BETWEEN_MAX_CHARS``."""
    count = profile.call_count - len(profile.recent_calls) - len(profile.first_calls)
    if count <= 0:
        return []
    items: list[str] = []
    line = f"{_others_label(profile)}: {count}"
    for call in profile.between_calls:
        item = f"{local_date(call.at, zone)} {clip_at_word(_one_line(call.title) or 'no title', 60)}"
        longer = f"{line}, newest first: {'; '.join([*items, item])}; {count} more not listed."
        if len(longer) > CONTEXT_BETWEEN_MAX_CHARS:
            break
        items.append(item)
    if not items:
        return [f"{line} (not listed)."]
    rest = f"; {count - len(items)} more not listed" if count > len(items) else ""
    return [f"{line}, newest first: {'; '.join(items)}{rest}."]


def _others_label(profile: CallerProfile) -> str:
    # A brief of version 1 did not keep its first calls: the calls it lost came before those it kept.
    if not profile.first_calls:
        return "Earlier calls"
    return "Calls between" if profile.first_calls[0].at == profile.first_call_at else "Other calls"


def _collected_lines(profile: CallerProfile, zone: tzinfo) -> list[str]:
    if not profile.collected:
        return []
    newest = sorted(profile.collected.items(), key=lambda item: item[1].at, reverse=True)
    return [
        "Collected in calls:",
        *(f"- {_one_line(field)}: {_value_line(known, zone)}" for field, known in newest),
    ]


def _value_line(known: CollectedValue, zone: tzinfo) -> str:
    """``gold``, or ``silver (since 2025-06-04; before: gold (2025-06-02 to 2025-06-03))`` once it
    changed: the value given last, from the first call of its run, then the runs before it."""
    value = clip_at_word(_one_line(str(known.value)), CONTEXT_VALUE_MAX_CHARS)
    if not known.earlier:
        return value
    since = f"since {local_date(known.since, zone)}; " if known.since else ""
    before = ", ".join(
        f"{clip_at_word(_one_line(str(old.value)), CONTEXT_EARLIER_VALUE_MAX_CHARS)} "
        f"({_dates(old.since, old.at, zone)})"
        for old in known.earlier[:CONTEXT_EARLIER_VALUES]
    )
    more = (
        f" and {len(known.earlier) - CONTEXT_EARLIER_VALUES} more"
        if len(known.earlier) > CONTEXT_EARLIER_VALUES
        else ""
    )
    return f"{value} ({since}before: {before}{more})"


def _dates(since: datetime, at: datetime, zone: tzinfo) -> str:
    first, last = local_date(since, zone), local_date(at, zone)
    return first if first == last else f"{first} to {last}"


def _length(lines: list[str]) -> int:
    """The characters ``lines`` take joined by newlines (a blank entry takes none)."""
    kept = [line for line in lines if line]
    return sum(len(line) for line in kept) + max(len(kept) - 1, 0)


def render(template: str, variables: dict[str, str]) -> str:
    text = template
    for key, value in variables.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _zone(profile: CallerProfile) -> tzinfo:
    # A brief written before timezones were checked may hold a name no tz database knows: UTC then.
    return call_zone(profile.timezone)


def _describe(note: CallNote, zone: tzinfo) -> str:
    title = f" ({_one_line(note.title)})" if _one_line(note.title) else ""
    summary = _one_line(note.summary) or "no summary."
    return f"{describe(note.at, zone, named_zone=False)}{title}: {summary}"


def _whole_lines(lines: list[str], limit: int) -> str:
    text = ""
    for line in lines:
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > limit:
            break
        text = candidate
    return text


def _one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) as one space: what a caller said, or
    ElevenLabs' summary of it, must not start a line of its own in the context (a forged
    ``Caller's name: …`` line, say)."""
    return " ".join(text.split())
