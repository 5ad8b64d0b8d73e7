"""Issue 19 items 3-5: one runtime per data folder, operator commands that find the runtime's data from
any directory (or refuse), ``/health`` when the memory store cannot open, no open ``/retrieve`` off
loopback, and ``retention purge`` with its own ``RETENTION_DAYS``."""

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import RunningRuntime, start_runtime
from helpers import free_port, run_cli
from test_operator_commands import CALLER, deliver

pytestmark = pytest.mark.integration


def serve(
    home: Path, *args: str, cwd: Path | None = None, **environment: str
) -> subprocess.CompletedProcess[str]:
    """``agentic-memory serve`` expected to refuse: it must exit by itself within the timeout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_"))}
    env |= {"AGENTIC_MEMORY_HOME": str(home), **environment}
    command = [sys.executable, "-m", "local_runtime.cli", "serve", "--port", str(free_port()), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


def test_a_second_runtime_on_the_same_home_is_refused_and_the_first_keeps_serving(runtime: RunningRuntime):
    announced = (runtime.home / "runtime.json").read_text()
    # When a second runtime is started on the first one's data folder
    second = serve(runtime.home)
    # Then it refuses in one line naming the running runtime (pid and URL)
    assert second.returncode != 0, second.stdout
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"pid {runtime.process.pid}" in lines[0] and runtime.url in lines[0]
    # And the first is untouched: healthy, still announced, still running operator commands
    assert httpx.get(f"{runtime.url}/health").json()["status"] == "ok"
    assert (runtime.home / "runtime.json").read_text() == announced
    listed = run_cli(runtime.home, "memories", CALLER, "--json")
    assert listed.returncode == 0 and f"through the running runtime at {runtime.url}" in listed.stderr


def test_operator_commands_from_another_directory_reach_the_runtime(runtime: RunningRuntime, tmp_path: Path):
    # Given a call the runtime has remembered
    deliver(runtime, "transcription_twilio_inbound")
    deadline = time.monotonic() + 30
    while "calls: 1" not in run_cli(runtime.home, "memories", CALLER).stdout:
        assert time.monotonic() < deadline, runtime.log()
        time.sleep(0.3)
    # When the operator asks from another directory, naming the home relative to it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    relative = os.path.relpath(runtime.home, elsewhere)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_"))}
    env["AGENTIC_MEMORY_HOME"] = relative
    listed = subprocess.run(
        [sys.executable, "-m", "local_runtime.cli", "memories", CALLER],
        env=env,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it is the runtime's data it sees, and nothing was created where it ran
    assert listed.returncode == 0, listed.stderr
    assert "calls: 1" in listed.stdout and "0 memories" not in listed.stdout
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("command", [["forget", CALLER, "--yes"], ["memories", CALLER], ["replay", "--all"]])
def test_a_command_on_a_folder_without_data_refuses_and_creates_nothing(tmp_path: Path, command: list[str]):
    # Given an AGENTIC_MEMORY_HOME where no runtime ever stored anything (a wrong or mistyped path)
    home = tmp_path / "not-the-runtime's"
    # When an operator command runs on it
    result = run_cli(home, *command)
    # Then it refuses, says why and where, and does not report success on a store it made itself
    assert result.returncode != 0
    assert f"no local data in {home}" in result.stderr and "erased" not in result.stdout
    assert not home.exists()


def test_the_default_home_is_the_same_from_any_directory(tmp_path: Path):
    # Given no AGENTIC_MEMORY_HOME, when two processes in different directories ask for the home
    script = "from local_runtime.home import adopt_home; print(adopt_home({}))"
    env = {k: v for k, v in os.environ.items() if k != "AGENTIC_MEMORY_HOME"}
    homes = {
        subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        for cwd in (tmp_path, Path("/"))
    }
    # Then both get the repository's .agentic-memory, an absolute path
    repository = Path(__file__).resolve().parents[2]
    assert homes == {str(repository / ".agentic-memory")}


@pytest.fixture
def qdrant_locked_by_another_process(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A home whose embedded Qdrant folder another process has open (its lock held)."""
    home = tmp_path / "home"
    lock = home / "memory" / "qdrant" / ".lock"
    lock.parent.mkdir(parents=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    yield home, descriptor
    os.close(descriptor)


def test_health_reports_memory_unavailable_while_the_store_cannot_open(qdrant_locked_by_another_process):
    home, qdrant_lock = qdrant_locked_by_another_process
    # Given a runtime that started while its memory store could not open
    running = start_runtime(home)
    try:
        # When /health is asked
        health = httpx.get(f"{running.url}/health").json()
        # Then it says the memory is unavailable and why, instead of "ok"
        assert health["status"] == "degraded" and health["memory"] == "embedded"
        assert "already accessed by another instance" in health["memory_unavailable"]
        # And once the store can open, it is ok again by itself
        fcntl.flock(qdrant_lock, fcntl.LOCK_UN)
        deadline = time.monotonic() + 20
        while (health := httpx.get(f"{running.url}/health").json())["status"] != "ok":
            assert time.monotonic() < deadline, health
            time.sleep(0.2)
        assert "memory_unavailable" not in health
    finally:
        running.stop()


def test_serving_off_loopback_without_a_tool_key_is_refused(tmp_path: Path):
    home = tmp_path / "home"
    # When the runtime is asked to listen on every interface without ELEVENLABS_TOOL_KEY
    refused = serve(home, "--host", "0.0.0.0")
    # Then it refuses before opening anything, saying what would be exposed and how to proceed
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert "ELEVENLABS_TOOL_KEY" in line and "--allow-open-retrieve" in line and "/retrieve" in line
    assert not home.exists()


def test_retention_purge_takes_its_own_retention_days_while_a_runtime_runs(runtime: RunningRuntime):
    # Given a runtime started without RETENTION_DAYS
    # When the purge is run with RETENTION_DAYS on its own command line
    given = run_cli(runtime.home, "retention", "purge", "--dry-run", RETENTION_DAYS="30")
    # Then the runtime runs it with that period and says where it came from
    assert given.returncode == 0, given.stderr
    assert "through the running runtime" in given.stderr
    assert "RETENTION_DAYS=30, given to this command" in given.stdout
    assert "more than 30 days old" in given.stdout
    # And without it, it says that neither the command nor the process running the purge has one
    missing = run_cli(runtime.home, "retention", "purge", "--dry-run")
    assert missing.returncode == 0 and "RETENTION_DAYS is not set" in missing.stdout
    assert "nor set where the purge runs" in missing.stdout
    # And a period that is not one is refused before anything runs
    wrong = run_cli(runtime.home, "retention", "purge", RETENTION_DAYS="a month")
    assert wrong.returncode == 2 and "not a number of days" in wrong.stderr


def test_a_stale_runtime_json_is_not_trusted(tmp_path: Path):
    # Given a home whose runtime was killed and whose runtime.json names a port someone else now serves
    home = tmp_path / "home"
    (home / "archive").mkdir(parents=True)
    (home / "runtime.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": 1}))
    # When an operator command runs, it opens the data itself instead of sending it there
    result = run_cli(home, "corrections", CALLER)
    assert "through the running runtime" not in result.stderr
