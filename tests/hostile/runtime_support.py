"""A local runtime (``agentic-memory serve``) in a subprocess, and raw-socket HTTP to talk to it.

The runtime's working directory is a sandbox folder holding only its home, so that a write escaping the
home shows up in a listing of the sandbox.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import free_port
from hostile_support import AGENT_NUMBER, TALLY, HostileKeys


@dataclass
class RuntimeProcess:
    url: str
    port: int
    sandbox: Path
    home: Path
    keys: HostileKeys
    process: subprocess.Popen[bytes]
    log_path: Path
    # Every path below the sandbox once the runtime was ready, before any request.
    listing_at_start: set[str] = field(default_factory=set)

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_bytes().decode("utf-8", errors="backslashreplace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def listing(root: Path) -> set[str]:
    """Every file and folder below ``root``, as POSIX paths relative to it."""
    return {path.relative_to(root).as_posix() for path in root.rglob("*")}


def health_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def start_runtime(
    sandbox: Path, keys: HostileKeys, extra_env: dict[str, str] | None = None
) -> RuntimeProcess:
    home = sandbox / "home"
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_", "LOG_"))}
    env.update(
        {
            "AGENTIC_MEMORY_HOME": str(home),
            "ELEVENLABS_WORKSPACE_KEY": f"{keys.workspace},{keys.next_workspace}",
            "ELEVENLABS_HMAC_KEY": f"{keys.hmac},{keys.previous_hmac}",
            "AGENT_PHONE_NUMBERS": AGENT_NUMBER,
            **(extra_env or {}),
        }
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "runtime.log"
    command = [sys.executable, "-m", "local_runtime.cli", "serve", "--port", str(port)]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, env=env, cwd=sandbox, stdout=log_file, stderr=subprocess.STDOUT)
    running = RuntimeProcess(url, port, sandbox, home, keys, process, log_path)
    deadline = time.monotonic() + 60
    while health_status(url) != 200:
        if not running.alive() or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"the runtime did not become healthy:\n{running.output()}")
        time.sleep(0.1)
    running.listing_at_start = listing(sandbox)
    return running


# ---------------------------------------------------------------------------------------------------
# Raw HTTP/1.1 over a socket: nothing in between to fix up what is sent.


@dataclass(frozen=True)
class RawAnswer:
    status: int  # 0: the connection ended (or timed out) without an HTTP answer
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def head(method: str, target: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket) -> RawAnswer:
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        status_block, _, rest = received.partition(b"\r\n\r\n")
        if not status_block.startswith(b"HTTP/1."):
            return RawAnswer(0, {}, received)
        first, *header_lines = status_block.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return RawAnswer(int(first.split()[1]), headers, rest[:length])
    except (TimeoutError, ConnectionError):
        return RawAnswer(0, {}, received)


def raw_answer(
    runtime: RuntimeProcess, parts: list[bytes], timeout: float = 10, half_close: bool = False
) -> RawAnswer:
    """Send ``parts`` on one connection and read one answer."""
    with socket.create_connection(("127.0.0.1", runtime.port), timeout=timeout) as sock:
        try:
            for part in parts:
                sock.sendall(part)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except ConnectionError:
            pass  # the runtime may answer and close before everything is sent
        return read_answer(sock)


def exchange_raw(
    runtime: RuntimeProcess, label: str, parts: list[bytes], timeout: float = 10, half_close: bool = False
) -> RawAnswer:
    """``raw_answer``, tallied under ``runtime <label>``."""
    answer = raw_answer(runtime, parts, timeout, half_close)
    TALLY[(f"runtime {label}", answer.status)] += 1
    return answer
