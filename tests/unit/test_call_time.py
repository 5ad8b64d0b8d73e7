"""Dates the agent hears are the caller's dates: the call's own timezone when it carries one, else
UTC, and then the text says UTC."""

from datetime import UTC, datetime
from zoneinfo import available_timezones

import pytest

from agentic_memory.call_time import call_zone, describe, describe_call, local_date, part_of_day
from agentic_memory.elevenlabs.post_call import TranscriptionData
from agentic_memory.memory_building import factual_memory
from devtools.fixtures import load_fixture

# Tuesday 3 March 2026, 19:30 in Los Angeles (PST, UTC-8) is Wednesday 4 March, 03:30 UTC.
LA_EVENING = datetime(2026, 3, 4, 3, 30, tzinfo=UTC)


def transcription(metadata_timezone: object = None, variable: object = None) -> TranscriptionData:
    data = load_fixture("transcription_twilio_inbound")["data"]
    data["metadata"]["start_time_unix_secs"] = int(LA_EVENING.timestamp())
    data["metadata"]["timezone"] = metadata_timezone
    initiation = data.setdefault("conversation_initiation_client_data", {}) or {}
    initiation.setdefault("dynamic_variables", {})["system__timezone"] = variable
    data["conversation_initiation_client_data"] = initiation
    return TranscriptionData.model_validate(data)


def test_this_machine_has_a_tz_database() -> None:
    assert "America/Los_Angeles" in available_timezones()


def test_an_evening_call_in_los_angeles_is_that_evening_not_tomorrow() -> None:
    zone = call_zone("America/Los_Angeles")

    assert describe(LA_EVENING, zone) == "Tuesday 3 March 2026, evening (America/Los_Angeles)"
    assert local_date(LA_EVENING, zone) == "2026-03-03"


def test_without_a_zone_the_text_names_utc() -> None:
    assert describe(LA_EVENING, call_zone(None)) == "Wednesday 4 March 2026, night (UTC)"


@pytest.mark.parametrize(
    "name", ["", "  ", "Nowhere/City", "../../etc/passwd", "/etc/localtime", 5, {"a": 1}]
)
def test_a_missing_unknown_or_hostile_zone_is_utc(name: object) -> None:
    assert call_zone(name) is UTC


def test_summer_time_is_applied() -> None:
    # 15 July 2026 02:00 UTC is 19:00 PDT (UTC-7) on the 14th.
    assert describe(datetime(2026, 7, 15, 2, 0, tzinfo=UTC), call_zone("America/Los_Angeles")).startswith(
        "Tuesday 14 July 2026, evening"
    )


@pytest.mark.parametrize(
    ("hour", "part"),
    [(0, "night"), (4, "night"), (5, "morning"), (12, "afternoon"), (17, "evening"), (21, "night")],
)
def test_parts_of_the_day(hour: int, part: str) -> None:
    assert part_of_day(hour) == part


def test_the_metadata_timezone_is_the_calls_zone() -> None:
    assert describe_call(transcription("America/Los_Angeles")).endswith("(America/Los_Angeles)")


def test_the_system_timezone_variable_is_used_when_the_metadata_has_none() -> None:
    assert (
        describe_call(transcription(None, "Europe/Berlin")) == "Wednesday 4 March 2026, night (Europe/Berlin)"
    )


def test_the_metadata_wins_over_the_variable() -> None:
    assert describe_call(transcription("America/Los_Angeles", "Europe/Berlin")).endswith(
        "(America/Los_Angeles)"
    )


def test_the_factual_memory_of_an_evening_call_in_los_angeles_names_that_evening() -> None:
    draft = factual_memory(transcription("America/Los_Angeles"))

    assert draft is not None
    assert draft.messages[0].content.startswith("Call on Tuesday 3 March 2026, evening (America/Los_Angeles)")


def test_the_factual_memory_of_a_call_without_a_zone_names_utc() -> None:
    draft = factual_memory(transcription(None, None))

    assert draft is not None
    assert draft.messages[0].content.startswith("Call on Wednesday 4 March 2026, night (UTC)")
