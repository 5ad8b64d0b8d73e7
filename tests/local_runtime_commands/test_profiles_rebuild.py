"""``agentic-memory profiles rebuild`` on an archive made by the version before briefs existed.

The archive holds the recorded transcriptions under today's post-call keys
(``post-call/{caller}/{conversation}.json``, withheld ones under ``post-call/unattributed/``) and no
``profiles/`` at all, as a deployment that is being migrated has.
"""

import json
import subprocess
from pathlib import Path

import pytest
from helpers import run_cli

from agentic_memory.archive_keys import profile_key
from agentic_memory.post_call import archive_key_for, parse_event
from agentic_memory.profile_store import archived_callers, read_profile
from agentic_memory.settings import Settings
from devtools.fixtures import fixture_bytes, fixture_names
from local_runtime.adapters.filesystem_archive import FilesystemArchive

MARGARET = "+15550100142"


def archive_as_today(root: Path) -> FilesystemArchive:
    """Every recorded post-call fixture, archived where the post-call webhook files it today."""
    archive = FilesystemArchive(root)
    settings = Settings.from_environment({})
    for name in fixture_names():
        if not name.startswith(("transcription_", "audio", "initiation_failure")):
            continue
        body = fixture_bytes(name)
        archive.put_new(archive_key_for(parse_event(body), settings), body, "application/json")
    assert list(archive.keys("profiles/")) == []
    return archive


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args)


@pytest.mark.integration
def test_profiles_rebuild_all_gives_every_caller_a_brief_with_progress(tmp_path: Path) -> None:
    # Given an archive written by today's post-call webhook, with no briefs
    archive = archive_as_today(tmp_path / "archive")
    callers = archived_callers(archive)
    assert MARGARET in callers and "audio-only" not in callers and "unattributed" not in callers
    # When the operator rebuilds every brief
    result = cli(tmp_path, "profiles", "rebuild", "--all")
    # Then there is one progress line per caller, and each has a brief
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stdout.splitlines() if line.strip().startswith("[")]
    assert len(progress) == len(callers)
    assert MARGARET not in result.stdout  # callers are masked in the output
    assert f"done: {len(callers)} rebuilt, 0 failed" in result.stdout
    for caller in callers:
        assert archive.exists(profile_key(caller))
    # And Margaret's brief counts both of her calls, knows her name and her last call
    margaret = read_profile(archive, MARGARET)
    assert margaret is not None
    assert margaret.call_count == 2
    assert margaret.name is not None and margaret.name.name == "Margaret"
    assert margaret.recent_calls[0].title == "Vaccination certificate request"


@pytest.mark.integration
def test_a_rebuild_is_a_no_op_when_run_again_and_matches_processing(tmp_path: Path) -> None:
    # Given briefs rebuilt once for one caller
    archive = archive_as_today(tmp_path / "archive")
    first = cli(tmp_path, "profiles", "rebuild", "--caller", MARGARET)
    assert first.returncode == 0, first.stderr
    assert "[1/1]" in first.stdout and "2 calls" in first.stdout
    before = json.loads(archive.get(profile_key(MARGARET)))
    # When it runs again
    again = cli(tmp_path, "profiles", "rebuild", "--caller", MARGARET)
    # Then the brief is the same: nothing counted twice
    assert again.returncode == 0, again.stderr
    assert json.loads(archive.get(profile_key(MARGARET))) == before
    # And `memories` shows the brief first
    shown = cli(tmp_path, "memories", MARGARET)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"caller {MARGARET}: brief"
    assert lines[1].startswith("  name: Margaret (data_collection")
