"""What the agent knows when the call starts: name, greeting, summary, context, dynamic variables.

All of it comes from the caller's brief (``caller_profile``): one small document, whatever the
caller's history, so the answer costs the same for a first-time and a five-hundredth call.

Every dynamic variable is always present and always a string: ElevenLabs fails a call whose prompt
references a variable the webhook did not return.
"""

from datetime import UTC, tzinfo

from pydantic import BaseModel, ConfigDict

from .call_time import call_zone, describe, local_date, zone_name
from .caller_profile import CallerProfile, CallNote
from .elevenlabs.conversation_initiation import (
    AgentOverride,
    ConversationConfigOverride,
    ConversationInitiationClientData,
    PromptOverride,
)

SUMMARY_MAX_CHARS = 400
CONTEXT_MAX_CHARS = 1500
# Per line of the context, so that several calls and fields fit within CONTEXT_MAX_CHARS.
CONTEXT_CALL_MAX_CHARS = 300
CONTEXT_VALUE_MAX_CHARS = 120


class Greetings(BaseModel):
    model_config = ConfigDict(frozen=True)

    welcome: str
    returning: str  # contains {name}
    returning_without_name: str


class CallContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    caller_id: str
    caller_name: str
    returning: bool
    conversation_count: int
    summary: str
    context: str
    first_message: str

    def dynamic_variables(self) -> dict[str, str]:
        return {
            "caller_id": self.caller_id,
            "caller_name": self.caller_name,
            "returning_caller": "yes" if self.returning else "no",
            "memory_count": str(self.conversation_count),
            "memory_summary": self.summary,
            "memory_context": self.context,
        }

    def to_response(self, prompt_template: str | None = None) -> ConversationInitiationClientData:
        """The initiation answer. A prompt override, when configured, is the complete system prompt."""
        variables = self.dynamic_variables()
        prompt = PromptOverride(prompt=render(prompt_template, variables)) if prompt_template else None
        return ConversationInitiationClientData(
            dynamic_variables=variables,
            conversation_config_override=ConversationConfigOverride(
                agent=AgentOverride(first_message=self.first_message, prompt=prompt)
            ),
        )


def build_call_context(caller_id: str, profile: CallerProfile | None, greetings: Greetings) -> CallContext:
    """The context from the caller's brief; no brief (or one with no call) is a new caller."""
    if profile is None or profile.call_count == 0:
        return neutral_call_context(caller_id, greetings)
    name = profile.name.name if profile.name else ""
    first_message = greetings.returning.replace("{name}", name) if name else greetings.returning_without_name
    return CallContext(
        caller_id=caller_id,
        caller_name=name,
        returning=True,
        conversation_count=profile.call_count,
        summary=summarise(profile),
        context=memory_context(profile),
        first_message=first_message,
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
    return _clip(f"{head} Last call: {when}. {title}{summary}", SUMMARY_MAX_CHARS)


def memory_context(profile: CallerProfile) -> str:
    """A compact text the agent's prompt template can include as ``{{memory_context}}``.

    Whole lines only, newest first, until ``CONTEXT_MAX_CHARS``: the name, the caller's timezone
    (dates are the caller's own, or UTC and said so when no call carried a valid IANA zone), the calls
    so far, the recent calls' summaries and the latest value of each collected field. Text from calls
    (titles, summaries, collected values) is put on one line each, so it cannot forge a line.
    """
    zone = _zone(profile)
    name = _one_line(profile.name.name) if profile.name else ""
    lines = [f"Caller's name: {name}." if name else "Caller's name: not known yet."]
    if zone is UTC:
        lines.append("Caller's timezone: not known; dates are UTC.")
    else:
        lines.append(f"Caller's timezone: {zone_name(zone)}; dates are the caller's.")
    span = ""
    if profile.first_call_at and profile.last_call_at:
        first, last = local_date(profile.first_call_at, zone), local_date(profile.last_call_at, zone)
        span = f" (first {first}, last {last})"
    lines.append(f"Previous calls: {profile.call_count}{span}.")
    if profile.recent_calls:
        lines.append("Recent calls, newest first:")
        lines.extend(
            f"- {_clip(_describe(note, zone), CONTEXT_CALL_MAX_CHARS)}" for note in profile.recent_calls
        )
    if profile.collected:
        lines.append("Collected in calls:")
        newest = sorted(profile.collected.items(), key=lambda item: item[1].at, reverse=True)
        lines.extend(
            f"- {_one_line(field)}: {_clip(_one_line(str(value.value)), CONTEXT_VALUE_MAX_CHARS)}"
            for field, value in newest
        )
    return _whole_lines(lines, CONTEXT_MAX_CHARS)


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


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
