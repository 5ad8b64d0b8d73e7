"""``agentic-memory console``: the console on this machine against a deployed stack, and the console
key of ``agentic-memory serve``.

``console --stack NAME`` reads the stack's archive bucket (the ``archiveBucketName`` output, from
``pulumi stack output`` when the Pulumi CLI is installed, else ``--bucket``) and its Mem0 key from SSM
(``/agentic-memory/NAME/mem0-api-key``, as the stack stores it; ``--mem0-key-parameter`` overrides),
with the user's own AWS credentials, and serves the console on 127.0.0.1 only: never a public endpoint.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

from agentic_memory.adapters.ssm_parameters import resolve_secret_parameters
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies

from ..backends import dependencies_from
from .access import console_allowed

CONSOLE_KEY = "CONSOLE_KEY"
LOOPBACK = "127.0.0.1"
PROJECT = "agentic-memory"
BUCKET_OUTPUT = "archiveBucketName"


def console_key_for(host: str, environ: Mapping[str, str], generated: list[str]) -> str | None:
    """The key ``serve`` guards its console with, or None to serve no console: on a non-loopback
    address only a key set in the environment counts (a generated one is not explicit)."""
    if not console_allowed(host, CONSOLE_KEY not in generated):
        return None
    return environ.get(CONSOLE_KEY) or None


def console_banner(url: str, key: str | None, generated: list[str]) -> list[str]:
    if key is None:
        return ["  console            off: not on a non-loopback address without CONSOLE_KEY set"]
    shown = f"CONSOLE_KEY={key}" if CONSOLE_KEY in generated else "CONSOLE_KEY from the environment"
    return [f"  console            GET  {url}/console       (sign in with {shown})"]


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    console = commands.add_parser(
        "console", help="the operator's console on 127.0.0.1 against a deployed stack's archive and Mem0"
    )
    console.add_argument("--stack", required=True, help="the Pulumi stack (dev, staging, prod)")
    console.add_argument(
        "--bucket", help="the archive bucket (default: the stack's archiveBucketName output)"
    )
    console.add_argument(
        "--mem0-key-parameter",
        help=f"the SSM parameter of the Mem0 key (default: /{PROJECT}/STACK/mem0-api-key)",
    )
    console.add_argument("--port", type=int, default=8090, help="the loopback port (default 8090)")


def run(args: argparse.Namespace) -> int:
    try:
        environ = stack_environment(os.environ, args.stack, args.bucket, args.mem0_key_parameter)
    except LookupError as error:
        print(f"agentic-memory console: {error}", file=sys.stderr)
        return 2
    key = os.environ.get(CONSOLE_KEY) or secrets.token_urlsafe(24)
    server = serve_stack_console(environ, key, args.port)
    print(f"agentic-memory console: stack {args.stack} at {server.url}/console", flush=True)
    shown = "CONSOLE_KEY from the environment" if CONSOLE_KEY in os.environ else f"CONSOLE_KEY={key}"
    print(f"  sign in with {shown}")
    print("  (on 127.0.0.1 only; Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def stack_environment(
    environ: Mapping[str, str], stack: str, bucket: str | None, mem0_key_parameter: str | None
) -> dict[str, str]:
    """The environment of the stack's console: its bucket and its Mem0 key, read from SSM.

    Raises ``LookupError`` when the bucket is neither given nor readable from Pulumi.
    """
    bucket = bucket or _pulumi_output(stack, BUCKET_OUTPUT)
    if not bucket and shutil.which("pulumi") is None:
        raise LookupError(
            f"the Pulumi CLI is not installed here, so stack {stack}'s archive bucket cannot be read: pass "
            f"--bucket (`pulumi stack output {BUCKET_OUTPUT} --stack {stack}` prints it where the CLI is)"
        )
    if not bucket:
        raise LookupError(
            f"the archive bucket of stack {stack} is unknown: pass --bucket "
            f"(`pulumi stack output {BUCKET_OUTPUT} --stack {stack}` prints it)"
        )
    chosen: MutableMapping[str, str] = {
        name: value for name, value in environ.items() if not name.startswith(("MEM0_API_KEY", "S3_"))
    }
    chosen["S3_BUCKET_NAME"] = bucket
    chosen["MEM0_API_KEY_PARAMETER"] = mem0_key_parameter or f"/{PROJECT}/{stack}/mem0-api-key"
    try:
        return resolve_secret_parameters(chosen)
    except Exception as error:
        # botocore's, matched by name: only adapters import boto3.
        if type(error).__name__ != "NoRegionError":
            raise
        raise LookupError(no_region_message(stack)) from None


def no_region_message(stack: str) -> str:
    return (
        f'no AWS region: export AWS_DEFAULT_REGION="$(pulumi config get -s {stack} aws:region)" '
        "(or AWS_REGION, or use a profile that names one)"
    )


def stack_dependencies(environ: Mapping[str, str]) -> Dependencies:
    return dependencies_from(Settings.from_environment(environ))


def serve_stack_console(environ: Mapping[str, str], key: str, port: int = 0) -> Any:
    """A server of the console alone, on 127.0.0.1:``port``, over the stack's archive and Mem0."""
    from ..server import LocalRuntimeServer
    from .routes import console_routes

    routes = console_routes(stack_dependencies(environ), key)
    server = LocalRuntimeServer((LOOPBACK, port), {}, extra_routes=routes)
    server.ready.set()
    return server


def _pulumi_output(stack: str, name: str) -> str | None:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    try:
        done = subprocess.run(
            [pulumi, "stack", "output", name, "--stack", stack],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
