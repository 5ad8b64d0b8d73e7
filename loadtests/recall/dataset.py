"""Reading a recall data set (the shape ``generate.py`` writes), and the dates questions are judged by."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NotRequired, TypedDict
from zoneinfo import ZoneInfo

# The shipped memoir set (``generate.py`` writes it).
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "recall" / "memoir.json"


class TurnRecord(TypedDict):
    role: str  # "agent" or "user"
    message: str
    time_in_call_secs: int


class CallRecord(TypedDict):
    conversation_id: str
    start_time_unix_secs: int
    call_duration_secs: int
    transcript_summary: str
    turns: list[TurnRecord]


class CallerRecord(TypedDict):
    caller_id: str  # E.164
    name: str
    timezone: str  # IANA
    calls: list[CallRecord]


class Question(TypedDict):
    id: str
    caller_id: str
    kind: str  # single-hop, multi-hop, temporal
    question: str
    answer: str
    evidence: list[str]  # "<conversation_id>:<turn index>"
    positions: list[float]  # per planted fact: words before it / the call's words


class Dataset(TypedDict):
    name: str
    agent_id: NotRequired[str]  # the agent the calls were made with
    callers: list[CallerRecord]
    questions: list[Question]


def load(path: Path) -> Dataset:
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    return data


def limited(data: Dataset, callers: int | None) -> Dataset:
    """The first ``callers`` callers and their questions (all of them for None)."""
    if callers is None:
        return data
    kept = data["callers"][:callers]
    ids = {caller["caller_id"] for caller in kept}
    return {**data, "callers": kept, "questions": [q for q in data["questions"] if q["caller_id"] in ids]}


def spoken_date(day: date) -> str:
    """``8 May 2023``: the day as the agent would say it (no leading zero)."""
    return f"{day.day} {day:%B} {day.year}"


def call_date(call: CallRecord, timezone: str) -> date:
    """The call's date in the caller's timezone (an evening call in Chicago is not tomorrow)."""
    started = datetime.fromtimestamp(call["start_time_unix_secs"], UTC)
    return started.astimezone(ZoneInfo(timezone)).date()


def turn_index(data: Dataset) -> dict[str, tuple[CallerRecord, CallRecord, TurnRecord]]:
    """Every turn by its id, ``<conversation_id>:<index>``, with its call and caller."""
    return {
        f"{call['conversation_id']}:{n}": (caller, call, turn)
        for caller in data["callers"]
        for call in caller["calls"]
        for n, turn in enumerate(call["turns"])
    }
