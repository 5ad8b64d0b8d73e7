"""Recorded ElevenLabs payloads under ``fixtures/elevenlabs/``, loaded by name.

Used by the tests, the load tests and ``agentic-memory send``. The folder is found next to the
checkout (editable install) or under the current directory.
"""

import json
from pathlib import Path
from typing import Any

_CHECKOUT_FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "elevenlabs"


def fixtures_dir() -> Path:
    for candidate in (_CHECKOUT_FIXTURES, Path.cwd() / "fixtures" / "elevenlabs"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("fixtures/elevenlabs/ not found: run from the repository checkout")


def fixture_names() -> list[str]:
    return sorted(p.stem for p in fixtures_dir().glob("*.json"))


def fixture_path(name: str) -> Path:
    path = fixtures_dir() / f"{name.removesuffix('.json')}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no fixture named {name!r}; known: {', '.join(fixture_names())}")
    return path


def fixture_bytes(name: str) -> bytes:
    return fixture_path(name).read_bytes()


def load_fixture(name: str) -> Any:
    return json.loads(fixture_bytes(name))
