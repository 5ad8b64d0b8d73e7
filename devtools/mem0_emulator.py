"""A Mem0 Platform stand-in on loopback, for tests, ``make run`` (opt-in) and the load tests.

A real HTTP/1.1 server (keep-alive, Nagle off) speaking the endpoints and JSON shapes ``mem0ai`` 2.x
uses (``reference/mem0.md`` §3): ``GET /v1/ping/``; ``POST /v3/memories/add/``, ``/v3/memories/search/``
and ``/v3/memories/`` (paginated ``{count, next, previous, results}``); ``DELETE /v1/memories/`` with
entity query parameters; ``GET|DELETE /v1/memories/{id}/``; ``GET /v1/entities/`` and
``DELETE /v2/entities/{type}/{name}/``. Memories live in memory. It behaves as the Platform documents:
``Authorization: Token <key>`` is required (401 otherwise); ``infer: false`` stores only ``user``
messages, verbatim, and answers the stored memories; ``infer: true`` (the default) answers
``{"event_id", "status": "PENDING"}`` and the extracted memories appear afterwards (at once, or after
``extraction_seconds``; ``settle()`` runs whatever is still pending), each carrying the add's
metadata, and ``GET /v1/event/{id}/`` reports the event. The extraction is a deterministic stand-in
for Mem0's LLM, not a model of it (see ``extracted_facts``). A filter naming only ``user_id`` matches
memories whose agent, app and run are null; entity ids at the top level of search and list are a
400. Search scores by shared words (deterministic, in [0, 1]) and honours ``top_k`` and ``threshold``
(default 0.1).

Injectable behaviour, at start and at run time: latency (zero, fixed, or lognormal from a p50 and a
p95; per operation), 5xx and 429 rates (with ``Retry-After``), malformed answers, scripted faults for
the next requests, and outages (``refuse``: nothing listens; ``reset``: connections are reset).

Python: ``start_emulator(port=0, profile="published", api_keys=[key])`` returns a handle with ``url``,
``configure(...)``, ``requests()``, ``memories()``, ``reset()`` and ``stop()``.
CLI: ``python -m devtools.mem0_emulator --port 0 --profile published|none|slow``.
Admin (no auth, loopback only): ``GET|POST /_emulator/config``, ``GET|DELETE /_emulator/requests``,
``GET /_emulator/memories``, ``GET /_emulator/stats``, ``POST /_emulator/settle``, ``POST /_emulator/reset``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import random
import re
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

OPERATIONS = (
    "ping",
    "add",
    "event",
    "search",
    "list",
    "get",
    "delete",
    "delete_all",
    "entities",
    "delete_entity",
)
ENTITY_FIELDS = ("user_id", "agent_id", "app_id", "run_id")
FAULTS = ("ok", "error", "rate_limit", "not_json", "wrong_shape", "reset")
OUTAGES = ("refuse", "reset")
LatencyKind = Literal["zero", "fixed", "lognormal"]
_Z95 = 1.6448536269514722  # the standard normal's 95th percentile
_REQUEST_LOG_SIZE = 10_000


# -- behaviour ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """How long the emulator waits before answering: nothing, a fixed time, or a lognormal draw."""

    kind: LatencyKind = "zero"
    seconds: float = 0.0
    p50: float = 0.0
    p95: float = 0.0

    @classmethod
    def fixed(cls, seconds: float) -> Latency:
        return cls(kind="fixed", seconds=seconds) if seconds > 0 else cls()

    @classmethod
    def lognormal(cls, p50: float, p95: float) -> Latency:
        if not 0 < p50 <= p95:
            raise ValueError("a lognormal latency needs 0 < p50 <= p95")
        return cls(kind="lognormal", p50=p50, p95=p95)

    @classmethod
    def parse(cls, spec: Any) -> Latency:
        """``None``/``"zero"``, a number of seconds, or ``{"kind", "seconds"|"p50"+"p95"}``."""
        if isinstance(spec, Latency):
            return spec
        if spec is None or spec == "zero":
            return cls()
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return cls.fixed(float(spec))
        if isinstance(spec, Mapping):
            kind = spec.get("kind", "fixed")
            if kind == "lognormal":
                return cls.lognormal(float(spec["p50"]), float(spec["p95"]))
            if kind == "fixed":
                return cls.fixed(float(spec.get("seconds", 0)))
            if kind == "zero":
                return cls()
        raise ValueError(f"not a latency: {spec!r}")

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.seconds
        if self.kind == "lognormal":
            sigma = math.log(self.p95 / self.p50) / _Z95
            # Capped so that one unlucky draw cannot stall a load test.
            return min(rng.lognormvariate(math.log(self.p50), sigma), self.p95 * 10)
        return 0.0


PUBLISHED_SEARCH_LATENCY = Latency.lognormal(0.148, 0.200)  # Mem0 paper, Table 2 (reference/mem0.md §6)
PROFILES: dict[str, Latency] = {
    "none": Latency(),
    # Only search latency is published; every endpoint gets it, for want of better figures.
    "published": PUBLISHED_SEARCH_LATENCY,
    "slow": Latency.fixed(2.0),
}


@dataclass(frozen=True)
class Behaviour:
    """Latency and faults. Rates are probabilities per request; ``next_faults`` are used up first, one
    per request (of ``fault_operations``, when set)."""

    latency: Latency = Latency()
    latency_by_operation: Mapping[str, Latency] = field(default_factory=dict)
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    retry_after_seconds: int = 1
    malformed_rate: float = 0.0
    malformed: Literal["not_json", "wrong_shape"] = "not_json"
    outage: Literal["refuse", "reset"] | None = None
    fault_operations: frozenset[str] | None = None
    next_faults: tuple[str, ...] = ()
    # How long an inferred add stays PENDING before its memories appear (0: they appear at once).
    extraction_seconds: float = 0.0

    def latency_of(self, operation: str) -> Latency:
        return self.latency_by_operation.get(operation, self.latency)

    def changed(self, changes: Mapping[str, Any]) -> Behaviour:
        """A copy with ``changes`` applied (the admin endpoint's JSON or ``configure``'s keywords)."""
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "profile":
                values["latency"] = PROFILES[str(value)]
                values["latency_by_operation"] = {}
            elif key == "latency":
                values[key] = Latency.parse(value)
            elif key == "latency_by_operation":
                values[key] = {_operation(op): Latency.parse(spec) for op, spec in dict(value or {}).items()}
            elif key in ("error_rate", "rate_limit_rate", "malformed_rate"):
                values[key] = _probability(value, key)
            elif key in ("error_status", "retry_after_seconds"):
                values[key] = int(value)
            elif key == "malformed":
                values[key] = _one_of(value, ("not_json", "wrong_shape"), key)
            elif key == "outage":
                values[key] = None if value is None else _one_of(value, OUTAGES, key)
            elif key == "fault_operations":
                values[key] = None if value is None else frozenset(_operation(op) for op in value)
            elif key == "extraction_seconds":
                values[key] = max(float(value), 0.0)
            elif key == "next_faults":
                values[key] = tuple(_one_of(fault, FAULTS, key) for fault in value)
            else:
                raise ValueError(f"unknown setting {key!r}")
        if not 500 <= values.get("error_status", self.error_status) <= 599:
            raise ValueError("error_status must be a 5xx")
        return dataclasses.replace(self, **values)

    def to_json(self) -> dict[str, Any]:
        return {
            "latency": dataclasses.asdict(self.latency),
            "latency_by_operation": {
                op: dataclasses.asdict(lat) for op, lat in self.latency_by_operation.items()
            },
            "error_rate": self.error_rate,
            "error_status": self.error_status,
            "rate_limit_rate": self.rate_limit_rate,
            "retry_after_seconds": self.retry_after_seconds,
            "malformed_rate": self.malformed_rate,
            "malformed": self.malformed,
            "outage": self.outage,
            "fault_operations": None if self.fault_operations is None else sorted(self.fault_operations),
            "next_faults": list(self.next_faults),
            "extraction_seconds": self.extraction_seconds,
        }


def _operation(name: Any) -> str:
    return _one_of(name, OPERATIONS, "operation")


def _one_of(value: Any, allowed: Iterable[str], what: str) -> Any:
    if value not in tuple(allowed):
        raise ValueError(f"{what} must be one of {', '.join(allowed)}")
    return value


def _probability(value: Any, what: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{what} must be between 0 and 1")
    return number


# -- what the emulator records and stores -------------------------------------------------------------------


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


# At most this many facts per add: Mem0 keeps the few facts worth remembering from a conversation, not
# every sentence. The number is the stand-in's choice, not a figure Mem0 publishes.
MAX_FACTS_PER_ADD = 10
_FACT_MIN_WORDS = 4
_FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd", "i'll", "my", "me", "mine", "we", "our", "us"})
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def extracted_facts(messages: Iterable[Mapping[str, Any]], known: set[str]) -> list[str]:
    """What the emulator "extracts" from an add with inference: a deterministic stand-in for Mem0's LLM.

    Each sentence the *user* says in the first person ("I", "my", "we", ...) with at least four words
    is a fact, kept as said; the assistant's turns give none. A fact the user already has (same words,
    ignoring case and punctuation) is not added again, as Mem0 consolidates; at most
    ``MAX_FACTS_PER_ADD`` per add, in the order they were said.
    """
    facts: list[str] = []
    seen = set(known)
    for message in messages:
        content = message.get("content")
        if message.get("role") != "user" or not isinstance(content, str):
            continue
        for sentence in (part.strip() for part in _SENTENCE.findall(content)):
            words = re.findall(r"[a-z']+", sentence.lower())
            key = _normalised(sentence)
            if len(words) < _FACT_MIN_WORDS or not _FIRST_PERSON & set(words) or key in seen:
                continue
            seen.add(key)
            facts.append(sentence)
            if len(facts) == MAX_FACTS_PER_ADD:
                return facts
    return facts


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# -- the emulated API -----------------------------------------------------------------------------------


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
            known = {_normalised(m.memory) for m in self.memories.values() if m.user_id == event.user_id}
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
        page_size = _int_or(query.get("page_size"), 100)
        page_size = 100 if page_size < 1 else min(page_size, 200)  # as Django REST: clamp, never fail
        page = _int_or(query.get("page"), 1)
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
        named = _entities_named(filters)
        if not named:
            raise ApiError(400, "filters must name at least one of user_id, agent_id, app_id, run_id")
        # Implicit null scoping: entities the filter does not name must be null.
        unnamed = [name for name in ENTITY_FIELDS if name not in named]
        return [
            m
            for m in list(self.memories.values())
            if all(m.entity(name) is None for name in unnamed) and _matches(m, filters)
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


def _int_or(values: list[str] | None, default: int) -> int:
    try:
        return int(values[-1]) if values else default
    except ValueError:
        return default


def _entities_named(filters: Any) -> set[str]:
    if isinstance(filters, list):
        return set().union(*(_entities_named(f) for f in filters)) if filters else set()
    if not isinstance(filters, dict):
        return set()
    named = {key for key in filters if key in ENTITY_FIELDS}
    for key in ("AND", "OR", "NOT"):
        named |= _entities_named(filters.get(key))
    return named


def _matches(memory: StoredMemory, condition: Mapping[str, Any]) -> bool:
    """The v2/v3 filter language: field conditions (all must hold) and AND / OR / NOT lists."""
    for key, value in condition.items():
        if key in ("AND", "OR", "NOT"):
            if not isinstance(value, list) or not all(isinstance(part, Mapping) for part in value):
                raise ApiError(400, f"{key} takes a list of filters")
            parts = [_matches(memory, part) for part in value]
            if (
                key == "AND"
                and not all(parts)
                or key == "OR"
                and not any(parts)
                or key == "NOT"
                and any(parts)
            ):
                return False
        elif key == "metadata":
            if not isinstance(value, Mapping) or not all(
                _compare(memory.metadata.get(k), v) for k, v in value.items()
            ):
                return False
        elif not _compare(_field(memory, key), value):
            return False
    return True


def _field(memory: StoredMemory, key: str) -> Any:
    if key in ENTITY_FIELDS:
        return memory.entity(key)
    if key in ("created_at", "updated_at", "memory"):
        return getattr(memory, key)
    if key == "categories":
        return []
    return memory.metadata.get(key)


def _compare(actual: Any, expected: Any) -> bool:
    if expected == "*":
        return actual is not None
    if not isinstance(expected, Mapping):
        return bool(actual == expected)
    for operator, operand in expected.items():
        if operator == "in":
            ok = actual in operand if isinstance(operand, list) else False
        elif operator == "ne":
            ok = actual != operand
        elif operator in ("gt", "gte", "lt", "lte"):
            ok = actual is not None and _ordered(str(actual), operator, str(operand))
        elif operator == "contains":
            ok = actual is not None and str(operand) in (actual if isinstance(actual, list) else str(actual))
        elif operator == "icontains":
            ok = actual is not None and str(operand).lower() in str(actual).lower()
        else:
            raise ApiError(400, f"unknown filter operator {operator!r}")
        if not ok:
            return False
    return True


def _ordered(actual: str, operator: str, operand: str) -> bool:
    return {
        "gt": actual > operand,
        "gte": actual >= operand,
        "lt": actual < operand,
        "lte": actual <= operand,
    }[operator]


_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = frozenset(
    _WORD.findall(
        "a an and are as at be by can did do does for from had has have how i in is it its me my of on or "
        "our so that the their them they this to was we were what when where which who why will with you your"
    )
)


def _terms(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    meaningful = [w for w in words if w not in _STOP_WORDS] or words
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in meaningful}


def lexical_score(query: str, text: str) -> float:
    """The share of the query's meaningful words found in ``text``: deterministic, in [0, 1]."""
    wanted = _terms(query)
    if not wanted:
        return 0.0
    return round(len(wanted & _terms(text)) / len(wanted), 4)


_ROUTES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(r"/v1/ping/"), {"GET": "ping"}),
    (re.compile(r"/v3/memories/add/"), {"POST": "add"}),
    (re.compile(r"/v3/memories/search/"), {"POST": "search"}),
    (re.compile(r"/v3/memories/"), {"POST": "list"}),
    (re.compile(r"/v1/memories/"), {"DELETE": "delete_all"}),
    (re.compile(r"/v1/memories/([^/]+)/"), {"GET": "get", "DELETE": "delete"}),
    (re.compile(r"/v1/event/([^/]+)/"), {"GET": "event"}),
    (re.compile(r"/v1/entities/"), {"GET": "entities"}),
    (re.compile(r"/v2/entities/([^/]+)/([^/]+)/"), {"DELETE": "delete_entity"}),
]


def _route(method: str, path: str) -> tuple[str, tuple[str, ...]]:
    """The operation a request asks for and its path arguments; ``unknown`` or ``not_allowed`` else."""
    for pattern, methods in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            operation = methods.get(method)
            return (
                (operation, tuple(unquote(g) for g in match.groups())) if operation else ("not_allowed", ())
            )
    return "unknown", ()


# -- HTTP -------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], state: EmulatorState, admin: _Admin, tls: ssl.SSLContext | None
    ) -> None:
        self.state = state
        self.admin = admin
        self.scheme = "https" if tls else "http"
        super().__init__(address, _Handler)
        if tls is not None:
            # Handshakes happen in each connection's thread (see _Handler.setup), never in the accept loop.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that left, or failed its TLS handshake: routine for a test server
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the client's delayed ACK adds ~40 ms.
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is dropped after this, as servers do
    server_version = "mem0-emulator"
    sys_version = ""

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()
        state = self.server.state
        with state.lock:
            state.connections_accepted += 1
            self.connection_id = state.connections_accepted
            state.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.state.lock:
            self.server.state.open_connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the connection may have been reset on purpose
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request log is kept instead; stderr stays quiet under load

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _handle(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/_emulator/"):
            status, payload = self.server.admin.handle(self.command, url.path, parse_qs(url.query), raw)
            self._send(status, payload)
            return
        operation, arguments = _route(self.command, url.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = state.record(
            RecordedRequest(
                seq=0,
                connection=self.connection_id,
                method=self.command,
                path=url.path,
                query=url.query,
                headers=dict(self.headers.items()),
                body=body,
                raw_body=raw,
                operation=operation,
            )
        )
        fault = "reset" if state.behaviour.outage == "reset" else state.draw_fault(operation)
        request.fault = fault
        if fault == "reset":
            self._reset()
            return
        delay = state.delay_for(operation)
        request.delay_seconds = delay
        if delay and state.stopping.wait(delay):
            self._reset()
            return
        status, payload, headers = self._answer(operation, arguments, url.query, raw, body, fault)
        request.status = status
        self._send(
            status, payload, headers, malformed=fault if fault in ("not_json", "wrong_shape") else None
        )

    def _answer(
        self, operation: str, arguments: tuple[str, ...], query: str, raw: bytes, body: Any, fault: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        authorization = self.headers.get("Authorization", "")
        token = authorization.removeprefix("Token ").strip() if authorization.startswith("Token ") else ""
        if token not in state.api_keys:
            return 401, {"detail": "Invalid API key or token."}, {}
        if fault == "error":
            return state.behaviour.error_status, {"detail": "Internal server error (emulated)."}, {}
        if fault == "rate_limit":
            wait = state.behaviour.retry_after_seconds
            headers = {
                "Retry-After": str(wait),
                "X-RateLimit-Limit": "1000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(wait),
            }
            return 429, {"detail": "Request was throttled (emulated rate limit)."}, headers
        if raw and body is None:
            return 400, {"detail": "JSON parse error."}, {}
        params = parse_qs(query)
        origin = f"{self.server.scheme}://{self.headers.get('Host') or '127.0.0.1'}"
        endpoints: dict[str, Callable[[], dict[str, Any]]] = {
            "ping": state.ping,
            "add": lambda: state.add(body),
            "search": lambda: state.search(body),
            "list": lambda: state.list_memories(body, params, origin),
            "delete_all": lambda: state.delete_all(params),
            "get": lambda: state.get(*arguments),
            "delete": lambda: state.delete(*arguments),
            "entities": state.entities,
            "delete_entity": lambda: state.delete_entity(*arguments),
            "event": lambda: state.event(*arguments),
        }
        if operation == "not_allowed":
            return 405, {"detail": f'Method "{self.command}" not allowed.'}, {}
        if operation not in endpoints:
            return 404, {"detail": "Not found."}, {}
        try:
            return 200, endpoints[operation](), {}
        except ApiError as error:
            return error.status, {"detail": error.detail}, {}

    def _send(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        malformed: str | None = None,
    ) -> None:
        if malformed == "not_json":
            data, content_type = b"<html><body>502 Bad Gateway</body></html>", "text/html"
        elif malformed == "wrong_shape":
            data, content_type = (
                json.dumps({"results": "unavailable", "next": 7}).encode(),
                "application/json",
            )
        else:
            data, content_type = json.dumps(payload).encode("utf-8"), "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up (its deadline passed)

    def _reset(self) -> None:
        """Abort the connection with a TCP reset, as a failing load balancer does."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The reader holds a reference to the socket: only once it is closed does close() reach the
            # kernel, which then sends RST instead of FIN because of the zero linger.
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


class _Admin:
    """The ``/_emulator/`` endpoints, for tests, ``make run`` and Locust to drive the emulator."""

    def __init__(self, emulator: Mem0Emulator) -> None:
        self.emulator = emulator

    def handle(self, method: str, path: str, query: Mapping[str, list[str]], raw: bytes) -> tuple[int, Any]:
        emulator = self.emulator
        try:
            body = json.loads(raw) if raw else {}
            if (method, path) == ("GET", "/_emulator/config"):
                return 200, emulator.behaviour.to_json()
            if (method, path) == ("POST", "/_emulator/config"):
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                changes = dict(body)
                seconds = changes.pop("outage_seconds", None)
                behaviour = emulator.change(changes, seconds)
                # An outage closes connections, this one included: its effect waits for the answer to leave.
                timer = threading.Timer(0.05, emulator.apply_outage)
                timer.daemon = True
                timer.start()
                return 200, behaviour.to_json()
            if (method, path) == ("GET", "/_emulator/requests"):
                since = _int_or(query.get("since"), 0)
                records = [r.to_json() for r in emulator.requests() if r.seq > since]
                return 200, {"requests": records}
            if (method, path) == ("DELETE", "/_emulator/requests"):
                emulator.clear_requests()
                return 200, {"status": "cleared"}
            if (method, path) == ("GET", "/_emulator/memories"):
                users = query.get("user_id")
                return 200, {"results": emulator.memories(users[-1] if users else None)}
            if (method, path) == ("GET", "/_emulator/stats"):
                return 200, emulator.stats()
            if (method, path) == ("POST", "/_emulator/settle"):
                return 200, {"settled": emulator.settle()}
            if (method, path) == ("POST", "/_emulator/reset"):
                emulator.reset()
                return 200, {"status": "reset"}
        except (ValueError, KeyError, TypeError) as error:
            return 400, {"detail": str(error)}
        return 404, {"detail": "Not found."}


class Mem0Emulator:
    """A running emulator: ``url``, ``configure``, ``requests``, ``memories``, ``reset``, ``stop``."""

    def __init__(self, state: EmulatorState, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.state = state
        self.tls = tls
        self._admin = _Admin(self)
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._restore_timer: threading.Timer | None = None
        self._listen(host, port)
        self.host, self.port = host, self._bound_port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def behaviour(self) -> Behaviour:
        return self.state.behaviour

    def configure(self, outage_seconds: float | None = None, **changes: Any) -> Behaviour:
        """Change behaviour (see ``Behaviour.changed``); ``outage_seconds`` ends an outage by itself."""
        behaviour = self.change(changes, outage_seconds)
        self.apply_outage()
        return behaviour

    def change(self, changes: Mapping[str, Any], outage_seconds: float | None = None) -> Behaviour:
        """Change behaviour without yet opening or closing the listener (see ``apply_outage``)."""
        with self._lock:
            with self.state.lock:
                self.state.behaviour = self.state.behaviour.changed(changes)
                behaviour = self.state.behaviour
            if self._restore_timer is not None:
                self._restore_timer.cancel()
                self._restore_timer = None
            if behaviour.outage is not None and outage_seconds:
                self._restore_timer = threading.Timer(
                    float(outage_seconds), self.configure, kwargs={"outage": None}
                )
                self._restore_timer.daemon = True
                self._restore_timer.start()
            return behaviour

    def apply_outage(self) -> None:
        """Stop listening for a ``refuse`` outage, listen again after it, drop connections during one."""
        with self._lock:
            outage = self.state.behaviour.outage
            if outage == "refuse" and self._server is not None:
                self._stop_listening()
            elif outage != "refuse" and self._server is None and not self.state.stopping.is_set():
                self._listen(self.host, self.port)
            if outage is not None:
                self._drop_open_connections()

    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return [dataclasses.replace(r, headers=dict(r.headers)) for r in self.state.log]

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.log.clear()

    def memories(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Stored memories, oldest first, as the list endpoint shows them (optionally one user's)."""
        with self.state.lock:
            stored = list(self.state.memories.values())
        return [m.as_listed() for m in stored if user_id is None or m.user_id == user_id]

    def stats(self) -> dict[str, int]:
        with self.state.lock:
            return {
                "connections_accepted": self.state.connections_accepted,
                "requests": self.state.sequence,
                "memories": len(self.state.memories),
            }

    @property
    def connections_accepted(self) -> int:
        return self.state.connections_accepted

    def reset(self) -> None:
        """Forget memories and requests, and go back to the behaviour the emulator started with."""
        with self.state.lock:
            self.state.memories.clear()
            self.state.events.clear()
            self.state.log.clear()
        self.configure(**_start_settings(self.state.start_behaviour))

    def settle(self) -> int:
        """Let every pending add with inference finish now (its memories appear); return how many."""
        return self.state.settle()

    def stop(self) -> None:
        with self._lock:
            if self._restore_timer is not None:
                self._restore_timer.cancel()
            self.state.stopping.set()
            self._stop_listening()

    def __enter__(self) -> Mem0Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- listening -----------------------------------------------------------------------------------

    def _listen(self, host: str, port: int) -> None:
        server = _Server((host, port), self.state, self._admin, self.tls)
        self._bound_port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="mem0-emulator", daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        self._drop_open_connections()

    def _drop_open_connections(self) -> None:
        with self.state.lock:
            connections = list(self.state.open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _start_settings(behaviour: Behaviour) -> dict[str, Any]:
    return {
        "latency": behaviour.latency,
        "latency_by_operation": dict(behaviour.latency_by_operation),
        "error_rate": behaviour.error_rate,
        "error_status": behaviour.error_status,
        "rate_limit_rate": behaviour.rate_limit_rate,
        "retry_after_seconds": behaviour.retry_after_seconds,
        "malformed_rate": behaviour.malformed_rate,
        "malformed": behaviour.malformed,
        "outage": behaviour.outage,
        "fault_operations": behaviour.fault_operations,
        "next_faults": behaviour.next_faults,
        "extraction_seconds": behaviour.extraction_seconds,
    }


def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    profile: str = "none",
    api_keys: Iterable[str] = (),
    *,
    seed: int = 0,
    org_id: str = "org_emulated",
    project_id: str = "proj_emulated",
    tls: ssl.SSLContext | None = None,
    **behaviour: Any,
) -> Mem0Emulator:
    """Start an emulator in background threads. ``behaviour`` takes ``Behaviour``'s fields; ``tls``, a
    server-side context, makes it answer https (to test a client's TLS path)."""
    keys = tuple(api_keys)
    if not keys:
        raise ValueError("give the emulator at least one API key to accept")
    start = Behaviour(latency=PROFILES[profile]).changed(behaviour)
    return Mem0Emulator(EmulatorState(keys, start, seed, org_id, project_id), host, port, tls)


# -- CLI --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.mem0_emulator",
        description="A Mem0 Platform emulator on loopback (see the module documentation).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="published", help="latency profile")
    parser.add_argument("--api-key", action="append", default=[], help="a key to accept (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, help="a fixed latency in seconds for every call")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of 5xx answers")
    parser.add_argument("--rate-limit-rate", type=float, default=0.0, help="share of 429 answers")
    parser.add_argument("--malformed-rate", type=float, default=0.0, help="share of non-JSON answers")
    args = parser.parse_args(argv)

    generated = not args.api_key
    keys = args.api_key or [f"m0-emulator-{secrets.token_hex(16)}"]
    behaviour: dict[str, Any] = {
        "error_rate": args.error_rate,
        "rate_limit_rate": args.rate_limit_rate,
        "malformed_rate": args.malformed_rate,
    }
    if args.latency is not None:
        behaviour["latency"] = args.latency
    try:
        emulator = start_emulator(args.host, args.port, args.profile, keys, seed=args.seed, **behaviour)
    except (OSError, ValueError) as error:
        print(f"mem0-emulator: cannot start: {error}", file=sys.stderr)
        return 2
    print(f"mem0-emulator: listening at {emulator.url} (profile {args.profile})", flush=True)
    print(f"MEM0_BASE_URL={emulator.url}", flush=True)
    # A key this command made up for a local emulator is no secret; one it was given is not echoed.
    print(f"MEM0_API_KEY={keys[0]}" if generated else "MEM0_API_KEY: as given with --api-key", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
