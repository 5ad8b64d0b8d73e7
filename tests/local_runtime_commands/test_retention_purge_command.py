"""``agentic-memory retention purge [--dry-run]`` on local data: progress per expired brief, masked
callers, and a dry run that changes nothing."""

import subprocess
from pathlib import Path

import pytest
from helpers import run_cli
from test_profiles_rebuild import archive_as_today

from agentic_memory.profile_store import archived_callers

MARGARET = "+15550100142"


def cli(home: Path, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args, timeout=180, **environment)


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.integration
def test_the_dry_run_changes_nothing_and_the_purge_deletes_every_expired_brief(tmp_path: Path) -> None:
    # Given briefs for every recorded caller, whose calls were all in 2025, and a 30-day retention
    archive = archive_as_today(tmp_path / "archive")
    callers = archived_callers(archive)
    assert cli(tmp_path, "profiles", "rebuild", "--all").returncode == 0
    before = files_under(tmp_path / "archive")
    # When the operator looks first
    dry = cli(tmp_path, "retention", "purge", "--dry-run", RETENTION_DAYS="30")
    # Then every brief is listed as expired, masked, and nothing changed
    assert dry.returncode == 0, dry.stderr
    progress = [line for line in dry.stdout.splitlines() if line.strip().startswith("[")]
    assert len(progress) == len(callers) and all("would delete" in line for line in progress)
    assert MARGARET not in dry.stdout
    assert files_under(tmp_path / "archive") == before
    # When the purge runs
    done = cli(tmp_path, "retention", "purge", RETENTION_DAYS="30")
    # Then no brief and no caller's transcription is left
    assert done.returncode == 0, done.stderr
    assert f"done: {len(callers)} expired brief(s); deleted" in done.stdout
    assert list(archive.keys("profiles/")) == [] and archived_callers(archive) == []


@pytest.mark.integration
def test_without_a_retention_period_nothing_is_purged(tmp_path: Path) -> None:
    archive_as_today(tmp_path / "archive")
    result = cli(tmp_path, "retention", "purge")
    assert result.returncode == 0 and "RETENTION_DAYS is not set" in result.stdout
