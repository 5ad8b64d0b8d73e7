"""What the emulator records and stores: requests as received, memories, and adds with inference.

The shapes a memory is answered in follow Mem0's v3 API reference (``docs/mem0-platform.md``, response
shapes): the list endpoint names the run ``session_id``, search names it ``run_id`` and adds a
``score``; an add with inference is an event, ``PENDING`` until its extraction ran (``GET
/v1/event/{id}/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENTITY_FIELDS = ("user_id", "agent_id", "app_id", "run_id")


@dataclass
class RecordedRequest:
    """One request as the emulator received it (admin requests are not recorded)."""

    seq: int
    connection: int
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    operation: str
    fault: str | None = None
    status: int | None = None
    # The latency injected into this request: lets a benchmark subtract Mem0's time from its own.
    delay_seconds: float = 0.0

    def to_json(self, reveal_token: bool = False) -> dict[str, Any]:
        headers = dict(self.headers)
        if not reveal_token:
            headers = {k: ("Token ****" if k.lower() == "authorization" else v) for k, v in headers.items()}
        return {
            "seq": self.seq,
            "connection": self.connection,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": headers,
            "body": self.body,
            "operation": self.operation,
            "fault": self.fault,
            "status": self.status,
            "delay_seconds": self.delay_seconds,
        }


@dataclass
class StoredMemory:
    id: str
    memory: str
    user_id: str | None
    agent_id: str | None
    app_id: str | None
    run_id: str | None
    metadata: dict[str, Any]
    created_at: str
    updated_at: str

    def entity(self, name: str) -> str | None:
        return getattr(self, name) if name in ENTITY_FIELDS else None

    def as_listed(self) -> dict[str, Any]:
        # v3 quirk kept: the list endpoint names the run ``session_id``.
        return {
            "id": self.id,
            "memory": self.memory,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "app_id": self.app_id,
            "session_id": self.run_id,
            "metadata": self.metadata,
            "categories": [],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expiration_date": None,
        }

    def as_found(self, score: float) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": self.id,
            "memory": self.memory,
            "user_id": self.user_id,
            "metadata": self.metadata,
            "score": score,
            "categories": [],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expiration_date": None,
        }
        found.update(
            {name: self.entity(name) for name in ("agent_id", "app_id", "run_id") if self.entity(name)}
        )
        return found


@dataclass
class AddEvent:
    """An add with inference: ``PENDING`` until its extraction ran, then ``SUCCEEDED``."""

    id: str
    entities: dict[str, str | None]
    metadata: dict[str, Any]
    messages: list[dict[str, Any]]
    status: str = "PENDING"
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def user_id(self) -> str | None:
        return self.entities.get("user_id")

    def as_reported(self) -> dict[str, Any]:
        return {"id": self.id, "event_type": "ADD", "status": self.status, "results": list(self.results)}
