"""What the emulator is told to do besides answering: latency per operation and injected faults.

``Behaviour`` holds 5xx and 429 rates (429s carry ``Retry-After``, which ``mem0ai`` parses:
``docs/mem0-platform.md``, published latency), malformed answers, scripted faults for the next
requests and outages (``refuse``: nothing listens; ``reset``: connections are reset). The admin endpoint and
``Mem0Emulator.configure`` change it through ``Behaviour.changed``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from devtools.mem0_emulator.latency import PROFILES, Latency

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
FAULTS = ("ok", "error", "rate_limit", "not_json", "wrong_shape", "reset")
OUTAGES = ("refuse", "reset")


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
