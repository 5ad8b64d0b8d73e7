"""``agentic-memory smoke`` against the local runtime: every step passes and the made-up caller is
erased afterwards (issue 12 item 4)."""

import os
import re
import subprocess
import sys

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_the_smoke_test_passes_every_step_and_leaves_nothing_behind(fresh_runtime):
    runtime = fresh_runtime
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_"))}
    env.update(
        {
            "AGENTIC_MEMORY_HOME": str(runtime.home),
            "ELEVENLABS_HMAC_KEY": runtime.keys["hmac"],
            "ELEVENLABS_WORKSPACE_KEY": runtime.keys["workspace"],
        }
    )
    # When the smoke test runs against the runtime
    smoke = subprocess.run(
        [sys.executable, "-m", "local_runtime.cli", "smoke", "--url", runtime.url, "--wait", "60"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    # Then every step passed, in the order a caller meets them, and forget ran last
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr + runtime.log()
    steps = [line[5:] for line in smoke.stdout.splitlines() if line.startswith("ok ")]
    assert [step.split(" ")[0] for step in steps] == [
        "pre-call",
        "post-call",
        "processed:",
        "search_memory",
        "forget:",
    ]
    assert "FAIL" not in smoke.stdout
    # And the made-up caller left nothing in the archive, and the runtime sees a new caller again
    caller = re.search(r"made-up caller (\+1555019\d{4})", smoke.stdout).group(1)
    assert not [path for path in (runtime.home / "archive").rglob("*") if caller in str(path)]
    listed = httpx.get(f"{runtime.url}/health").json()
    assert listed["dead_letter_count"] == 0
