"""Turning a post-call transcription into the memories we store.

* the *factual* memory: one text with the summary, the outcome, evaluation and data-collection
  results, and the caller's name when it was collected; always stored verbatim;
* the *semantic* memory, from the transcript, in one of two forms:

  - for a store that infers (Mem0 Platform, the embedded engine with an LLM): the transcript as chat
    messages (agent turns become ``assistant``), added with ``infer`` so that Mem0 extracts and
    consolidates the facts worth keeping;
  - for a store without an LLM: the recall index's overlapping *passages* (``recall.passages``),
    stored verbatim, so that its semantic results fuse with the index's lexical ones.

A call gives at most ``MAX_MEMORIES_PER_CALL`` verbatim memories per ten minutes of call.

Both carry the metadata docs/architecture.md lists: ``type``, ``agent_id``, ``conversation_id``, ``timestamp``
(the call's start, UTC), ``timezone`` (the caller's, so a fact is dated on their calendar) and
``call_duration_seconds``. A call that did not happen (``why_no_call``) is no memory at all.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .call_time import describe_call, zone_name, zone_of_call
from .elevenlabs.post_call import TranscriptionData, TranscriptTurn
from .names import name_from_data_collection
from .ports import ChatMessage
from .recall.passages import AGENT, CALLER, Turn, passage_text, segments_of, semantic_windows
from .redaction import ALL_KINDS, SensitiveKind, redact, redact_fields, redact_named

MemoryType = Literal["factual", "semantic"]
_MAX_VALUE_CHARS = 300

# The bound the design sets: at most this many memories per ten minutes of call (the factual one
# included), so that the store grows with the time talked, never with a transcript's verbosity.
MAX_MEMORIES_PER_CALL = 20
# Hard caps on one memory's text, whatever ElevenLabs sends (a 215 KB summary would otherwise be a
# 221 KB memory, read back whole by the search tool): the summary within the factual memory and the
# factual memory.
FACTUAL_SUMMARY_MAX_CHARS = 2_000
MEMORY_MAX_CHARS = 4_000
AGENT_LABEL = AGENT
CALLER_LABEL = CALLER


class MemoryDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: MemoryType
    messages: tuple[ChatMessage, ...]
    metadata: dict[str, Any]
    # True: the store's LLM extracts facts from the messages (``MemoryStore.add_inferred``); False:
    # each message is one memory, stored as it is.
    infer: bool = False


def call_metadata(data: TranscriptionData, memory_type: MemoryType) -> dict[str, Any]:
    started = data.metadata.start_time_unix_secs
    timestamp = datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)
    duration = data.metadata.call_duration_secs
    return {
        "type": memory_type,
        "agent_id": data.agent_id,
        "conversation_id": data.conversation_id,
        "timestamp": timestamp.isoformat(),
        "timezone": zone_name(zone_of_call(data)),
        "call_duration_seconds": int(duration) if duration is not None else 0,
    }


def factual_memory(
    data: TranscriptionData, redact_kinds: Iterable[SensitiveKind] = ALL_KINDS
) -> MemoryDraft | None:
    """The call's summary, outcome, evaluations, collected fields and name as one memory. A collected
    value whose field names a sensitive number of ``redact_kinds`` (``ssn``, ``iban``, …) is redacted
    by its name here; the whole text is redacted again in ``memories_of``."""
    analysis = data.analysis
    lines: list[str] = []
    name = None
    metadata = call_metadata(data, "factual")
    date = describe_call(data)  # the caller's day, not UTC's: an evening in Los Angeles is not tomorrow
    if analysis is not None:
        name = name_from_data_collection(analysis.data_collection_results)
        title = f" ({_short(analysis.call_summary_title)})" if analysis.call_summary_title else ""
        if analysis.transcript_summary:
            summary = clip_words(analysis.transcript_summary.strip(), FACTUAL_SUMMARY_MAX_CHARS)
            lines.append(f"Call on {date}{title}: {summary}")
        if analysis.call_successful:
            lines.append(f"Call outcome: {analysis.call_successful}.")
        for key, result in analysis.evaluation_criteria_results.items():
            if result.result:
                lines.append(f"Evaluation {key}: {result.result}.")
        for key, collected in analysis.data_collection_results.items():
            value = redact_named(key, _short(collected.value), redact_kinds)
            if value:
                lines.append(f"Collected {key}: {value}.")
    if name:
        lines.append(f"User name is {name}.")
        metadata["caller_name"] = name
    if not lines:
        return None
    if analysis is not None and analysis.call_successful:
        metadata["call_outcome"] = analysis.call_successful
    return MemoryDraft(
        type="factual",
        messages=(
            ChatMessage(role="user", content=clip_words(printable("\n".join(lines)), MEMORY_MAX_CHARS)),
        ),
        metadata=metadata,
    )


def semantic_memory(data: TranscriptionData) -> MemoryDraft | None:
    """The transcript as chat messages, for a store that extracts facts from it (``infer``)."""
    messages = _spoken_messages(data)
    if not messages:
        return None
    return MemoryDraft(
        type="semantic", messages=messages, metadata=call_metadata(data, "semantic"), infer=True
    )


def transcript_passages(
    data: TranscriptionData, redact_kinds: Iterable[SensitiveKind] = ALL_KINDS
) -> MemoryDraft | None:
    """The transcript as the recall index's units (``recall.passages.semantic_windows``), for a store
    without an LLM: as many as ``max_passages(duration)`` allows, each as small as that allows.

    The same texts as the index's units, so that the store's semantic results are recognised in the
    index and fused with its BM25 ranking (``recall.answer``).
    """
    segments = segments_of(turns_of(data, redact_kinds))
    windows = semantic_windows(segments, max_passages(data.metadata.call_duration_secs))
    texts = [passage_text(segments[first : last + 1]) for first, last in windows]
    if not texts:
        return None
    return MemoryDraft(
        type="semantic",
        messages=tuple(ChatMessage(role="user", content=text) for text in texts),
        metadata=call_metadata(data, "semantic"),
    )


def max_passages(duration_seconds: float | None) -> int:
    """Verbatim passages a call may give: ``MAX_MEMORIES_PER_CALL`` per ten minutes, less the factual
    memory, and never fewer than a ten-minute call's (a call's duration may be missing)."""
    tens_of_minutes = max(1.0, (duration_seconds or 0) / 600)
    return int(MAX_MEMORIES_PER_CALL * tens_of_minutes) - 1


def turns_of(data: TranscriptionData, redact_kinds: Iterable[SensitiveKind] = ALL_KINDS) -> list[Turn]:
    """The spoken turns, who spoke named (``Agent``, ``Caller``), sensitive numbers redacted; tool-only
    turns (no text) left out."""
    kinds = frozenset(redact_kinds)
    return [
        Turn(CALLER_LABEL if message.role == "user" else AGENT_LABEL, redact(message.content, kinds))
        for message in _spoken_messages(data)
    ]


def why_no_call(data: TranscriptionData) -> str | None:
    """Why this transcription is no past call, or None when the call happened.

    ElevenLabs sends a transcription for conversations that failed (``status`` ``failed``, one of
    ``initiated | in-progress | processing | done | failed``), that carry an error
    (``metadata.error``, ``{code, reason}`` when set) or in which the caller said nothing (no
    ``user`` turn with words: the agent's greeting to a line that hung up is no conversation). Their
    analysis is a placeholder ("Summary couldn't be generated"): remembering it would make the
    next caller "returning" to a call that never took place.
    """
    if (data.status or "").strip().lower() == "failed":
        return "status is failed"
    if _carries_error(data.metadata.error):
        return "metadata carries an error"
    if not any(_spoken(turn) for turn in data.transcript):
        return "the transcript is empty"
    if not any(turn.role == "user" and _spoken(turn) for turn in data.transcript):
        return "the caller said nothing"
    return None


def memories_of(
    data: TranscriptionData, infer: bool = False, redact_kinds: Iterable[SensitiveKind] = ALL_KINDS
) -> list[MemoryDraft]:
    """The factual memory and the transcript: as messages to infer from when the store has an LLM
    (``infer``), as passages otherwise. Sensitive numbers of ``redact_kinds`` never reach a memory."""
    transcript = semantic_memory(data) if infer else transcript_passages(data, redact_kinds)
    drafts = [draft for draft in (factual_memory(data, redact_kinds), transcript) if draft is not None]
    return [_redacted(draft, redact_kinds) for draft in drafts]


def _redacted(draft: MemoryDraft, kinds: Iterable[SensitiveKind]) -> MemoryDraft:
    messages = tuple(redact_fields(message, ("content",), kinds) for message in draft.messages)
    return draft.model_copy(update={"messages": messages})


def _spoken_messages(data: TranscriptionData) -> tuple[ChatMessage, ...]:
    return tuple(
        ChatMessage(role="user" if turn.role == "user" else "assistant", content=printable(turn.message))
        for turn in data.transcript
        if _spoken(turn) and turn.message
    )


def _spoken(turn: TranscriptTurn) -> bool:
    # A backchannel ElevenLabs ignored ("mm-hmm" over the agent) is no part of what was said.
    return bool(turn.message and turn.message.strip()) and not turn.ignored_as_backchannel


def _carries_error(error: Any) -> bool:
    # An error object whose fields are all null (some deliveries carry one) reports nothing.
    if isinstance(error, dict):
        return any(value not in (None, "") for value in error.values())
    return error not in (None, "", [])


def clip_words(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters: cut at the last whitespace before the limit (within its
    second half, else mid-word) and ended with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _short(value: Any) -> str:
    if value is None or value == "" or isinstance(value, (dict, list)):
        return ""
    text = str(value).strip()
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


def printable(text: str) -> str:
    """``text`` stripped, with lone surrogates (valid JSON escapes, invalid Unicode) replaced."""
    return text.strip().encode("utf-8", errors="replace").decode("utf-8")
