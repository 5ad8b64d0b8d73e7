"""How the console writes times and numbers for people: the template filters.

A time is the call's own (its start), written with its zone: ``Mon 24 Nov 2025, 15:00 UTC``, and, when
the caller's zone is known, ``Mon 24 Nov 2025, 10:00 EST (15:00 UTC)``. A caller id that is a phone
number in E.164 is written in international form (``+1 555-010-0142``); any other id as it is.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers


def when(moment: datetime | str | None, zone: str | None = None) -> str:
    at = _datetime(moment)
    if at is None:
        return "—"
    utc = at.astimezone(UTC)
    local = _zone(zone)
    there = utc.astimezone(local) if local is not None else utc
    if there.utcoffset() == timedelta(0):
        return f"{utc:%a %-d %b %Y, %H:%M} UTC"
    return f"{there:%a %-d %b %Y, %H:%M} {there.tzname()} ({utc:%H:%M} UTC)"


def iso(moment: datetime | str | None) -> str:
    """The machine-readable form, for a ``<time datetime=…>``."""
    at = _datetime(moment)
    return at.astimezone(UTC).isoformat() if at else ""


def number(caller_id: str | None) -> str:
    if not caller_id:
        return ""
    if not caller_id.startswith("+"):
        return caller_id
    try:
        parsed = phonenumbers.parse(caller_id, None)
    except phonenumbers.NumberParseException:
        return caller_id
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _datetime(moment: datetime | str | None) -> datetime | None:
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
