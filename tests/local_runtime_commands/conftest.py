"""A real local runtime (``agentic-memory serve``) in a subprocess on a free loopback port."""

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port

AGENT_NUMBER = "+15550100001"


@dataclass
class RunningRuntime:
    url: str
    home: Path
    keys: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the runtime exited early:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the runtime did not become healthy:\n{log_path.read_text(errors='replace')}")


def start_runtime(home: Path, extra_env: dict[str, str] | None = None) -> RunningRuntime:
    keys = {"workspace": f"wsk_it_{secrets.token_hex(12)}", "hmac": f"whsec_it_{secrets.token_hex(12)}"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_"))}
    env.update(
        {
            "AGENTIC_MEMORY_HOME": str(home),
            "ELEVENLABS_WORKSPACE_KEY": keys["workspace"],
            "ELEVENLABS_HMAC_KEY": keys["hmac"],
            "AGENT_PHONE_NUMBERS": AGENT_NUMBER,
            "MEM0_SEARCH_LIMIT": "20",
            **(extra_env or {}),
        }
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "runtime.log"
    command = [sys.executable, "-m", "local_runtime.cli", "serve", "--port", str(port)]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    running = RunningRuntime(url=url, home=home, keys=keys, process=process, log_path=log_path)
    try:
        wait_until_healthy(url, process, log_path)
    except BaseException:
        running.stop()
        raise
    return running


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    running = start_runtime(tmp_path_factory.mktemp("runtime-home"))
    yield running
    running.stop()


@pytest.fixture
def fresh_runtime(tmp_path: Path) -> Iterator[RunningRuntime]:
    """A runtime of its own for one test, which may stop it to inspect its data."""
    home = tmp_path / "home"
    home.mkdir()
    running = start_runtime(home)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def runtime_with(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[dict[str, str]], RunningRuntime]]:
    """Starts runtimes with extra environment (``MEM0_API_KEY`` and ``MEM0_BASE_URL`` for the Mem0
    Platform emulator, say); they stop with the module."""
    started: list[RunningRuntime] = []

    def start(extra_env: dict[str, str]) -> RunningRuntime:
        running = start_runtime(tmp_path_factory.mktemp("runtime-home"), extra_env)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
