"""Recorded ElevenLabs payloads under ``fixtures/elevenlabs/``, loaded by name.

Used by the tests, the load tests and ``agentic-memory send``. The payloads are data files of the
repository, not of any package: they are found in the ``fixtures/`` folder beside ``devtools/`` in the
checkout this package is installed from (``pip install -e``, as ``make install`` does), or else
under the current directory. ``FileNotFoundError`` names what is missing.
"""

import json
from pathlib import Path
from typing import Any

# devtools/ and fixtures/ are siblings at the repository root.
_CHECKOUT_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "elevenlabs"


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
