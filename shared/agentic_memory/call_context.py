"""What the agent knows when the call starts: name, greeting, summary, context, dynamic variables.

Every dynamic variable is always present and always a string: ElevenLabs fails a call whose prompt
references a variable the webhook did not return.
"""

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from .elevenlabs.initiation import (
    AgentOverride,
    ConversationConfigOverride,
    ConversationInitiationClientData,
    PromptOverride,
)
from .names import name_from_memories
from .ports import MemoryRecord

SUMMARY_MAX_CHARS = 400
CONTEXT_MAX_CHARS = 1500
CONTEXT_MAX_SAID = 5


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


def build_call_context(caller_id: str, memories: Sequence[MemoryRecord], greetings: Greetings) -> CallContext:
    name = name_from_memories(memories) or ""
    returning = bool(memories)
    if not returning:
        first_message = greetings.welcome
    elif name:
        first_message = greetings.returning.replace("{name}", name)
    else:
        first_message = greetings.returning_without_name
    return CallContext(
        caller_id=caller_id,
        caller_name=name,
        returning=returning,
        conversation_count=count_conversations(memories),
        summary=summarise(memories),
        context=memory_context(name, memories),
        first_message=first_message,
    )


def neutral_call_context(caller_id: str, greetings: Greetings) -> CallContext:
    """What the agent gets when memory is unavailable: complete, and promising nothing."""
    return CallContext(
        caller_id=caller_id,
        caller_name="",
        returning=False,
        conversation_count=0,
        summary="",
        context="",
        first_message=greetings.welcome,
    )


def count_conversations(memories: Sequence[MemoryRecord]) -> int:
    """Past conversations, as the agent prompt says "N previous interactions"."""
    conversations = {
        str(m.metadata["conversation_id"]) for m in memories if m.metadata.get("conversation_id")
    }
    if conversations:
        return len(conversations)
    return 1 if memories else 0


def summarise(memories: Sequence[MemoryRecord]) -> str:
    factual = _newest_first([m for m in memories if m.metadata.get("type") == "factual"])
    if not memories:
        return ""
    calls = count_conversations(memories)
    head = f"{calls} previous call{'s' if calls != 1 else ''}."
    if not factual:
        return head
    latest = _first_line(factual[0].text)
    return _clip(f"{head} Last call: {latest}", SUMMARY_MAX_CHARS)


def memory_context(name: str, memories: Sequence[MemoryRecord]) -> str:
    """A compact text the agent's prompt template can include as ``{{memory_context}}``."""
    if not memories:
        return ""
    lines = [f"Caller's name: {name}." if name else "Caller's name: not known yet."]
    lines.append(f"Previous calls: {count_conversations(memories)}.")
    factual = _newest_first([m for m in memories if m.metadata.get("type") == "factual"])
    if factual:
        lines.append("What we know from earlier calls:")
        lines.extend(f"- {_first_line(m.text)}" for m in factual)
    said = _newest_first(
        [
            m
            for m in memories
            if m.metadata.get("type") != "factual" and m.metadata.get("role", "user") == "user"
        ]
    )[:CONTEXT_MAX_SAID]
    if said:
        lines.append("Things the caller said recently:")
        lines.extend(f"- {m.text.strip()}" for m in said)
    return _clip("\n".join(lines), CONTEXT_MAX_CHARS)


def render(template: str, variables: dict[str, str]) -> str:
    text = template
    for key, value in variables.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _newest_first(memories: Sequence[MemoryRecord]) -> list[MemoryRecord]:
    # All memories of one call share the call's timestamp; the store's created_at orders them within it.
    return sorted(
        memories, key=lambda m: (str(m.metadata.get("timestamp") or ""), m.created_at or ""), reverse=True
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
