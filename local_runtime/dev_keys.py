"""Keys for a local runtime: the environment's when set, otherwise generated once and kept in
``$AGENTIC_MEMORY_HOME/dev-keys.json`` (mode 0600) so they survive restarts."""

import json
import os
import secrets
from collections.abc import Mapping, MutableMapping
from pathlib import Path

# CONSOLE_KEY guards the operator's console at /console.
KEY_VARIABLES = ("ELEVENLABS_WORKSPACE_KEY", "ELEVENLABS_HMAC_KEY", "CONSOLE_KEY")
_PREFIXES = {"ELEVENLABS_WORKSPACE_KEY": "wsk", "ELEVENLABS_HMAC_KEY": "whsec", "CONSOLE_KEY": "csk"}


def dev_keys_path(home: Path) -> Path:
    return home / "dev-keys.json"


def ensure_dev_keys(environ: MutableMapping[str, str], home: Path) -> list[str]:
    """Fill in missing keys in ``environ``; return the names of the keys that were generated."""
    missing = [name for name in KEY_VARIABLES if not environ.get(name)]
    if not missing:
        return []
    stored = load_dev_keys(home)
    for name in missing:
        if name not in stored:
            stored[name] = f"{_PREFIXES[name]}_dev_{secrets.token_hex(20)}"
    _store(home, stored)
    for name in missing:
        environ[name] = stored[name]
    return missing


def ensure_dev_key(home: Path, name: str, prefix: str) -> str:
    """The dev key ``name`` kept in ``dev-keys.json``, generated (``{prefix}_dev_…``) the first time."""
    stored = load_dev_keys(home)
    if name not in stored:
        stored[name] = f"{prefix}_dev_{secrets.token_hex(20)}"
        _store(home, stored)
    return stored[name]


def _store(home: Path, keys: dict[str, str]) -> None:
    path = dev_keys_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(keys, file, indent=2)


def load_dev_keys(home: Path) -> dict[str, str]:
    path = dev_keys_path(home)
    if not path.is_file():
        return {}
    loaded = json.loads(path.read_text())
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}


def first_key(environ: Mapping[str, str], home: Path, name: str) -> str | None:
    """The key a client should present: the environment's first value, else the stored dev key."""
    value = environ.get(name) or load_dev_keys(home).get(name)
    return value.split(",")[0].strip() if value else None
