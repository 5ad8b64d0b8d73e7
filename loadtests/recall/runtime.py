"""The product under test: ``agentic-memory serve`` as a subprocess with a fresh home and keys.

The benchmark speaks to it over HTTP only, as ElevenLabs would; the one thing it reads from the home
folder is the caller's brief (``archive/profiles/{caller}.json``, README "What is stored"), to know
when every call has been processed.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

HEALTH_TIMEOUT_SECONDS = 120
# Variables of the caller's own shell that would point the product elsewhere (a real Mem0 key, S3).
FOREIGN_PREFIXES = ("ELEVENLABS_", "MEM0_", "S3_", "ARCHIVE_", "MEMORY_", "AGENTIC_MEMORY_", "EMBEDDED_LLM_")


@dataclass
class RunningProduct:
    url: str
    home: Path  # AGENTIC_MEMORY_HOME
    hmac_key: str
    log: Path


class LocalRuntime:
    """``with LocalRuntime(port) as product:`` serves, waits for ``GET /health`` 200, and stops it
    (and removes its home) on the way out, also on Ctrl-C or an error.

    ``source``: a checkout of the repository to serve instead of the installed one (its folders go
    first on PYTHONPATH), to measure another revision with the same harness. ``environment``: extra
    settings for the product (``MEM0_SEARCH_LIMIT=5``, say).
    """

    def __init__(
        self,
        port: int | None = None,
        source: Path | None = None,
        environment: dict[str, str] | None = None,
        keep_home: bool = False,
    ) -> None:
        self._port = port or free_port()
        self._source = source
        self._environment = environment or {}
        self._keep_home = keep_home
        self._process: subprocess.Popen[bytes] | None = None
        self._home = Path(tempfile.mkdtemp(prefix="agentic-memory-recall-"))

    def __enter__(self) -> RunningProduct:
        hmac_key = f"whsec_recall_{secrets.token_hex(16)}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
        env |= {
            "AGENTIC_MEMORY_HOME": str(self._home),
            "ELEVENLABS_HMAC_KEY": hmac_key,
            "ELEVENLABS_WORKSPACE_KEY": f"wsk_recall_{secrets.token_hex(16)}",
            "AGENTIC_MEMORY_ADMIN_KEY": f"adm_recall_{secrets.token_hex(16)}",
            "CONSOLE_KEY": f"csk_recall_{secrets.token_hex(16)}",
            "MEM0_TELEMETRY": "false",
            "LOG_LEVEL": "WARNING",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            **self._environment,
        }
        if self._source is not None:
            paths = [str(self._source), str(self._source / "shared"), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
        log = self._home / "runtime.log"
        command = [_serve_command(), "serve", "--host", "127.0.0.1", "--port", str(self._port)]
        with log.open("wb") as output:
            self._process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{self._port}"
        try:
            self._wait_for_health(url, log)
        except BaseException:
            self._stop()
            raise
        return RunningProduct(url=url, home=self._home, hmac_key=hmac_key, log=log)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop()

    def _wait_for_health(self, url: str, log: Path) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"the local runtime exited:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the local runtime was not healthy within {HEALTH_TIMEOUT_SECONDS} s")

    def _stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._keep_home:
            print(f"kept the runtime's home: {self._home}", flush=True)
        else:
            shutil.rmtree(self._home, ignore_errors=True)


def _serve_command() -> str:
    """``agentic-memory`` beside this interpreter (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("agentic-memory")
    return str(beside) if beside.exists() else shutil.which("agentic-memory") or "agentic-memory"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
