"""Whether an answer holds a question's evidence, and the run's figures.

A question is a *hit* when the text of every evidence turn (whitespace-normalised, case as spoken)
is inside the answer's memories joined together. A temporal question ("When did we talk about…?")
also needs the date: each evidence turn must sit inside one memory that names its call's day in the
caller's timezone, as ``8 May 2023`` or ``May 8, 2023``.
"""

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

TEMPORAL = "temporal"
THIRDS = ("first", "middle", "last")


@dataclass(frozen=True)
class Evidence:
    text: str  # the turn's message, as spoken
    day: date  # its call's date in the caller's timezone


def normalised(text: str) -> str:
    return " ".join(text.split())


def is_hit(kind: str, evidence: Sequence[Evidence], memories: Sequence[str]) -> bool:
    if kind == TEMPORAL:
        return all(
            any(_holds(memory, item) and names_day(memory, item.day) for memory in memories)
            for item in evidence
        )
    # Joined, so that a turn a search split over two neighbouring memories still counts.
    joined = normalised("\n".join(memories))
    return all(normalised(item.text) in joined for item in evidence)


def _holds(memory: str, item: Evidence) -> bool:
    return normalised(item.text) in normalised(memory)


def names_day(text: str, day: date) -> bool:
    """``8 May 2023`` or ``May 8, 2023`` (not ``18 May 2023``), anywhere in ``text``."""
    month = f"{day:%B}"
    pattern = rf"(?<!\d){day.day} {month},? {day.year}\b|\b{month} {day.day}(?:st|nd|rd|th)?,? {day.year}\b"
    return re.search(pattern, text) is not None


def third_of(position: float) -> str:
    """The third of the call a fact sits in, by the share of the call's words spoken before it."""
    return THIRDS[min(int(position * 3), 2)]


def recall(hits: Iterable[bool]) -> float | None:
    """The share of hits; None when there were no questions."""
    values = list(hits)
    return sum(values) / len(values) if values else None


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0..1); 0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
