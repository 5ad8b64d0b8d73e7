"""What the console shows and changes, over the ports: no HTTP here.

Sources: caller rows and briefs from ``profiles/`` (``profile_store``), and callers with archived
pre-calls or transcriptions but no brief; "what the agent will hear" is
``conversation_initiation.answer_from_brief`` on the brief, archiving nothing; memories from the
memory store's ``list_all`` under every user_id of the caller (``operations.caller_user_ids``); calls
and every other kind of event from ``events``, their audio from ``post-call/audio-only/``; search is
``search_memory.search_memories``, as the ``search_memory`` tool answers it; forgetting is
``operations.forget``, as ``agentic-memory forget`` does it.
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from agentic_memory import archive_keys
from agentic_memory.caller_profile import CallerProfile
from agentic_memory.conversation_initiation import answer_from_brief
from agentic_memory.elevenlabs import post_call as wire
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from agentic_memory.errors import ArchiveKeyMissing, MemoryUnavailable, UnsafeIdentifier
from agentic_memory.identity import caller_key, normalise_phone_number
from agentic_memory.memory_building import MEMORY_MAX_CHARS, printable
from agentic_memory.names import clean_name
from agentic_memory.ports import MemoryRecord
from agentic_memory.profile_store import read_profile
from agentic_memory.scope import MemoryScope
from agentic_memory.search_memory import options_from, search_memories
from agentic_memory.wiring import Dependencies

from .. import caller_changes, caller_export, operations
from ..caller_changes import CallFootprint
from . import events
from .events import DeadLetter, DeadLetters, Event

PAGE_SIZE = 25
# Calls shown on a caller's page, newest first: each is one archive read.
MAX_CALLS_SHOWN = 20
NAME_MAX_CHARS = 80
CONSOLE_SEARCH_SECONDS = 5.0
EVENTS_PAGE_SIZE = 50
# Briefs read at once for the callers list (S3 answers each in tens of milliseconds).
BRIEF_READERS = 16
SORTS = ("last", "name", "calls")


@dataclass(frozen=True)
class CallerRow:
    caller_id: str
    agent_id: str | None
    name: str
    calls: int
    last_call: datetime | None
    agents: tuple[str, ...]
    has_brief: bool = True
    timezone: str | None = None


@dataclass(frozen=True)
class CallerPage:
    rows: list[CallerRow]
    page: int
    pages: int
    total: int
    sort: str = "last"
    # A whole number searched for that no row is: its page says what is kept about it.
    lookup: str | None = None


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
    agent_name: str | None = None
    dead_letter: DeadLetter | None = None


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
    # Events that are no processed call: pre-calls without a transcript, unattributed transcriptions
    # found theirs, initiation failures that dialled them, dead letters.
    other_events: list[Event] = field(default_factory=list)
    dead_letters_readable: bool = True
    # Conversation id → the call's start, for the memories' dates.
    call_times: dict[str, datetime] = field(default_factory=dict)

    def call_time_of(self, memory: MemoryRecord) -> datetime | str | None:
        """When the call a memory came from started (its brief, its transcription, else the memory's
        own ``timestamp``, which is the call's start too); never when the memory was stored."""
        conversation = memory.metadata.get("conversation_id")
        found = self.call_times.get(conversation) if isinstance(conversation, str) else None
        stamp = memory.metadata.get("timestamp")
        return found or (stamp if isinstance(stamp, str) else None)


def caller_id_of(deps: Dependencies, raw: str) -> str:
    """The caller a console URL or search names, in any common format (``(555) 010-0155``,
    ``+1 555-010-0155``, ``555.010.0155``): the key the product files them under (``caller_key`` with
    the configured country code); ``raw`` as it is when it names nobody."""
    return caller_key(raw, deps.settings.default_country_code) or raw.strip()


def caller_rows(deps: Dependencies, query: str = "", page: int = 1, sort: str = "last") -> CallerPage:
    """Every caller, ``PAGE_SIZE`` a page, ordered by ``sort``: ``last`` call (newest first, the
    default), ``name`` (A to Z, unknown names last) or ``calls`` (most first). Callers with a brief, and
    callers with pre-calls or transcriptions but no brief yet. A query matches a number in any common
    format, a part of one, or a name. Reads every brief."""
    owners = sorted(
        (
            owner
            for key in deps.archive.keys(archive_keys.PROFILE_PREFIX)
            if (owner := archive_keys.profile_owner(key)) is not None
        ),
        # A caller's brief and their briefs with agents (after a change of MEMORY_SCOPE) side by side.
        key=lambda owner: (owner[0], owner[1] or ""),
    )
    with ThreadPoolExecutor(max_workers=BRIEF_READERS) as readers:
        rows = list(readers.map(lambda owner: _row(deps, *owner), owners))
    rows.extend(_callers_without_brief(deps, {caller for caller, _ in owners}))
    wanted = query.strip()
    lookup = None
    if wanted:
        number = normalise_phone_number(wanted, deps.settings.default_country_code)
        rows = [row for row in rows if _matches(row, wanted, number)]
        if number and not any(row.caller_id == number for row in rows):
            lookup = number
    sort = sort if sort in SORTS else "last"
    rows.sort(key=_SORT_KEYS[sort])
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    shown = rows[start : start + PAGE_SIZE]
    return CallerPage(rows=shown, page=page, pages=pages, total=total, sort=sort, lookup=lookup)


_NEVER = datetime.min.replace(tzinfo=UTC)
_SORT_KEYS: dict[str, Any] = {
    "last": lambda row: (-(row.last_call or _NEVER).timestamp(), row.caller_id),
    "name": lambda row: (not row.name, row.name.casefold(), row.caller_id),
    "calls": lambda row: (-row.calls, -(row.last_call or _NEVER).timestamp(), row.caller_id),
}


def _callers_without_brief(deps: Dependencies, with_brief: set[str]) -> list[CallerRow]:
    """Callers whose pre-calls or transcriptions are archived but who have no brief (yet): their last
    call is their newest pre-call's."""
    latest: dict[str, datetime | None] = {}
    for key in deps.archive.keys(archive_keys.CLIENT_DATA_PREFIX):
        parts = key.split("/")
        if len(parts) > 3 and parts[1] not in with_brief:
            at = events.stamp_of(parts[2].partition("_")[0])
            known = latest.get(parts[1])
            latest[parts[1]] = max(filter(None, (known, at)), default=None)
    for key in deps.archive.keys(archive_keys.POST_CALL_PREFIX):
        parts = key.split("/")
        event = len(parts) == 3 and archive_keys.is_post_call_event(key)
        if event and parts[1] not in with_brief and _is_caller(parts[1]):
            latest.setdefault(parts[1], None)
    return [CallerRow(c, None, "", 0, at, (), has_brief=False) for c, at in sorted(latest.items())]


def _is_caller(segment: str) -> bool:
    try:
        archive_keys.safe_caller(segment)
    except UnsafeIdentifier:
        return False  # our own folders (unattributed/, other/)
    return True


class AgentNames:
    """Agent ids to the names their transcriptions give (``agent_name``), learnt as the console reads
    transcriptions; the callers list looks up the agents it has not seen yet in one of their calls."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._looked_up: set[str] = set()

    def learn(self, found: "Iterable[Event | CallView]") -> None:
        for event in found:
            if event.agent_id and event.agent_name:
                self._names[event.agent_id] = event.agent_name

    def label(self, agent_id: str) -> str:
        return self._names.get(agent_id, agent_id)

    def look_up(self, deps: Dependencies, rows: list[CallerRow]) -> None:
        for row in rows:
            unknown = [a for a in row.agents if a not in self._names and a not in self._looked_up]
            if not unknown:
                continue
            self._looked_up.update(unknown)
            prefix = f"{archive_keys.POST_CALL_PREFIX}{row.caller_id}/"
            for key in list(deps.archive.keys(prefix))[:3]:
                event = events.event_at(deps, key)
                if event is not None:
                    self.learn([event])


def caller_view(
    deps: Dependencies, caller_id: str, agent_id: str | None = None, dead: DeadLetters | None = None
) -> CallerView | None:
    """Everything about one caller; None only when nothing at all is kept about them: no brief, memory,
    pre-call, transcription (theirs or unattributed and found theirs), initiation failure, dead letter,
    recall index or correction."""
    caller = archive_keys.safe_caller(caller_id)
    dead = dead if dead is not None else events.dead_letters_of(deps)
    agent_id = agent_id or default_agent(deps, caller)
    brief = read_profile(deps.archive, caller, agent_id)
    found = events.caller_events(deps, caller, dead)
    memories: list[MemoryRecord] = []
    memory_error = None
    try:
        memories = [
            record
            for user_id in operations.caller_user_ids(deps.archive, caller)
            for record in deps.memory.list_all(user_id)
        ]
    except MemoryUnavailable as error:
        memory_error = str(error)
    if brief is None and not found and not memories and memory_error is None:
        kept = operations.footprint(caller, deps.archive, deps.memory)
        if not kept.object_keys and not kept.memories:
            return None
    answer = answer_from_brief(caller, brief, deps.settings, datetime.now(UTC))
    calls = [_call_view(deps, e) for e in found if e.kind == events.CALL and e.transcription]
    view = CallerView(
        caller_id=caller,
        agent_id=agent_id,
        brief=brief,
        brief_json=brief.model_dump_json(indent=2) if brief else "",
        will_hear=answer.to_wire(),
        memories=memories,
        memory_error=memory_error,
        calls=calls[:MAX_CALLS_SHOWN],
        other_events=[e for e in found if e.kind != events.CALL],
        dead_letters_readable=dead.readable,
    )
    view.call_times = {call.conversation_id: call.at for call in calls if call.at}
    if brief is not None:
        for conversation, started in brief.conversations.items():
            view.call_times.setdefault(conversation, datetime.fromtimestamp(started, UTC))
    return view


def default_agent(deps: Dependencies, caller_id: str) -> str | None:
    """The agent whose brief a caller's page shows when none is asked for: the first agent they have a
    brief with (``MEMORY_SCOPE=caller_and_agent``, where the pre-call and search need an agent); None
    when they have none, or a brief of their own and ``MEMORY_SCOPE`` is ``caller``."""
    owners = operations.brief_agents(deps.archive, caller_id)
    agents = [agent for agent in owners if agent]
    own = None in owners
    # Both kinds (a change of MEMORY_SCOPE since): the kind the runtime reads now.
    if not agents or (own and deps.settings.memory_scope is MemoryScope.CALLER):
        return None
    return agents[0]


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    page: int
    pages: int
    total: int
    dead_letters_readable: bool


def event_rows(deps: Dependencies, query: str = "", kind: str = "", page: int = 1) -> EventPage:
    """Every event of every kind (``events``), newest first, narrowed by ``kind`` and ``query``."""
    dead = events.dead_letters_of(deps)
    found = events.matching(events.every_event(deps, dead), query, deps.settings.default_country_code, kind)
    total = len(found)
    pages = max(1, -(-total // EVENTS_PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * EVENTS_PAGE_SIZE
    return EventPage(found[start : start + EVENTS_PAGE_SIZE], page, pages, total, dead.readable)


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
    # The same rule as a name said in a call (names.clean_name): markup or a paragraph is no name.
    cleaned = clean_name(" ".join(printable(name).split())[:NAME_MAX_CHARS])
    if not cleaned:
        return False
    # Without ?agent= the brief the page shows (default_agent): its name is the one replaced.
    agent_id = agent_id or default_agent(deps, archive_keys.safe_caller(caller_id))
    done = caller_changes.correct_name(
        deps.archive, deps.memory, caller_id, cleaned, BY_CONSOLE, datetime.now(UTC), agent_id, _policy(deps)
    )
    return done is not None


def memory_of(deps: Dependencies, caller_id: str, memory_id: str) -> MemoryRecord | None:
    return caller_changes.find_memory(deps.archive, deps.memory, caller_id, memory_id)


def delete_memory(deps: Dependencies, caller_id: str, memory_id: str) -> bool:
    """Delete one of this caller's memories for good (recorded); False when the id is not theirs."""
    done = caller_changes.delete_memory(
        deps.archive, deps.memory, caller_id, memory_id, BY_CONSOLE, datetime.now(UTC), _policy(deps)
    )
    return done is not None


def edit_memory(deps: Dependencies, caller_id: str, memory_id: str, text: str) -> bool:
    """Replace one memory's text (recorded); False when the text is empty, longer than a memory may be
    (``MEMORY_MAX_CHARS``, 4,000 characters), or the id is not theirs."""
    # A browser sends a line break as CRLF and counts it as one character (maxlength): so do we.
    cleaned = printable(text.replace("\r\n", "\n")).strip()
    if not cleaned or len(cleaned) > MEMORY_MAX_CHARS:
        return False
    done = caller_changes.edit_memory(
        deps.archive, deps.memory, caller_id, memory_id, cleaned, BY_CONSOLE, datetime.now(UTC), _policy(deps)
    )
    return done is not None


def call_footprint(deps: Dependencies, caller_id: str, conversation_id: str) -> CallFootprint | None:
    return caller_changes.call_footprint(deps.archive, deps.memory, caller_id, conversation_id)


def remove_call(deps: Dependencies, found: CallFootprint) -> int:
    return caller_changes.remove_call(
        deps.archive, deps.memory, found, BY_CONSOLE, datetime.now(UTC), _policy(deps)
    )


def export(deps: Dependencies, caller_id: str) -> tuple[str, bytes] | None:
    """The caller's export (``caller_export``): its file name and bytes; None when nothing is kept."""
    kept = footprint(deps, caller_id)
    if not kept.object_keys and not kept.memories:
        return None
    bundle = caller_export.export_caller(deps.archive, deps.memory, caller_id)
    return caller_export.export_filename(caller_id), bundle.body


def _policy(deps: Dependencies) -> caller_changes.Policy:
    settings = deps.settings
    return caller_changes.Policy(settings.memory_scope, settings.retention_days, settings.redact_kinds)


def footprint(deps: Dependencies, caller_id: str) -> operations.CallerFootprint:
    return operations.footprint(caller_id, deps.archive, deps.memory)


def left_by_forget(deps: Dependencies, caller_id: str) -> list[Event]:
    """What the console shows as theirs that ``forget`` does not erase, because it is not filed under
    their number: unattributed transcriptions found theirs, initiation failures that dialled them, and
    dead-letter records (whose names hold the number)."""
    found = events.caller_events(deps, caller_id, events.dead_letters_of(deps))
    outside = (events.UNATTRIBUTED, events.FAILURE)
    return [event for event in found if event.kind in outside or event.dead_letter is not None]


def forget(deps: Dependencies, caller_id: str) -> int:
    """Erase the caller as ``agentic-memory forget --yes`` does; the number of archived objects erased."""
    return operations.forget(footprint(deps, caller_id), deps.archive, deps.memory)


def _row(deps: Dependencies, caller_id: str, agent_id: str | None) -> CallerRow:
    brief = read_profile(deps.archive, caller_id, agent_id)
    if brief is None:
        return CallerRow(caller_id, agent_id, "", 0, None, (), has_brief=False)
    name = brief.name.name if brief.name else ""
    return CallerRow(
        caller_id, agent_id, name, brief.call_count, brief.last_call_at, brief.agents, timezone=brief.timezone
    )


def _matches(row: CallerRow, wanted: str, number: str | None) -> bool:
    if number is not None and row.caller_id == number:
        return True
    digits = events.phone_digits(wanted)
    if digits and digits in events.phone_digits(row.caller_id, minimum=1):
        return True
    lowered = wanted.lower()
    return lowered in row.caller_id.lower() or lowered in row.name.lower()


def _call_view(deps: Dependencies, event: Event) -> CallView:
    transcription = event.transcription
    assert transcription is not None
    data = transcription.data
    analysis = data.analysis
    try:
        has_audio = deps.archive.exists(archive_keys.audio_key(data.agent_id, data.conversation_id))
    except Exception:  # an id our layout cannot hold has no audio either
        has_audio = False
    return CallView(
        conversation_id=data.conversation_id,
        agent_id=data.agent_id,
        at=event.at,
        title=(analysis.call_summary_title or "") if analysis else "",
        summary=(analysis.transcript_summary or "") if analysis else "",
        transcript=[Turn(turn.role, turn.message or "") for turn in data.transcript if turn.message],
        has_audio=has_audio,
        agent_name=event.agent_name,
        dead_letter=event.dead_letter,
    )
