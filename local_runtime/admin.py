"""Operator commands through a running local runtime: the embedded Mem0 store allows one process, so
while ``agentic-memory serve`` runs, ``memories``, ``forget``, ``replay``, ``profiles`` and
``retention`` are run inside it.

The runtime writes ``$AGENTIC_MEMORY_HOME/runtime.json`` (``{"url", "pid"}``) when it is ready and
removes it when it stops. It answers ``POST /admin/commands`` with ``{"argv": [...]}`` only from a
loopback address and only with the admin key (``X-Admin-Key``; ``AGENTIC_MEMORY_ADMIN_KEY`` or the dev
key kept in ``dev-keys.json``), since a tunnel to the runtime also arrives from loopback. The answer is
``{"exit_code": int, "output": str, "errors": str}``: what the command would have printed.
"""

import contextlib
import hmac
import io
import ipaddress
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .dev_keys import ensure_dev_key, first_key

ADMIN_KEY_VARIABLE = "AGENTIC_MEMORY_ADMIN_KEY"
ADMIN_HEADER = "X-Admin-Key"
COMMANDS_PATH = "/admin/commands"
ROUTED_COMMANDS = frozenset(
    {"memories", "forget", "replay", "profiles", "retention"}
    | {"rename", "memory", "remove-call", "export", "corrections"}
)
# Replaying a whole archive can take minutes; the answer comes at the end.
REMOTE_TIMEOUT_SECONDS = 3600
CommandRunner = Callable[[list[str]], int]

if TYPE_CHECKING:  # Starlette is imported by the runtime only: the CLI's own commands stay quick to start
    from starlette.requests import Request
    from starlette.responses import Response


def runtime_file(home: Path) -> Path:
    return home / "runtime.json"


def announce(home: Path, url: str) -> None:
    """Tell operator commands where this runtime listens (removed again by ``withdraw``)."""
    home.mkdir(parents=True, exist_ok=True)
    runtime_file(home).write_text(json.dumps({"url": url, "pid": os.getpid()}))


def withdraw(home: Path) -> None:
    with contextlib.suppress(OSError):
        if json.loads(runtime_file(home).read_text()).get("pid") == os.getpid():
            runtime_file(home).unlink()


def admin_key(environ: Mapping[str, str], home: Path) -> str:
    """The runtime's admin key: the environment's, else the dev key (generated once, kept 0600)."""
    return environ.get(ADMIN_KEY_VARIABLE) or ensure_dev_key(home, ADMIN_KEY_VARIABLE, "adm")


def running_runtime(home: Path) -> str | None:
    """The URL of the runtime serving ``home``, if one holds it (local_runtime/home.py) and answers its
    health check; else None. A ``runtime.json`` whose runtime is gone (killed) is not trusted: another
    runtime, on another home, may listen on its port by now."""
    from .home import in_use

    holder = in_use(home)
    if holder is None or holder.command != "serve" or not holder.url:
        return None
    return holder.url if answers(holder.url) else None


def answers(url: str) -> bool:
    """Whether a runtime answers ``GET /health`` at ``url``."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 (our own file)
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def run_remotely(url: str, argv: list[str], environ: Mapping[str, str], home: Path) -> int:
    """Run ``argv`` inside the runtime at ``url``; print what it printed; its exit code."""
    key = first_key(environ, home, ADMIN_KEY_VARIABLE)
    request = urllib.request.Request(
        url + COMMANDS_PATH,
        data=json.dumps({"argv": argv}).encode(),
        headers={"Content-Type": "application/json", ADMIN_HEADER: key or ""},
        method="POST",
    )
    print(f"(through the running runtime at {url})", file=sys.stderr, flush=True)
    try:
        with urllib.request.urlopen(request, timeout=REMOTE_TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        print(f"the runtime refused the command ({error.code}): {error.read().decode()}", file=sys.stderr)
        return 2
    print(answer.get("output", ""), end="")
    if answer.get("errors"):
        print(answer["errors"], end="", file=sys.stderr)
    return int(answer.get("exit_code", 1))


class CommandEndpoint:
    """``POST /admin/commands``: runs one operator command at a time with the runtime's backends."""

    def __init__(self, key: str, runner: CommandRunner) -> None:
        self._key = key
        self._runner = runner
        # print() goes to sys.stdout, which is swapped for the command's duration: one command at a time.
        self._one_at_a_time = threading.Lock()

    async def handle(self, request: "Request") -> "Response":
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        if not _loopback(request.client.host if request.client else ""):
            return _refused(403, "forbidden", "operator commands are accepted from this machine only")
        given = request.headers.get(ADMIN_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._key.encode()):
            return _refused(401, "unauthorized", f"missing or wrong {ADMIN_HEADER}")
        try:
            argv = (await request.json())["argv"]
            if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return _refused(400, "bad_request", 'expected {"argv": ["memories", "+15550100123"]}')
        if argv[0] not in ROUTED_COMMANDS:
            return _refused(400, "bad_request", f"not an operator command: {argv[0]}")
        return JSONResponse(await run_in_threadpool(self._run, argv))

    def _run(self, argv: list[str]) -> dict[str, object]:
        output, errors = io.StringIO(), io.StringIO()
        with self._one_at_a_time, contextlib.redirect_stdout(output), contextlib.redirect_stderr(errors):
            try:
                code = self._runner(argv)
            except SystemExit as exit_:  # argparse: bad arguments, --help
                code = exit_.code if isinstance(exit_.code, int) else 2
        return {"exit_code": code, "output": output.getvalue(), "errors": errors.getvalue()}


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(status: int, error: str, detail: str) -> "Response":
    from starlette.responses import JSONResponse

    return JSONResponse({"error": error, "detail": detail}, status_code=status)
