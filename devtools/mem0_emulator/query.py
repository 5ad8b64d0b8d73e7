"""The query engine: Mem0's filter language, the lexical search score, and the errors both answer.

Filters are the v2/v3 language (``docs/mem0-platform.md``, filters and scores): entity and field
conditions, the operators ``in``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``contains``, ``icontains``
and the ``*`` wildcard, and ``AND`` / ``OR`` / ``NOT`` lists. Mem0's v3 search scores in [0, 1] by a
fusion of semantic, BM25 and entity scores; the emulator's ``lexical_score`` is a deterministic stand-in
in the same range.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from devtools.mem0_emulator.records import ENTITY_FIELDS, StoredMemory


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def int_or(values: list[str] | None, default: int) -> int:
    try:
        return int(values[-1]) if values else default
    except ValueError:
        return default


def entities_named(filters: Any) -> set[str]:
    if isinstance(filters, list):
        return set().union(*(entities_named(f) for f in filters)) if filters else set()
    if not isinstance(filters, dict):
        return set()
    named = {key for key in filters if key in ENTITY_FIELDS}
    for key in ("AND", "OR", "NOT"):
        named |= entities_named(filters.get(key))
    return named


def matches(memory: StoredMemory, condition: Mapping[str, Any]) -> bool:
    """The v2/v3 filter language: field conditions (all must hold) and AND / OR / NOT lists."""
    for key, value in condition.items():
        if key in ("AND", "OR", "NOT"):
            if not isinstance(value, list) or not all(isinstance(part, Mapping) for part in value):
                raise ApiError(400, f"{key} takes a list of filters")
            parts = [matches(memory, part) for part in value]
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
