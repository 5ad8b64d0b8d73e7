"""What each emulated Mem0 Platform endpoint does, over the memories kept in memory (``EmulatorState``).

Endpoints and bodies as ``mem0ai`` 2.x sends them, and the documented behaviour
(``docs/mem0-platform.md``, request and response shapes): ``Authorization: Token <key>`` is checked by
the server; ``infer: false`` stores only ``user`` messages, verbatim, and answers the stored memories;
``infer: true`` (the default) answers ``{"event_id", "status": "PENDING"}`` and the extracted memories
appear afterwards (at once, or after ``extraction_seconds``; ``settle()`` runs whatever is still
pending), each carrying the add's metadata. A filter naming only ``user_id`` matches memories whose
agent, app and run are null; entity ids at the top level of search and list are a 400. Search honours
``top_k`` (default 10, 1 to 1000) and ``threshold`` (default 0.1); the list endpoint pages as Django
REST does (``page_size`` default 100, at most 200). The state also keeps the request log and draws each
request's fault and latency.
"""

from __future__ import annotations

import dataclasses
import math
import random
import socket
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from devtools.mem0_emulator.behaviour import Behaviour
from devtools.mem0_emulator.extraction import extracted_facts, normalised
from devtools.mem0_emulator.query import ApiError, entities_named, int_or, lexical_score, matches
from devtools.mem0_emulator.records import ENTITY_FIELDS, AddEvent, RecordedRequest, StoredMemory

_REQUEST_LOG_SIZE = 10_000


class EmulatorState:
    """Memories, the request log and the behaviour, shared by the server's threads."""

    def __init__(
        self, api_keys: Iterable[str], behaviour: Behaviour, seed: int, org_id: str, project_id: str
    ) -> None:
        self.api_keys = frozenset(api_keys)
        self.start_behaviour = behaviour
        self.behaviour = behaviour
        self.org_id = org_id
        self.project_id = project_id
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.memories: dict[str, StoredMemory] = {}
        self.log: deque[RecordedRequest] = deque(maxlen=_REQUEST_LOG_SIZE)
        self.sequence = 0
        self.connections_accepted = 0
        self.open_connections: set[socket.socket] = set()
        self.stopping = threading.Event()
        self._last_created = datetime.min.replace(tzinfo=UTC)
        self.events: dict[str, AddEvent] = {}

    # -- bookkeeping ---------------------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> RecordedRequest:
        with self.lock:
            self.sequence += 1
            request.seq = self.sequence
            self.log.append(request)
        return request

    def draw_fault(self, operation: str) -> str | None:
        """The fault this request gets: a scripted one first, then the configured rates."""
        with self.lock:
            behaviour = self.behaviour
            if behaviour.fault_operations is not None and operation not in behaviour.fault_operations:
                return None
            if behaviour.next_faults:
                fault, *rest = behaviour.next_faults
                self.behaviour = dataclasses.replace(behaviour, next_faults=tuple(rest))
                return None if fault == "ok" else fault
            draw = self.rng.random()
        for fault, rate in (
            ("error", behaviour.error_rate),
            ("rate_limit", behaviour.rate_limit_rate),
            (behaviour.malformed, behaviour.malformed_rate),
        ):
            if draw < rate:
                return fault
            draw -= rate
        return None

    def delay_for(self, operation: str) -> float:
        with self.lock:
            return self.behaviour.latency_of(operation).sample(self.rng)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def now(self) -> str:
        """A creation time strictly after the previous one, so that order is never a tie."""
        moment = max(datetime.now(UTC), self._last_created + timedelta(microseconds=1))
        self._last_created = moment
        return moment.isoformat()

    # -- endpoints -----------------------------------------------------------------------------------

    def ping(self) -> dict[str, Any]:
        return {"status": "ok", "org_id": self.org_id, "project_id": self.project_id, "user_email": None}

    def add(self, body: Any) -> dict[str, Any]:
        body = _object(body)
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise ApiError(400, "messages must be a list of {role, content} objects")
        filters = body.get("filters") if isinstance(body.get("filters"), dict) else {}
        entities = {name: _text_or_none(body.get(name) or filters.get(name)) for name in ENTITY_FIELDS}
        if not any(entities.values()):
            raise ApiError(400, "At least one of user_id, agent_id, app_id or run_id is required.")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ApiError(400, "metadata must be an object")
        if body.get("infer", True) is not False:
            return self._accept_inferred(messages, entities, metadata)
        # Direct import keeps user messages only.
        texts = [
            m["content"] for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)
        ]
        with self.lock:
            added = [self._store(text, entities, metadata) for text in texts if text.strip()]
        return {
            "message": "Memories added successfully.",
            "results": [{"id": m.id, "data": {"memory": m.memory}, "event": "ADD"} for m in added],
        }

    def event(self, event_id: str) -> dict[str, Any]:
        with self.lock:
            event = self.events.get(event_id)
            if event is None:
                raise ApiError(404, "Event not found.")
            return event.as_reported()

    def settle(self) -> int:
        """Run every extraction still pending now; return how many there were."""
        with self.lock:
            pending = [event for event in self.events.values() if event.status == "PENDING"]
        for event in pending:
            self.extract(event)
        return len(pending)

    def extract(self, event: AddEvent) -> None:
        with self.lock:
            if event.status != "PENDING":
                return
            known = {normalised(m.memory) for m in self.memories.values() if m.user_id == event.user_id}
            for text in extracted_facts(event.messages, known):
                memory = self._store(text, event.entities, event.metadata)
                event.results.append({"id": memory.id, "data": {"memory": memory.memory}, "event": "ADD"})
            event.status = "SUCCEEDED"

    def _accept_inferred(
        self, messages: list[dict[str, Any]], entities: dict[str, str | None], metadata: dict[str, Any]
    ) -> dict[str, Any]:
        with self.lock:
            event = AddEvent(
                id=self.new_id(), entities=entities, metadata=dict(metadata), messages=list(messages)
            )
            self.events[event.id] = event
            delay = self.behaviour.extraction_seconds
        if delay > 0:
            timer = threading.Timer(delay, self.extract, args=(event,))
            timer.daemon = True
            timer.start()
        else:
            self.extract(event)
        return {"event_id": event.id, "status": "PENDING"}

    def _store(
        self, text: str, entities: Mapping[str, str | None], metadata: Mapping[str, Any]
    ) -> StoredMemory:
        """Store one memory (the caller holds the lock)."""
        created = self.now()
        memory = StoredMemory(
            id=self.new_id(),
            memory=text,
            user_id=entities["user_id"],
            agent_id=entities["agent_id"],
            app_id=entities["app_id"],
            run_id=entities["run_id"],
            metadata=dict(metadata),
            created_at=created,
            updated_at=created,
        )
        self.memories[memory.id] = memory
        return memory

    def search(self, body: Any) -> dict[str, Any]:
        body = _object(body)
        _refuse_top_level_entities(body, "search")
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ApiError(400, "query is required")
        top_k = body.get("top_k", 10)
        threshold = body.get("threshold", 0.1)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= 1000:
            raise ApiError(400, "top_k must be an integer between 1 and 1000")
        if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise ApiError(400, "threshold must be between 0 and 1")
        scored = [(lexical_score(query, m.memory), m) for m in self._selected(body.get("filters"))]
        hits = sorted(
            ((score, m) for score, m in scored if score > 0 and score >= threshold),
            key=lambda hit: (hit[0], hit[1].created_at),
            reverse=True,
        )
        return {"results": [m.as_found(score) for score, m in hits[:top_k]]}

    def list_memories(self, body: Any, query: Mapping[str, list[str]], origin: str) -> dict[str, Any]:
        body = _object(body)
        _refuse_top_level_entities(body, "get_all")
        selected = sorted(self._selected(body.get("filters")), key=lambda m: m.created_at, reverse=True)
        page_size = int_or(query.get("page_size"), 100)
        page_size = 100 if page_size < 1 else min(page_size, 200)  # as Django REST: clamp, never fail
        page = int_or(query.get("page"), 1)
        pages = max(math.ceil(len(selected) / page_size), 1)
        if not 1 <= page <= pages:
            raise ApiError(404, "Invalid page.")

        def link(number: int) -> str | None:
            if not 1 <= number <= pages or number == page:
                return None
            params = {key: values[-1] for key, values in query.items()}
            params["page"] = str(number)
            return f"{origin}/v3/memories/?{urlencode(params)}"

        return {
            "count": len(selected),
            "next": link(page + 1),
            "previous": link(page - 1),
            "results": [m.as_listed() for m in selected[(page - 1) * page_size : page * page_size]],
        }

    def delete_all(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        wanted = {name: query[name][-1] for name in ENTITY_FIELDS if query.get(name)}
        if not wanted:
            raise ApiError(400, "At least one filter is required to delete all memories.")
        with self.lock:
            for memory in [
                m for m in self.memories.values() if all(m.entity(k) == v for k, v in wanted.items())
            ]:
                del self.memories[memory.id]
        return {"message": "Memories deleted successfully!"}

    def get(self, memory_id: str) -> dict[str, Any]:
        memory = self.memories.get(memory_id)
        if memory is None:
            raise ApiError(404, "Memory not found.")
        return memory.as_listed()

    def delete(self, memory_id: str) -> dict[str, Any]:
        with self.lock:
            if self.memories.pop(memory_id, None) is None:
                raise ApiError(404, "Memory not found.")
        return {"message": "Memory deleted successfully!"}

    def update(self, memory_id: str, body: Any) -> dict[str, Any]:
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ApiError(
                400, "At least one of text, metadata, timestamp, or expiration_date must be provided."
            )
        with self.lock:
            memory = self.memories.get(memory_id)
            if memory is None:
                raise ApiError(404, "Memory not found.")
            memory.memory = text
            memory.updated_at = datetime.now(UTC).isoformat()
        return memory.as_listed()

    def entities(self) -> dict[str, Any]:
        counts: dict[tuple[str, str], int] = {}
        for memory in list(self.memories.values()):
            for name in ENTITY_FIELDS:
                value = memory.entity(name)
                if value:
                    key = (name.removesuffix("_id"), value)
                    counts[key] = counts.get(key, 0) + 1
        results = [
            {"id": value, "name": value, "type": kind, "total_memories": count}
            for (kind, value), count in sorted(counts.items())
        ]
        return {"count": len(results), "results": results}

    def delete_entity(self, kind: str, name: str) -> dict[str, Any]:
        if kind not in ("user", "agent", "app", "run"):
            raise ApiError(400, "Entity type must be user, agent, app or run.")
        with self.lock:
            doomed = [m.id for m in self.memories.values() if m.entity(f"{kind}_id") == name]
            if not doomed:
                raise ApiError(404, "Entity not found.")
            for memory_id in doomed:
                del self.memories[memory_id]
        return {"message": "Entity deleted successfully."}

    def _selected(self, filters: Any) -> list[StoredMemory]:
        if not isinstance(filters, dict) or not filters:
            raise ApiError(400, "filters is required, with at least one of user_id, agent_id, app_id, run_id")
        named = entities_named(filters)
        if not named:
            raise ApiError(400, "filters must name at least one of user_id, agent_id, app_id, run_id")
        # Implicit null scoping: entities the filter does not name must be null.
        unnamed = [name for name in ENTITY_FIELDS if name not in named]
        return [
            m
            for m in list(self.memories.values())
            if all(m.entity(name) is None for name in unnamed) and matches(m, filters)
        ]


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _refuse_top_level_entities(body: dict[str, Any], method: str) -> None:
    misplaced = sorted(name for name in ENTITY_FIELDS if name in body)
    if misplaced:
        raise ApiError(
            400, f"Top-level entity parameters {misplaced} are not supported in {method}(); use filters"
        )


def _text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
