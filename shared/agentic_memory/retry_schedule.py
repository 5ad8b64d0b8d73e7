"""When a post-call event whose processing failed is tried again, and when dead letters go back.

Mem0 Platform limits adds per minute and answers 429 with ``Retry-After`` when a workspace goes over;
an outage can last longer. Retrying within seconds (what a queue does by default) spends every attempt
inside one throttling window, so the schedule spans minutes: the first retry after
``RETRY_FIRST_DELAY_SECONDS`` (30 s), each later one twice as long, capped at 15 minutes, and never
sooner than the ``Retry-After`` Mem0 gave (capped at SQS's 12-hour visibility limit). With SQS's five
receives that is 30 s, 1, 2 and 4 minutes: 7.5 minutes before an event is dead-lettered. The brief
and the recall index are updated from the archived event whether or not Mem0 accepts the adds
(``post_call``), so the caller is known meanwhile.

Dead letters are re-driven automatically (``services/post_call/processor.py`` in AWS, on a schedule;
the local runtime's queue locally) once the memory store answers again, at most ``MAX_REDRIVES`` times
per event, so that an event that fails for another reason (a bug) does not cycle for ever: it stays
dead-lettered and the dead-letter alarm stays raised.
"""

import math

# SQS: ChangeMessageVisibility accepts at most 12 hours.
LONGEST_VISIBILITY_SECONDS = 43_200
LONGEST_BACKOFF_SECONDS = 900
MAX_REDRIVES = 3


def delay_before_retry(
    failed_attempts: int, first_delay_seconds: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before the next attempt, after ``failed_attempts`` (≥ 1) failed in a row.

    ``first_delay_seconds`` doubles per failure up to ``LONGEST_BACKOFF_SECONDS``; a ``retry_after``
    (seconds, Mem0's ``Retry-After``) is honoured as the least wait. Whole seconds in production (the
    setting is an integer); the local runtime's tests use fractions."""
    backoff = min(LONGEST_BACKOFF_SECONDS, first_delay_seconds * 2 ** max(0, failed_attempts - 1))
    wait = max(backoff, math.ceil(retry_after) if retry_after and retry_after > 0 else 0)
    return min(wait, LONGEST_VISIBILITY_SECONDS)


def retry_after_of(error: BaseException) -> float | None:
    """The ``retry_after`` (seconds) an error or one of its causes carries (``Mem0PlatformError`` on a
    429), or None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        value = getattr(current, "retry_after", None)
        if isinstance(value, int | float) and value > 0:
            return float(value)
        current = current.__cause__ or current.__context__
    return None
