"""Finding the caller's name: data-collection results first, then what was said in past calls."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .elevenlabs.post_call import DataCollectionResult
from .ports import MemoryRecord

# Data-collection ids that hold the caller's name, in order of preference.
NAME_FIELDS = ("caller_name", "full_name", "name", "first_name", "user_name", "customer_name")

_NAME_WORD = r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'\-]{0,29}"
_PATTERNS = [
    re.compile(rf"\buser(?:'s)? name is (?P<name>{_NAME_WORD}(?: {_NAME_WORD})?)", re.IGNORECASE),
    re.compile(rf"\bmy name is (?P<name>{_NAME_WORD}(?: {_NAME_WORD})?)", re.IGNORECASE),
    re.compile(rf"\bmy name's (?P<name>{_NAME_WORD})", re.IGNORECASE),
    # "call me" is followed by names and by everything else ("call me in the morning"): only a
    # capitalised word counts there.
    re.compile(r"\b(?i:(?:please )?call me) (?P<name>[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'\-]{0,29})"),
    re.compile(rf"\bcaller name: (?P<name>{_NAME_WORD}(?: {_NAME_WORD})?)", re.IGNORECASE),
]
# Words that follow "call me" or "my name is" without being a name.
_NOT_NAMES = {
    "back",
    "later",
    "again",
    "tomorrow",
    "today",
    "anytime",
    "whenever",
    "when",
    "if",
    "at",
    "on",
    "not",
    "just",
    "a",
    "an",
    "the",
    "that",
    "this",
    "it",
    "is",
    "was",
    "what",
    "whatever",
    "sir",
    "madam",
    "maam",
    "please",
    "now",
    "soon",
    "and",
    "but",
    "so",
    "unknown",
    "none",
    "null",
}


def clean_name(raw: Any) -> str | None:
    """A displayable name from a collected or spoken value, or None when it does not look like one."""
    if not isinstance(raw, str):
        return None
    words = [w for w in re.split(r"\s+", raw.strip().strip(".,!?\"'")) if w]
    if not words or len(words) > 3:
        return None
    if any(not re.fullmatch(_NAME_WORD, w) for w in words):
        return None
    if words[0].lower() in _NOT_NAMES:
        return None
    words = [w for w in words if w.lower() not in _NOT_NAMES] or words
    return " ".join(w if not w.islower() else w.capitalize() for w in words)


def name_from_data_collection(results: Mapping[str, DataCollectionResult]) -> str | None:
    for field in NAME_FIELDS:
        result = results.get(field)
        if result is not None:
            name = clean_name(result.value)
            if name:
                return name
    return None


def name_from_text(text: str) -> str | None:
    """The last name a caller gave in ``text`` ("call me Sam" after "my name is Samuel" wins)."""
    found: list[tuple[int, str]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            name = clean_name(match.group("name"))
            if name:
                found.append((match.start(), name))
    return max(found)[1] if found else None


def name_from_memories(memories: Iterable[MemoryRecord]) -> str | None:
    """Newest first: a name stored from data collection, else one the caller said."""
    ordered = sorted(memories, key=_recency, reverse=True)
    for record in ordered:
        name = clean_name(record.metadata.get("caller_name"))
        if name:
            return name
    for record in ordered:
        if record.metadata.get("role", "user") == "assistant":
            continue  # the agent saying "my name is Ada" names the agent, not the caller
        name = name_from_text(record.text)
        if name:
            return name
    return None


def _recency(record: MemoryRecord) -> str:
    stamp = record.metadata.get("timestamp")
    return str(stamp) if stamp is not None else (record.created_at or "")
