"""Signing and sending a recorded ElevenLabs payload, as ``stripe trigger`` does for Stripe."""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import fixture_path

from .dev_keys import first_key

ROUTES = {"client-data", "retrieve", "post-call"}


def load_payload(name_or_path: str) -> Any:
    path = Path(name_or_path)
    if not path.is_file():
        path = fixture_path(name_or_path)
    return json.loads(path.read_bytes())


def route_of(payload: Any) -> str:
    if isinstance(payload, dict) and str(payload.get("type", "")).startswith(
        ("post_call_", "call_initiation")
    ):
        return "post-call"
    if isinstance(payload, dict) and ("query" in payload or "query_string" in payload):
        return "retrieve"
    return "client-data"


def rewrite(payload: Any, caller: str | None, conversation_id: str | None, old_caller: str | None) -> Any:
    """Replace the caller's number and the conversation id everywhere, to replay as another call.

    Also inside strings that embed them (tool-call parameters are JSON inside a string). Both values
    are JSON-safe ids, so a plain text replacement cannot break the document.
    """
    text = json.dumps(payload)
    if caller and old_caller:
        text = text.replace(old_caller, _json_safe(caller))
    old_conversation = _find(payload, "conversation_id")
    if conversation_id and old_conversation:
        text = text.replace(old_conversation, _json_safe(conversation_id))
    return json.loads(text)


def _json_safe(value: str) -> str:
    return json.dumps(value)[1:-1]


def build_request(
    payload: Any, route: str, base_url: str, keys: dict[str, str | None]
) -> urllib.request.Request:
    url = base_url.rstrip("/")
    if not url.endswith("/" + route):
        url = f"{url}/{route}"
    headers = {"Content-Type": "application/json", "User-Agent": "agentic-memory-send"}
    if route == "retrieve" and isinstance(payload, dict) and "query_string" in payload:
        if keys.get("tool"):
            headers["X-Tool-Key"] = str(keys["tool"])
        return urllib.request.Request(
            f"{url}?{urlencode(payload['query_string'])}", headers=headers, method="GET"
        )
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    if route == "post-call":
        if not keys.get("hmac"):
            raise SystemExit("no HMAC key: pass --hmac-key or set ELEVENLABS_HMAC_KEY")
        headers[HEADER] = sign(body, str(keys["hmac"]), int(time.time()))
    elif route == "client-data" and keys.get("workspace"):
        headers[str(keys.get("workspace_header") or "X-Workspace-Key")] = str(keys["workspace"])
    elif route == "retrieve" and keys.get("tool"):
        headers["X-Tool-Key"] = str(keys["tool"])
    return urllib.request.Request(url, data=body, headers=headers, method="POST")


def send(request: urllib.request.Request, timeout: float = 30) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL given by the user)
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", errors="replace")


def default_url(environ: Mapping[str, str]) -> str:
    """Where ``send`` goes without ``--url``: ``AGENTIC_MEMORY_URL`` (a deployed stack's API, say), else
    the local runtime on ``PORT`` as ``make run`` starts it."""
    return environ.get("AGENTIC_MEMORY_URL") or f"http://127.0.0.1:{environ.get('PORT') or 8080}"


def keys_from_environment(environ: Mapping[str, str], home: Path) -> dict[str, str | None]:
    """The keys a client presents: the environment's first values, else the local runtime's dev keys."""
    return {
        "hmac": first_key(environ, home, "ELEVENLABS_HMAC_KEY"),
        "workspace": first_key(environ, home, "ELEVENLABS_WORKSPACE_KEY"),
        "tool": first_key(environ, home, "ELEVENLABS_TOOL_KEY"),
        "workspace_header": environ.get("WORKSPACE_KEY_HEADER"),
    }


def send_from_cli(args: argparse.Namespace) -> int:
    home = Path(os.environ.get("AGENTIC_MEMORY_HOME", ".agentic-memory"))
    try:
        payload = load_payload(args.payload)
    except FileNotFoundError as error:
        print(f"agentic-memory send: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # a file that is not JSON (UnicodeDecodeError and JSONDecodeError)
        print(f"agentic-memory send: {args.payload} is not a JSON payload: {error}", file=sys.stderr)
        return 2
    route = args.route or route_of(payload)
    old_caller = caller_in(payload)
    payload = rewrite(payload, args.caller, args.conversation_id, old_caller)
    keys = keys_from_environment(os.environ, home)
    given = {"hmac": args.hmac_key, "workspace": args.workspace_key, "tool": args.tool_key}
    keys.update({name: value for name, value in given.items() if value})
    key_for_route = {"post-call": "hmac", "client-data": "workspace", "retrieve": "tool"}.get(route)
    if route == "post-call" and not keys["hmac"]:
        print(f"agentic-memory send: no HMAC key {_where_keys_are_looked_for(home)}", file=sys.stderr)
        return 2
    request = build_request(payload, route, args.url or default_url(os.environ), keys)
    try:
        status, body = send(request)
    except urllib.error.URLError as error:
        print(f"agentic-memory send: cannot reach {request.full_url}: {error.reason}", file=sys.stderr)
        return 2
    print(f"{request.get_method()} {request.full_url} -> {status}")
    try:
        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    except json.JSONDecodeError:
        print(body)
    if status == 401 and key_for_route and not keys.get(key_for_route):
        print(
            f"agentic-memory send: sent without a key; none {_where_keys_are_looked_for(home)}",
            file=sys.stderr,
        )
    return 0 if 200 <= status < 300 else 1


def _where_keys_are_looked_for(home: Path) -> str:
    # A runtime started with another AGENTIC_MEMORY_HOME keeps its generated keys there, not here.
    return (
        f"was found in the environment or in {home / 'dev-keys.json'}: pass the --*-key options, or run "
        "send with the AGENTIC_MEMORY_HOME (and PORT) the runtime was started with"
    )


def caller_in(payload: Any) -> str | None:
    """The caller's number or id as the payload names it (what ``rewrite`` replaces)."""
    return _find(payload, "external_number") or _find(payload, "user_id") or _find(payload, "caller_id")


def _find(value: Any, name: str) -> str | None:
    if isinstance(value, dict):
        found = value.get(name)
        if isinstance(found, str) and found:
            return found
        for child in value.values():
            nested = _find(child, name)
            if nested:
                return nested
    elif isinstance(value, list):
        for child in value:
            nested = _find(child, name)
            if nested:
                return nested
    return None


_caller_in = caller_in  # its earlier, private name
