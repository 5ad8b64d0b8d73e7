"""``agentic-memory smoke [--url URL]``: one made-up caller's whole story against a runtime or a stack,
then erased.

In the order a real caller meets them: the pre-call webhook greets a new caller; a signed post-call
transcription is acknowledged; processing makes the next pre-call greet the caller by name (polled
until ``--wait`` seconds); the ``search_memory`` tool finds what they said; ``forget`` erases the caller.
The caller is a fresh number in the fictional +1 555 range and the conversation a fresh id, so a
smoke test never touches a real caller. Keys come from the same places as ``send``'s.

``forget`` runs through the local runtime's admin API when the URL is that runtime's; against a stack
it runs here when the environment names the stack's archive and Mem0 key (``S3_BUCKET_NAME``,
``MEM0_API_KEY_PARAMETER`` or ``MEM0_API_KEY``); otherwise the exact command to run is printed and
the exit code is 1. Exit 0 means every step passed and nothing was left behind.
"""

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import admin, sender

NEW_CALLER = "no"
CALLER_NAME = "Margaret"  # who introduces herself in the recorded transcription
POLL_SECONDS = 1.0


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    smoke = commands.add_parser(
        "smoke", help="pre-call, post-call, returning pre-call and search for a made-up caller, then forget"
    )
    smoke.add_argument(
        "--url", help="as for send (default: AGENTIC_MEMORY_URL, else the local runtime on PORT)"
    )
    smoke.add_argument("--wait", type=float, default=120, help="seconds to wait for processing (default 120)")
    smoke.add_argument("--keep", action="store_true", help="leave the made-up caller in place (no forget)")


def run(args: argparse.Namespace) -> int:
    home = Path(os.environ.get("AGENTIC_MEMORY_HOME", ".agentic-memory"))
    base = (args.url or sender.default_url(os.environ)).rstrip("/")
    keys = sender.keys_from_environment(os.environ, home)
    caller = f"+1555019{secrets.randbelow(10_000):04d}"
    conversation = f"conv_smoke{secrets.token_hex(8)}"
    print(f"smoke test against {base} as made-up caller {caller}, conversation {conversation}")

    def call(fixture: str) -> tuple[int, Any]:
        payload = sender.load_payload(fixture)
        payload = sender.rewrite(payload, caller, conversation, sender.caller_in(payload))
        request = sender.build_request(payload, sender.route_of(payload), base, keys)
        status, body = sender.send(request)
        try:
            return status, json.loads(body)
        except json.JSONDecodeError:
            return status, body

    try:
        passed = _steps(call, args.wait)
    except urllib.error.URLError as error:
        print(f"FAIL cannot reach {base}: {error.reason}")
        return 2
    if args.keep:
        print(f"kept: erase later with `agentic-memory forget {caller} --yes`")
        return 0 if passed else 1
    return _forget(caller, base, home) if passed else max(1, _forget(caller, base, home))


def _steps(call: Callable[[str], tuple[int, Any]], wait: float) -> bool:
    status, answer = call("precall_twilio_inbound")
    variables = answer.get("dynamic_variables", {}) if isinstance(answer, dict) else {}
    if not _check(
        "pre-call greets a new caller",
        status == 200 and variables.get("returning_caller") == NEW_CALLER,
        status,
        answer,
    ):
        return False
    status, answer = call("transcription_twilio_inbound")
    if not _check("post-call transcription acknowledged", status == 200, status, answer):
        return False
    deadline = time.monotonic() + wait
    status, answer = _until(lambda: call("precall_twilio_inbound"), _greets_by_name, deadline)
    if not _check(
        f"processed: the next pre-call greets {CALLER_NAME} by name",
        _greets_by_name(status, answer),
        status,
        answer,
    ):
        return False
    # Mem0 Platform may still be extracting the memories (an add answers PENDING): polled as well.
    status, answer = _until(lambda: call("tool_search_post"), _finds, deadline)
    found = len(answer.get("memories", [])) if isinstance(answer, dict) else 0
    return _check(
        f"search_memory finds what was said ({found} memories)", _finds(status, answer), status, answer
    )


def _greets_by_name(status: int, answer: Any) -> bool:
    variables = answer.get("dynamic_variables", {}) if isinstance(answer, dict) else {}
    return status == 200 and variables.get("caller_name") == CALLER_NAME


def _finds(status: int, answer: Any) -> bool:
    return status == 200 and isinstance(answer, dict) and bool(answer.get("memories"))


def _until(
    attempt: Callable[[], tuple[int, Any]], done: Callable[[int, Any], bool], deadline: float
) -> tuple[int, Any]:
    """``attempt()`` again every ``POLL_SECONDS`` until ``done`` or the deadline; the last answer."""
    while True:
        status, answer = attempt()
        if done(status, answer) or time.monotonic() > deadline:
            return status, answer
        time.sleep(POLL_SECONDS)


def _check(step: str, ok: bool, status: int, answer: Any) -> bool:
    print(
        f"{'ok  ' if ok else 'FAIL'} {step}" + ("" if ok else f": HTTP {status} {json.dumps(answer)[:300]}")
    )
    return ok


def _forget(caller: str, base: str, home: Path) -> int:
    argv = ["forget", caller, "--yes"]
    runtime = admin.running_runtime(home)
    if runtime is not None and runtime.rstrip("/") == base:
        code = admin.run_remotely(runtime, argv, os.environ, home)
    elif any(os.environ.get(name) for name in ("S3_BUCKET_NAME",)):
        from . import operator_commands

        code = operator_commands.run(operator_commands.parse(argv))
    else:
        print(
            f"FAIL not cleaned up: run `agentic-memory forget {caller} --yes` with the stack's "
            "S3_BUCKET_NAME and MEM0_API_KEY_PARAMETER set (docs/deployment.md, 'Smoke test')",
            file=sys.stderr,
        )
        return 1
    print(f"{'ok  ' if code == 0 else 'FAIL'} forget: the made-up caller is erased")
    return code
