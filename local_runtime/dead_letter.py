"""Folders of event records, one JSON file per archived key: the local dead-letter queue (events
processing gave up on) and the processing queue's spool (events not yet processed).

A record counts the times its event was re-driven from the dead-letter folder (``redrives``), so
that the count survives the trip through the spool and a restart."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class ParkedEvent:
    key: str
    attempts: int
    redrives: int


def record_name(key: str) -> str:
    return key.replace("/", "__")


def park(folder: Path, key: str, attempts: int, reason: str, redrives: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "key": key,
        "attempts": attempts,
        "reason": reason,
        "redrives": redrives,
        "parked_at": datetime.now(UTC).isoformat(),
    }
    path = folder / record_name(key)
    path.write_text(json.dumps(record, indent=2))
    return path


def parked_events(folder: Path) -> list[ParkedEvent]:
    if not folder.is_dir():
        return []
    events = []
    for path in sorted(folder.iterdir()):
        event = _read(path)
        if event is not None:
            events.append(event)
    return events


def parked_keys(folder: Path) -> list[str]:
    return [event.key for event in parked_events(folder)]


def parked_event(folder: Path, key: str) -> ParkedEvent | None:
    return _read(folder / record_name(key))


def is_empty(folder: Path) -> bool:
    """No record in ``folder`` (a directory listing, no file read)."""
    return not folder.is_dir() or next(folder.iterdir(), None) is None


def release(folder: Path, key: str) -> None:
    """Forget a parked event once it has been processed."""
    (folder / record_name(key)).unlink(missing_ok=True)


def _read(path: Path) -> ParkedEvent | None:
    try:
        record = json.loads(path.read_text())
        # Records parked before re-drives were counted have none.
        return ParkedEvent(str(record["key"]), int(record["attempts"]), int(record.get("redrives", 0)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # not one of our records
