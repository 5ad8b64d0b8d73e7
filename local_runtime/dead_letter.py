"""Folders of event records, one JSON file per archived key: the local dead-letter queue (events
processing gave up on) and the processing queue's spool (events not yet processed)."""

import json
from datetime import UTC, datetime
from pathlib import Path


def record_name(key: str) -> str:
    return key.replace("/", "__")


def park(folder: Path, key: str, attempts: int, reason: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    record = {"key": key, "attempts": attempts, "reason": reason, "parked_at": datetime.now(UTC).isoformat()}
    path = folder / record_name(key)
    path.write_text(json.dumps(record, indent=2))
    return path


def parked_keys(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    keys = []
    for path in sorted(folder.iterdir()):
        try:
            keys.append(str(json.loads(path.read_text())["key"]))
        except (OSError, ValueError, KeyError):
            continue  # not one of our records
    return keys


def release(folder: Path, key: str) -> None:
    """Forget a parked event once it has been processed."""
    (folder / record_name(key)).unlink(missing_ok=True)
