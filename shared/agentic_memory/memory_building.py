"""Turning a post-call transcription into the two memories we store.

* the *factual* memory: one text with the summary, the outcome, evaluation and data-collection
  results, and the caller's name when it was collected;
* the *semantic* memory: the transcript as chat messages (agent turns become ``assistant``).

Both carry the metadata of DESIGN.md: ``type``, ``agent_id``, ``conversation_id``, ``timestamp``
and ``call_duration_seconds``. A call that did not happen (``why_no_call``) is no memory at all.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .elevenlabs.post_call import TranscriptionData, TranscriptTurn
from .names import name_from_data_collection
from .ports import ChatMessage

MemoryType = Literal["factual", "semantic"]
_MAX_VALUE_CHARS = 300


class MemoryDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: MemoryType
    messages: tuple[ChatMessage, ...]
    metadata: dict[str, Any]


def call_metadata(data: TranscriptionData, memory_type: MemoryType) -> dict[str, Any]:
    started = data.metadata.start_time_unix_secs
    timestamp = datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)
    duration = data.metadata.call_duration_secs
    return {
        "type": memory_type,
        "agent_id": data.agent_id,
        "conversation_id": data.conversation_id,
        "timestamp": timestamp.isoformat(),
        "call_duration_seconds": int(duration) if duration is not None else 0,
    }


def factual_memory(data: TranscriptionData) -> MemoryDraft | None:
    analysis = data.analysis
    lines: list[str] = []
    name = None
    metadata = call_metadata(data, "factual")
    date = metadata["timestamp"][:10]
    if analysis is not None:
        name = name_from_data_collection(analysis.data_collection_results)
        title = f" ({analysis.call_summary_title})" if analysis.call_summary_title else ""
        if analysis.transcript_summary:
            lines.append(f"Call on {date}{title}: {analysis.transcript_summary.strip()}")
        if analysis.call_successful:
            lines.append(f"Call outcome: {analysis.call_successful}.")
        for key, result in analysis.evaluation_criteria_results.items():
            if result.result:
                lines.append(f"Evaluation {key}: {result.result}.")
        for key, collected in analysis.data_collection_results.items():
            value = _short(collected.value)
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
        messages=(ChatMessage(role="user", content=printable("\n".join(lines))),),
        metadata=metadata,
    )


def semantic_memory(data: TranscriptionData) -> MemoryDraft | None:
    messages = tuple(
        ChatMessage(role="user" if turn.role == "user" else "assistant", content=printable(turn.message))
        for turn in data.transcript
        if _spoken(turn) and turn.message
    )
    if not messages:
        return None
    return MemoryDraft(type="semantic", messages=messages, metadata=call_metadata(data, "semantic"))


def why_no_call(data: TranscriptionData) -> str | None:
    """Why this transcription is no past call, or None when the call happened.

    ElevenLabs sends a transcription for conversations that failed (``status`` ``failed``, one of
    ``initiated | in-progress | processing | done | failed``), that carry an error
    (``metadata.error``, ``{code, reason}`` when set) or in which nobody said anything. Their
    analysis is a placeholder ("Summary couldn't be generated"): remembering it would make the
    next caller "returning" to a call that never took place.
    """
    if (data.status or "").strip().lower() == "failed":
        return "status is failed"
    if _carries_error(data.metadata.error):
        return "metadata carries an error"
    if not any(_spoken(turn) for turn in data.transcript):
        return "the transcript is empty"
    return None


def memories_of(data: TranscriptionData) -> list[MemoryDraft]:
    return [draft for draft in (factual_memory(data), semantic_memory(data)) if draft is not None]


def _spoken(turn: TranscriptTurn) -> bool:
    return bool(turn.message and turn.message.strip())


def _carries_error(error: Any) -> bool:
    # An error object whose fields are all null (some deliveries carry one) reports nothing.
    if isinstance(error, dict):
        return any(value not in (None, "") for value in error.values())
    return error not in (None, "", [])


def _short(value: Any) -> str:
    if value is None or value == "" or isinstance(value, (dict, list)):
        return ""
    text = str(value).strip()
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


def printable(text: str) -> str:
    """``text`` stripped, with lone surrogates (valid JSON escapes, invalid Unicode) replaced."""
    return text.strip().encode("utf-8", errors="replace").decode("utf-8")
