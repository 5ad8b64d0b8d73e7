"""Mem0 Platform's v3 wire format ↔ the ports' types: request bodies and the parsing of answers.

Pure functions, no I/O. Where the Platform differs from the port (roles, agent id), see the package doc.
A malformed answer raises ``Mem0PlatformError`` of kind ``bad_response``.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from ...ports import ChatMessage, InferredAdd, MemoryRecord
from .errors import bad_response

ADD_PATH = "/v3/memories/add/"
SEARCH_PATH = "/v3/memories/search/"
LIST_PATH = "/v3/memories/"
DELETE_ALL_PATH = "/v1/memories/"

# Metadata keys the Platform treats as its own, and the names they travel under.
WIRE_NAMES = {"agent_id": "elevenlabs_agent_id", "role": "message_role"}
_PORT_NAMES = {wire: ours for ours, wire in WIRE_NAMES.items()}


# -- requests -------------------------------------------------------------------------------------------


def contents_by_role(messages: Sequence[ChatMessage]) -> dict[str, list[str]]:
    """Message contents grouped by role, in the order each role first speaks; each keeps its order."""
    groups: dict[str, list[str]] = {}
    for message in messages:
        groups.setdefault(message.role, []).append(message.content)
    return groups


def verbatim_add(
    user_id: str, role: str, contents: Sequence[str], metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """One role's messages, stored as they are: every one sent as ``user``, its role in metadata."""
    wire_metadata = {WIRE_NAMES.get(key, key): value for key, value in metadata.items() if key != "role"}
    wire_metadata[WIRE_NAMES["role"]] = role
    return {
        "messages": [{"role": "user", "content": content} for content in contents],
        "user_id": user_id,
        "metadata": wire_metadata,
        "infer": False,
    }


def inferred_add(
    user_id: str, messages: Sequence[ChatMessage], metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """The conversation as it was, for Mem0 to extract facts from."""
    return {
        "messages": [{"role": message.role, "content": message.content} for message in messages],
        "user_id": user_id,
        "metadata": {WIRE_NAMES.get(key, key): value for key, value in metadata.items()},
        "infer": True,
    }


def search(user_id: str, query: str, limit: int) -> dict[str, Any]:
    # ``top_k``, not ``limit`` (which the Platform ignores); rerank stays off: it adds 150-400 ms.
    return {"query": query, "filters": {"user_id": user_id}, "top_k": min(limit, 1000), "rerank": False}


def listing(user_id: str) -> dict[str, Any]:
    return {"filters": {"user_id": user_id}}


def memory_path(memory_id: str) -> str:
    return f"/v1/memories/{quote(memory_id, safe='')}/"


def json_bytes(body: Any) -> bytes:
    # As httpx serialises ``json=`` (what mem0ai sends): compact, UTF-8, no NaN.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


# -- answers --------------------------------------------------------------------------------------------


def results(answer: Any, operation: str) -> list[dict[str, Any]]:
    items = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise bad_response(operation, "no list of results in the answer")
    return items


def records(answer: Any, operation: str) -> list[MemoryRecord]:
    return [record_from(item, operation) for item in results(answer, operation)]


def record_from(item: dict[str, Any], operation: str) -> MemoryRecord:
    memory_id, text, metadata = item.get("id"), item.get("memory"), item.get("metadata") or {}
    if not isinstance(memory_id, (str, int)) or not isinstance(text, str) or not isinstance(metadata, dict):
        raise bad_response(operation, "a result lacks id, memory or metadata")
    score = item.get("score")
    created_at = item.get("created_at")
    return MemoryRecord(
        id=str(memory_id),
        text=text,
        metadata=_port_metadata(metadata),
        created_at=created_at if isinstance(created_at, str) else None,
        score=float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
    )


def _port_metadata(wire: Mapping[str, Any]) -> dict[str, Any]:
    return {_PORT_NAMES.get(key, key): value for key, value in wire.items()}


def ids_added(answer: Any, operation: str) -> list[str]:
    # With ``infer: false`` the Platform answers the stored memories; an answer without results (an
    # accepted event) means nothing to report, not a failure.
    if not isinstance(answer, dict):
        raise bad_response(operation, "the answer is not an object")
    items = answer.get("results") or []
    if not isinstance(items, list):
        raise bad_response(operation, "results is not a list")
    return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id") is not None]


def inferred_added(answer: Any, operation: str) -> InferredAdd:
    event_id = answer.get("event_id") if isinstance(answer, dict) else None
    return InferredAdd(
        ids=tuple(ids_added(answer, operation)),
        event_id=str(event_id) if isinstance(event_id, (str, int)) and event_id != "" else None,
    )


def next_page(answer: Any, page: int, operation: str) -> int | None:
    """The page the answer's ``next`` points at. Only its number is used: the token never follows a URL
    we were sent."""
    next_url = answer.get("next") if isinstance(answer, dict) else None
    if not next_url:
        return None
    if not isinstance(next_url, str):
        raise bad_response(operation, "next is not a URL")
    numbers = parse_qs(urlsplit(next_url).query).get("page", [])
    following = int(numbers[0]) if numbers and numbers[0].isdigit() else page + 1
    if following <= page:
        raise bad_response(operation, "pagination does not advance")
    return following


def creation_order(record: MemoryRecord) -> tuple[float, str]:
    stamp = record.created_at or ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return (0.0, stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment.timestamp(), stamp)


def detail_of(raw: bytes) -> str:
    """What an error answer says, in at most 300 characters."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:300] or "(empty body)"
    if isinstance(parsed, dict):
        for key in ("detail", "error", "message"):
            if parsed.get(key):
                return str(parsed[key])[:300]
    return text[:300]


def seconds_from_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
