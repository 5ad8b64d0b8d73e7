"""When a call happened, in the caller's own time: the dates an agent reads back must be theirs.

    zone = call_zone("America/Los_Angeles")             # ZoneInfo; None, "", unknown names → UTC
    describe(datetime(2026, 3, 4, 3, 30, tzinfo=UTC), zone)
    # "Tuesday 3 March 2026, evening (America/Los_Angeles)" — 19:30 the day before, in Los Angeles
    describe(datetime(2026, 3, 4, 3, 30, tzinfo=UTC), call_zone(None))
    # "Wednesday 4 March 2026, night (UTC)"

A call carries its timezone in the post-call data's ``metadata.timezone`` or in the
``system__timezone`` dynamic variable (both are IANA names, ``null`` when the agent sets none); a
call without one is described in UTC and says so. Zones come from the standard library's zoneinfo:
the system's tz database, or the ``tzdata`` package where the system has none.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .elevenlabs.post_call import TranscriptionData

TIMEZONE_VARIABLE = "system__timezone"
UTC_NAME = "UTC"
# Parts of the day by local hour: [start, end) → name.
PARTS_OF_DAY = (
    (0, 5, "night"),
    (5, 12, "morning"),
    (12, 17, "afternoon"),
    (17, 21, "evening"),
    (21, 24, "night"),
)
_MAX_ZONE_NAME = 64


def call_zone(name: Any) -> tzinfo:
    """The IANA zone ``name`` names, in any letter case ("pacific/auckland"), or UTC when it is
    missing, malformed or unknown (never raises)."""
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_ZONE_NAME:
        return UTC
    for candidate in (name.strip(), _zone_names_by_case().get(name.strip().lower())):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown, absolute or path-like names
                continue
    return UTC


@lru_cache(maxsize=1)
def _zone_names_by_case() -> dict[str, str]:
    # The tz database's names are case-sensitive on Linux; a client that lower-cases them still means one.
    return {zone.lower(): zone for zone in available_timezones()}


def zone_name(zone: tzinfo) -> str:
    """``America/Los_Angeles`` for a ZoneInfo, ``UTC`` for UTC."""
    return str(getattr(zone, "key", None) or UTC_NAME)


def timezone_of(metadata_timezone: Any, dynamic_variables: Mapping[str, Any] | None) -> tzinfo:
    """The call's zone: ``metadata.timezone`` first, then the ``system__timezone`` variable, else UTC."""
    for candidate in (metadata_timezone, (dynamic_variables or {}).get(TIMEZONE_VARIABLE)):
        zone = call_zone(candidate)
        if zone is not UTC:
            return zone
    return UTC


def local_time(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` (aware; a naive one is taken as UTC) on the clock of ``zone``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def part_of_day(hour: int) -> str:
    return next(name for start, end, name in PARTS_OF_DAY if start <= hour < end)


def describe(moment: datetime, zone: tzinfo, *, named_zone: bool = True) -> str:
    """``Tuesday 3 March 2026, evening (America/Los_Angeles)``: the caller's day, part of day and zone
    (without `` (zone)`` when ``named_zone`` is False, for a text that names the zone once).

    English names whatever the locale, so that the text is the same on every machine.
    """
    local = local_time(moment, zone)
    day = f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"
    when = f"{day}, {part_of_day(local.hour)}"
    return f"{when} ({zone_name(zone)})" if named_zone else when


def local_date(moment: datetime, zone: tzinfo) -> str:
    """The caller's calendar date, ``2026-03-03``."""
    return local_time(moment, zone).date().isoformat()


def call_started(data: TranscriptionData) -> datetime:
    """When the call started (UTC), or now when ElevenLabs sent no start time."""
    started = data.metadata.start_time_unix_secs
    return datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)


def zone_of_call(data: TranscriptionData) -> tzinfo:
    """The zone a post-call transcription carries (``metadata.timezone``, ``system__timezone``), or UTC."""
    initiation = data.conversation_initiation_client_data
    # ``metadata.timezone`` is no declared field: ElevenLabs' extra fields are kept, in any shape.
    metadata_timezone = (data.metadata.model_extra or {}).get("timezone")
    return timezone_of(metadata_timezone, initiation.dynamic_variables if initiation else None)


def describe_call(data: TranscriptionData) -> str:
    """When the call took place, as its caller would say it (see ``describe``)."""
    return describe(call_started(data), zone_of_call(data))


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
