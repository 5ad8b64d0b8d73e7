"""What the console shows and changes, over the ports: no HTTP here.

Sources: caller rows and briefs from ``profiles/`` (``profile_store``); "what the agent will hear"
is ``conversation_initiation.answer_from_brief`` on the brief, archiving nothing; memories from the
memory store's ``list_all`` under every user_id of the caller (``operations.caller_user_ids``); calls from the
archived post-call transcriptions, their audio from ``post-call/audio-only/``; search is
``search_memory.search_memories``, as the ``search_memory`` tool answers it; forgetting is
``operations.forget``, as ``agentic-memory forget`` does it.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from agentic_memory import archive_keys
from agentic_memory.caller_profile import CallerProfile
from agentic_memory.conversation_initiation import answer_from_brief
from agentic_memory.elevenlabs import post_call as wire
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from agentic_memory.errors import ArchiveKeyMissing, MemoryUnavailable
from agentic_memory.memory_building import printable
from agentic_memory.ports import MemoryRecord
from agentic_memory.profile_store import read_profile
from agentic_memory.search_memory import options_from, search_memories
from agentic_memory.wiring import Dependencies

from .. import caller_changes, caller_export, operations
from ..caller_changes import CallFootprint

PAGE_SIZE = 25
# Calls shown on a caller's page, newest first: each is one archive read.
MAX_CALLS_SHOWN = 20
NAME_MAX_CHARS = 80
CONSOLE_SEARCH_SECONDS = 5.0


@dataclass(frozen=True)
class CallerRow:
    caller_id: str
    agent_id: str | None
    name: str
    calls: int
    last_call: datetime | None
    agents: tuple[str, ...]


@dataclass(frozen=True)
class CallerPage:
    rows: list[CallerRow]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class Turn:
    role: str
    message: str


@dataclass(frozen=True)
class CallView:
    conversation_id: str
    agent_id: str
    at: datetime | None
    title: str
    summary: str
    transcript: list[Turn]
    has_audio: bool


@dataclass
class CallerView:
    caller_id: str
    agent_id: str | None
    brief: CallerProfile | None
    brief_json: str
    will_hear: dict[str, Any]
    memories: list[MemoryRecord] = field(default_factory=list)
    memory_error: str | None = None
    calls: list[CallView] = field(default_factory=list)


def caller_rows(deps: Dependencies, query: str = "", page: int = 1) -> CallerPage:
    """Briefs ordered by caller id (then agent), ``PAGE_SIZE`` a page. A query matches the number or
    the name case-insensitively; without one only the page's briefs are read."""
    owners = sorted(
        owner
        for key in deps.archive.keys(archive_keys.PROFILE_PREFIX)
        if (owner := archive_keys.profile_owner(key)) is not None
    )
    wanted = query.strip().lower()
    matching: list[CallerRow] = []
    if wanted:
        matching = [row for row in (_row(deps, *owner) for owner in owners) if _matches(row, wanted)]
    total = len(matching) if wanted else len(owners)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    if wanted:
        rows = matching[start : start + PAGE_SIZE]
    else:
        rows = [_row(deps, *owner) for owner in owners[start : start + PAGE_SIZE]]
    return CallerPage(rows=rows, page=page, pages=pages, total=total)


def caller_view(deps: Dependencies, caller_id: str, agent_id: str | None = None) -> CallerView | None:
    """Everything about one caller; None when they have no brief and no archived call."""
    caller = archive_keys.safe_caller(caller_id)
    brief = read_profile(deps.archive, caller, agent_id)
    calls = archived_calls(deps, caller)
    if brief is None and not calls:
        return None
    answer = answer_from_brief(caller, brief, deps.settings, datetime.now(UTC))
    view = CallerView(
        caller_id=caller,
        agent_id=agent_id,
        brief=brief,
        brief_json=brief.model_dump_json(indent=2) if brief else "",
        will_hear=answer.to_wire(),
        calls=calls,
    )
    try:
        view.memories = [
            record
            for user_id in operations.caller_user_ids(deps.archive, caller)
            for record in deps.memory.list_all(user_id)
        ]
    except MemoryUnavailable as error:
        view.memory_error = str(error)
    return view


def archived_calls(deps: Dependencies, caller_id: str) -> list[CallView]:
    prefix = f"{archive_keys.POST_CALL_PREFIX}{archive_keys.safe_caller(caller_id)}/"
    calls = []
    for key in deps.archive.keys(prefix):
        if not archive_keys.is_post_call_event(key):
            continue
        try:
            event = wire.PostCallTranscription.model_validate_json(deps.archive.get(key))
        except (ValueError, ArchiveKeyMissing):
            continue
        calls.append(_call_view(deps, event))
    calls.sort(key=lambda call: call.at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return calls[:MAX_CALLS_SHOWN]


def audio_of(deps: Dependencies, caller_id: str, conversation_id: str) -> bytes | None:
    """The call's MP3, found through the caller's own transcription (so a caller's page can play only
    their calls); None when there is none."""
    key = archive_keys.transcription_key(caller_id, conversation_id)
    try:
        event = wire.PostCallTranscription.model_validate_json(deps.archive.get(key))
        return deps.archive.get(archive_keys.audio_key(event.data.agent_id, conversation_id))
    except (ValueError, ArchiveKeyMissing):
        return None


def search(deps: Dependencies, caller_id: str, query: str, agent_id: str | None = None) -> list[str]:
    """What ``search_memory`` answers for this caller and query (texts, best first, redacted)."""
    settings = deps.settings
    request = SearchMemoryRequest(query=query, user_id=caller_id, agent_id=agent_id)
    # An operator can wait for the semantic results the agent would get only when they are fast.
    options = replace(options_from(settings, datetime.now(UTC)), budget_seconds=CONSOLE_SEARCH_SECONDS)
    _, texts = search_memories(request, deps.memory, deps.archive, options)
    return texts


# Who the corrections record names for what is done in the console.
BY_CONSOLE = "console"


def rename(deps: Dependencies, caller_id: str, name: str, agent_id: str | None = None) -> bool:
    """Correct the caller's name everywhere the agent hears it (``caller_changes.correct_name``);
    False when the name is empty or the caller has no brief."""
    cleaned = " ".join(printable(name).split())[:NAME_MAX_CHARS]
    if not cleaned:
        return False
    done = caller_changes.correct_name(
        deps.archive, deps.memory, caller_id, cleaned, BY_CONSOLE, datetime.now(UTC), agent_id, _policy(deps)
    )
    return done is not None


def memory_of(deps: Dependencies, caller_id: str, memory_id: str) -> MemoryRecord | None:
    return caller_changes.find_memory(deps.archive, deps.memory, caller_id, memory_id)


def delete_memory(deps: Dependencies, caller_id: str, memory_id: str) -> bool:
    """Delete one of this caller's memories for good (recorded); False when the id is not theirs."""
    done = caller_changes.delete_memory(
        deps.archive, deps.memory, caller_id, memory_id, BY_CONSOLE, datetime.now(UTC)
    )
    return done is not None


def edit_memory(deps: Dependencies, caller_id: str, memory_id: str, text: str) -> bool:
    """Replace one memory's text (recorded); False when the text is empty or the id is not theirs."""
    cleaned = printable(text).strip()
    if not cleaned:
        return False
    done = caller_changes.edit_memory(
        deps.archive, deps.memory, caller_id, memory_id, cleaned, BY_CONSOLE, datetime.now(UTC)
    )
    return done is not None


def call_footprint(deps: Dependencies, caller_id: str, conversation_id: str) -> CallFootprint | None:
    return caller_changes.call_footprint(deps.archive, deps.memory, caller_id, conversation_id)


def remove_call(deps: Dependencies, found: CallFootprint) -> int:
    return caller_changes.remove_call(
        deps.archive, deps.memory, found, BY_CONSOLE, datetime.now(UTC), _policy(deps)
    )


def export(deps: Dependencies, caller_id: str) -> tuple[str, bytes]:
    """The caller's export (``caller_export``): its file name and bytes."""
    bundle = caller_export.export_caller(deps.archive, deps.memory, caller_id)
    return caller_export.export_filename(caller_id), bundle.body


def _policy(deps: Dependencies) -> caller_changes.Policy:
    settings = deps.settings
    return caller_changes.Policy(settings.memory_scope, settings.retention_days, settings.redact_kinds)


def footprint(deps: Dependencies, caller_id: str) -> operations.CallerFootprint:
    return operations.footprint(caller_id, deps.archive, deps.memory)


def forget(deps: Dependencies, caller_id: str) -> int:
    """Erase the caller as ``agentic-memory forget --yes`` does; the number of archived objects erased."""
    return operations.forget(footprint(deps, caller_id), deps.archive, deps.memory)


def _row(deps: Dependencies, caller_id: str, agent_id: str | None) -> CallerRow:
    brief = read_profile(deps.archive, caller_id, agent_id)
    if brief is None:
        return CallerRow(caller_id, agent_id, "", 0, None, ())
    name = brief.name.name if brief.name else ""
    return CallerRow(caller_id, agent_id, name, brief.call_count, brief.last_call_at, brief.agents)


def _matches(row: CallerRow, wanted: str) -> bool:
    return wanted in row.caller_id.lower() or wanted in row.name.lower()


def _call_view(deps: Dependencies, event: wire.PostCallTranscription) -> CallView:
    data = event.data
    started = data.metadata.start_time_unix_secs or event.event_timestamp
    analysis = data.analysis
    try:
        has_audio = deps.archive.exists(archive_keys.audio_key(data.agent_id, data.conversation_id))
    except Exception:  # an id our layout cannot hold has no audio either
        has_audio = False
    return CallView(
        conversation_id=data.conversation_id,
        agent_id=data.agent_id,
        at=datetime.fromtimestamp(started, UTC) if started else None,
        title=(analysis.call_summary_title or "") if analysis else "",
        summary=(analysis.transcript_summary or "") if analysis else "",
        transcript=[Turn(turn.role, turn.message or "") for turn in data.transcript if turn.message],
        has_audio=has_audio,
    )
