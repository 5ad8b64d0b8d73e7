"""Call times in the caller's timezone do not depend on the machine having zone files.

A minimal Lambda image may ship no /usr/share/zoneinfo; zoneinfo then falls back to the ``tzdata``
package, which the artifact carries (pyproject.toml's dependencies).
"""

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from agentic_memory.call_time import call_zone, describe


@pytest.fixture
def no_system_zone_files() -> Iterator[None]:
    zoneinfo.reset_tzpath([])
    zoneinfo.ZoneInfo.clear_cache()
    yield
    zoneinfo.reset_tzpath()
    zoneinfo.ZoneInfo.clear_cache()


def test_a_call_is_described_in_its_own_zone_from_the_tzdata_package(no_system_zone_files: None) -> None:
    # Given no zone files on the machine, when an evening call in Los Angeles is described
    zone = call_zone("America/Los_Angeles")
    described = describe(datetime(2026, 3, 4, 3, 30, tzinfo=UTC), zone)

    # Then it is Tuesday evening there, named as such (not Wednesday, not UTC)
    assert described == "Tuesday 3 March 2026, evening (America/Los_Angeles)"
