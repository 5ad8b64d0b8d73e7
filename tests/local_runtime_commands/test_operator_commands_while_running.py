"""Issue 12 item 2: operator commands while ``agentic-memory serve`` runs (the embedded store allows one
process, so they run inside the runtime), ``send`` finds the runtime from the environment, and
``/health`` reports backends and counts without personal data."""

import json
import os
import re
import subprocess
import sys
import time

import httpx
import pytest
from conftest import RunningRuntime
from test_operator_commands import CALLER, _initiate_conversation, cli, deliver

from local_runtime.admin import ADMIN_HEADER, COMMANDS_PATH

pytestmark = pytest.mark.integration


def _wait_until_remembered(runtime: RunningRuntime) -> None:
    deadline = time.monotonic() + 20
    while b'"returning_caller":"yes"' not in _initiate_conversation(runtime):
        assert time.monotonic() < deadline, runtime.log()
        time.sleep(0.2)


def test_memories_forget_and_replay_run_through_the_running_runtime(fresh_runtime):
    runtime = fresh_runtime
    # Given a running runtime that has processed a caller's call
    deliver(runtime, "transcription_twilio_inbound")
    _wait_until_remembered(runtime)

    # When the operator lists the caller's memories while it runs
    listed = cli(runtime.home, "memories", CALLER, "--json")
    # Then the command ran inside the runtime, which holds the store, and printed what it found
    assert listed.returncode == 0, listed.stderr + runtime.log()
    assert f"through the running runtime at {runtime.url}" in listed.stderr
    assert {m["metadata"]["type"] for m in json.loads(listed.stdout)} == {"factual", "semantic"}

    # And a replay of the caller's calls and a brief rebuild run there too
    replayed = cli(runtime.home, "replay", "--caller", CALLER)
    assert replayed.returncode == 0 and "already_processed" in replayed.stdout, replayed.stdout
    rebuilt = cli(runtime.home, "profiles", "rebuild", "--caller", CALLER)
    assert rebuilt.returncode == 0 and "1 rebuilt" in rebuilt.stdout, rebuilt.stdout

    # And forget --yes erases the caller while the runtime keeps serving
    erased = cli(runtime.home, "forget", CALLER, "--yes")
    assert erased.returncode == 0 and "erased" in erased.stdout, erased.stdout
    assert json.loads(cli(runtime.home, "memories", CALLER, "--json").stdout) == []
    assert b'"returning_caller":"no"' in _initiate_conversation(runtime)

    # And once the runtime has stopped, the same command opens the store itself
    runtime.stop()
    alone = cli(runtime.home, "memories", CALLER, "--json")
    assert alone.returncode == 0 and "through the running runtime" not in alone.stderr


def test_the_admin_api_wants_the_admin_key(runtime):
    # Given the runtime's operator command endpoint, when asked without its key or with a wrong one
    for headers in ({}, {ADMIN_HEADER: "adm_dev_guess"}):
        refused = httpx.post(
            f"{runtime.url}{COMMANDS_PATH}", json={"argv": ["memories", CALLER]}, headers=headers
        )
        # Then it refuses, in JSON, and runs nothing
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    # And with the key only operator commands are accepted
    key = json.loads((runtime.home / "dev-keys.json").read_text())["AGENTIC_MEMORY_ADMIN_KEY"]
    other = httpx.post(f"{runtime.url}{COMMANDS_PATH}", json={"argv": ["serve"]}, headers={ADMIN_HEADER: key})
    assert other.status_code == 400


def test_health_reports_backends_queue_depth_and_dead_letters_without_personal_data(runtime):
    # When /health is asked
    health = httpx.get(f"{runtime.url}/health")
    # Then it names the backends and counts, and nothing that looks like a phone number
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "memory": "embedded",
        "archive": "filesystem",
        "processing_queue_depth": 0,
        "dead_letter_count": 0,
    }
    assert not re.search(r"\+?\d{7,}", health.text)


@pytest.mark.parametrize("variable", ["AGENTIC_MEMORY_URL", "PORT"])
def test_send_finds_the_runtime_from_the_environment(runtime, variable):
    # Given no --url, only AGENTIC_MEMORY_URL or the PORT `make run` was started with
    port = runtime.url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_", "PORT"))}
    env.pop("AGENTIC_MEMORY_URL", None)
    env.update(
        {
            "AGENTIC_MEMORY_HOME": str(runtime.home),
            "ELEVENLABS_WORKSPACE_KEY": runtime.keys["workspace"],
            variable: runtime.url if variable == "AGENTIC_MEMORY_URL" else port,
        }
    )
    # When the operator sends a pre-call
    sent = subprocess.run(
        [sys.executable, "-m", "local_runtime.cli", "send", "precall_twilio_inbound"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then it reached that runtime
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert f"POST {runtime.url}/client-data -> 200" in sent.stdout
