"""Everything kept about one caller as one .zip a person can open: ``agentic-memory export`` and the
console's download (an access request; a memoir line's transcripts).

Layout of the archive (``export_caller``)::

    README.txt                      what this is, the caller, when, and an index of the calls
    brief.json                      the caller brief (briefs/{agent}.json too, per agent)
    memories.json, memories.txt     every memory in the memory store, with its metadata
    corrections.json                the operator's corrections (who, when, what)
    calls/{date}_{conversation}/    transcript.txt, transcript.json (the archived event as received),
                                    audio.mp3 when the call's audio is kept
    pre-calls/{folder}/…json        the pre-call requests and answers

The transcripts are as they were archived (not redacted, not renamed): they are what is kept.
"""

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentic_memory import archive_keys
from agentic_memory.corrections import corrections_key
from agentic_memory.elevenlabs import post_call as wire
from agentic_memory.errors import ArchiveKeyMissing
from agentic_memory.memory_building import turns_of
from agentic_memory.ports import Archive, MemoryStore

from . import operations
from .caller_changes import caller_memories


@dataclass(frozen=True)
class Export:
    body: bytes
    calls: int
    audio_files: int
    memories: int


def export_filename(caller_id: str) -> str:
    """``agentic-memory-15550100142.zip``: the caller's letters and digits, whatever form the id was
    typed in (``+1 (555) 010-0142``); never a path."""
    plain = "".join(char for char in caller_id if char.isascii() and char.isalnum())[:64]
    return f"agentic-memory-{plain or 'caller'}.zip"


def export_caller(
    archive: Archive, memory: MemoryStore, caller_id: str, now: datetime | None = None
) -> Export:
    caller = archive_keys.safe_caller(caller_id)
    now = now or datetime.now(UTC)
    buffer = io.BytesIO()
    index: list[str] = []
    briefs: list[str] = []
    audio_files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for key in operations.caller_briefs(archive, caller):
            owner = archive_keys.profile_owner(key)
            name = f"briefs/{owner[1]}.json" if owner and owner[1] else "brief.json"
            bundle.writestr(name, _pretty(archive.get(key)))
            briefs.append(name)
        records = caller_memories(archive, memory, caller)
        bundle.writestr(
            "memories.json",
            json.dumps([r.model_dump(mode="json") for r in records], indent=2, ensure_ascii=False),
        )
        bundle.writestr("memories.txt", "".join(_memory_line(r.metadata, r.text) for r in records))
        try:
            bundle.writestr("corrections.json", _pretty(archive.get(corrections_key(caller))))
        except ArchiveKeyMissing:
            bundle.writestr("corrections.json", json.dumps({"caller_id": caller, "entries": []}, indent=2))
        for event, raw in _transcriptions(archive, caller):
            data = event.data
            started = data.metadata.start_time_unix_secs or event.event_timestamp
            at = datetime.fromtimestamp(started, UTC) if started else None
            folder = (
                f"calls/{at:%Y-%m-%d_%H%M}_{data.conversation_id}" if at else f"calls/{data.conversation_id}"
            )
            bundle.writestr(f"{folder}/transcript.json", _pretty(raw))
            bundle.writestr(f"{folder}/transcript.txt", _transcript_text(event, at))
            audio = _audio(archive, data.agent_id, data.conversation_id)
            if audio is not None:
                bundle.writestr(f"{folder}/audio.mp3", audio)
                audio_files += 1
            title = data.analysis.call_summary_title if data.analysis else None
            when = f"{at:%Y-%m-%d %H:%M} UTC" if at else "time unknown"
            index.append(f"  {folder}/  {when}  {title or ''}{'  (audio)' if audio else ''}")
        for key in archive.keys(f"{archive_keys.CLIENT_DATA_PREFIX}{caller}/"):
            bundle.writestr(f"pre-calls/{key.split('/', 2)[2]}", _pretty(archive.get(key)))
        bundle.writestr("README.txt", _readme(caller, now, index, len(records), briefs))
    return Export(buffer.getvalue(), len(index), audio_files, len(records))


def _transcriptions(archive: Archive, caller: str) -> list[tuple[wire.PostCallTranscription, bytes]]:
    found = []
    for key in archive.keys(f"{archive_keys.POST_CALL_PREFIX}{caller}/"):
        if not archive_keys.is_post_call_event(key):
            continue
        raw = archive.get(key)
        try:
            found.append((wire.PostCallTranscription.model_validate_json(raw), raw))
        except ValueError:
            continue
    return sorted(found, key=lambda pair: pair[0].data.metadata.start_time_unix_secs or 0)


def _transcript_text(event: wire.PostCallTranscription, at: datetime | None) -> str:
    data = event.data
    analysis = data.analysis
    lines = [
        f"Conversation {data.conversation_id} with agent {data.agent_id}",
        f"When: {at:%Y-%m-%d %H:%M} UTC" if at else "When: not known",
    ]
    if analysis and analysis.call_summary_title:
        lines.append(f"Title: {analysis.call_summary_title}")
    if analysis and analysis.transcript_summary:
        lines += ["", "Summary:", analysis.transcript_summary]
    lines += ["", "Transcript:"]
    lines += [f"{turn.speaker}: {turn.text}" for turn in turns_of(data, ())]
    return "\n".join(lines) + "\n"


def _audio(archive: Archive, agent_id: str, conversation_id: str) -> bytes | None:
    try:
        return archive.get(archive_keys.audio_key(agent_id, conversation_id))
    except (ArchiveKeyMissing, ValueError):
        return None
    except Exception:  # an id our layout cannot hold has no audio either
        return None


def _memory_line(meta: Mapping[str, Any], text: str) -> str:
    when = str(meta.get("timestamp", ""))[:16].replace("T", " ")
    return f"- [{when}] ({meta.get('type', '?')}, {meta.get('conversation_id', '')}) {text}\n"


def _readme(caller: str, now: datetime, index: list[str], memories: int, briefs: list[str]) -> str:
    # Under MEMORY_SCOPE=caller_and_agent each agent keeps its own brief: briefs/{agent}.json.
    brief_lines = [f"{name:<19}what the voice agent is told at the start of each call" for name in briefs]
    return "\n".join(
        [
            f"Everything Agentic Memory keeps about {caller}",
            f"Exported {now:%Y-%m-%d %H:%M} UTC.",
            "",
            *(brief_lines or ["(no brief)         the voice agent is told nothing at the start of a call"]),
            f"memories.txt       the {memories} memories kept (memories.json: the same, with their details)",
            "corrections.json   changes an operator made (who, when, what)",
            "calls/             one folder per call: transcript.txt (readable), transcript.json",
            "                   (as received from ElevenLabs), audio.mp3 when the audio is kept",
            "pre-calls/         what was asked and answered as each call began",
            "",
            f"Calls ({len(index)}):",
            *index,
            "",
        ]
    )


def _pretty(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body.decode("utf-8", errors="replace")
