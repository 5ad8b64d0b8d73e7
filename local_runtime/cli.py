"""``agentic-memory``: run the local runtime and replay ElevenLabs traffic against any URL.

agentic-memory serve [--host 127.0.0.1] [--port 8080] [--allow-open-retrieve]
agentic-memory send FIXTURE_OR_FILE [--url URL] [--caller +1555...] [--conversation-id ID]
agentic-memory replay --caller C | --conversation ID | --dead-letter | --all [--since T] [--until T]
agentic-memory memories CALLER [--json]
agentic-memory forget CALLER [--yes]
agentic-memory smoke [--url URL] [--wait SECONDS] [--keep]
agentic-memory console --stack NAME [--bucket B] [--mem0-key-parameter P] [--port 8090]
"""

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from agentic_memory.errors import ConfigurationError
from agentic_memory.log_privacy import keep_third_party_logs_quiet
from agentic_memory.settings import Settings
from devtools.fixtures import fixture_names

from . import exposure, operator_commands, sender, smoke
from .console import command as console_command
from .dev_keys import ensure_dev_keys
from .home import HomeInUse, HomeLock, adopt_home


def adopt_aws_region(environ: MutableMapping[str, str]) -> None:
    """boto3 reads ``AWS_DEFAULT_REGION`` (or a profile), not ``AWS_REGION``, which people and Lambda
    also set: without this the commands against a stack stop with botocore's NoRegionError."""
    if environ.get("AWS_REGION") and not environ.get("AWS_DEFAULT_REGION"):
        environ["AWS_DEFAULT_REGION"] = environ["AWS_REGION"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="agentic-memory", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the three handlers locally (embedded memory, local archive)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        exposure.ALLOW_FLAG,
        action="store_true",
        help="on an address other than loopback, serve /retrieve without ELEVENLABS_TOOL_KEY: anyone "
        "who can reach it can read any caller's memories",
    )
    serve.add_argument(
        "--mem0-emulator",
        metavar="PROFILE",
        nargs="?",
        const="published",
        help="use Mem0 Platform through a local emulator (latency profile: published, none, slow)",
    )

    send = commands.add_parser(
        "send", help="sign and send a recorded payload (a fixture name or a JSON file)"
    )
    send.add_argument("payload", help=f"a fixture name ({', '.join(_safe_fixture_names())}) or a path")
    send.add_argument(
        "--url",
        default=None,
        help="the runtime or deployed API base URL, or a full endpoint URL "
        "(default: AGENTIC_MEMORY_URL, else http://127.0.0.1:$PORT, PORT defaulting to 8080)",
    )
    send.add_argument(
        "--route", choices=sorted(sender.ROUTES), help="override the route guessed from the payload"
    )
    send.add_argument("--caller", help="replace the caller's phone number everywhere in the payload")
    send.add_argument("--conversation-id", help="replace the conversation id (replay as a new call)")
    send.add_argument("--hmac-key", help="default: ELEVENLABS_HMAC_KEY or the local dev key")
    send.add_argument("--workspace-key", help="default: ELEVENLABS_WORKSPACE_KEY or the local dev key")
    send.add_argument("--tool-key", help="default: ELEVENLABS_TOOL_KEY when set")

    operator_commands.add_parsers(commands)
    smoke.add_parser(commands)
    console_command.add_parser(commands)

    args = parser.parse_args(argv)
    adopt_aws_region(os.environ)
    adopt_home(os.environ)  # absolute, whatever the working directory (local_runtime/home.py)
    try:
        return _run(args, argv)
    except BrokenPipeError:
        # The reader went away (`agentic-memory send … | head -1`): as other Unix tools, stop quietly.
        # stdout is pointed at /dev/null so that Python's flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ConfigurationError as error:
        # A setting that cannot configure the command: say which, not a traceback.
        print(f"agentic-memory {args.command}: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        # botocore's, matched by name (only adapters import boto3): a command against a stack whose
        # region is nowhere, neither in the environment nor in a profile.
        if type(error).__name__ != "NoRegionError":
            raise
        print(
            f"agentic-memory {args.command}: {console_command.no_region_message('<stack>')}", file=sys.stderr
        )
        return 2


def _run(args: argparse.Namespace, argv: list[str] | None) -> int:
    if args.command == "serve":
        return _serve(args.host, args.port, args.mem0_emulator, args.allow_open_retrieve)
    if args.command == "send":
        return sender.send_from_cli(args)
    if args.command == "smoke":
        return smoke.run(args)
    if args.command == "console":
        return console_command.run(args)
    return operator_commands.run(args, argv=list(sys.argv[1:] if argv is None else argv))


def _serve(
    host: str, port: int, mem0_emulator_profile: str | None = None, allow_open_retrieve: bool = False
) -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s"
    )
    keep_third_party_logs_quiet()
    refusal = exposure.open_retrieve_refusal(
        host, bool(os.environ.get("ELEVENLABS_TOOL_KEY", "").strip(" ,")), allow_open_retrieve
    )
    if refusal:
        print(f"agentic-memory serve: {refusal}", file=sys.stderr)
        return 2
    home = Path(os.environ["AGENTIC_MEMORY_HOME"])
    try:
        # One runtime per data folder, held until it stops; before anything in it is opened.
        home_lock = HomeLock.acquire(home, "serve")
    except HomeInUse as in_use:
        print(
            f"agentic-memory serve: {in_use}; stop it first, or set AGENTIC_MEMORY_HOME to another folder",
            file=sys.stderr,
        )
        return 2
    generated = ensure_dev_keys(os.environ, home)
    # The console: on a non-loopback address only with CONSOLE_KEY set in the environment.
    console_key = console_command.console_key_for(host, os.environ, generated)
    # Powertools writes one EMF metrics line per request to stdout; noise on a terminal.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    emulator = _start_mem0_emulator(mem0_emulator_profile) if mem0_emulator_profile else None
    settings = Settings.from_environment(os.environ)
    print(f"agentic-memory: starting (data in {settings.home.resolve()}) …", flush=True)
    started = time.monotonic()
    from .runtime import build_runtime

    try:
        runtime = build_runtime(settings, host, port, console_key=console_key, home_lock=home_lock)
    except OSError as error:
        print(f"agentic-memory: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        if emulator is not None:
            emulator.stop()
        return 2
    url = runtime.url
    # The server runs on its own thread; this one waits for Ctrl-C or SIGTERM, then stops it cleanly.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        serving = runtime.start_in_background()
        print(_banner(url, settings, generated, time.monotonic() - started, console_key), flush=True)
        while serving.is_alive() and not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()
        if emulator is not None:
            emulator.stop()
    return 0


def _start_mem0_emulator(profile: str) -> Any:
    """Mem0 Platform on loopback: the production memory path, without the internet."""
    import secrets

    from devtools.mem0_emulator import start_emulator

    key = f"m0_local_{secrets.token_hex(16)}"
    emulator = start_emulator(profile=profile, api_keys=[key])
    os.environ["MEM0_API_KEY"], os.environ["MEM0_BASE_URL"] = key, emulator.url
    print(f"agentic-memory: Mem0 Platform emulator ({profile} latency) at {emulator.url}", flush=True)
    return emulator


def _banner(
    url: str, settings: Settings, generated: list[str], elapsed: float, console_key: str | None = None
) -> str:
    def key_line(name: str, keys: tuple[SecretStr, ...]) -> str:
        # Only keys this command generated are shown: a key from the environment may be a real one.
        if name in generated:
            return f"  {name}={Settings.reveal(keys)[0]}"
        return f"  {name}: from the environment ({len(keys)} key(s), not shown)"

    memory = "Mem0 Platform" if settings.mem0_api_key else "embedded Mem0 open-source engine"
    archive = (
        f"s3://{settings.s3_bucket_name}"
        if settings.s3_bucket_name
        else str((settings.home / "archive").resolve())
    )
    tool = "required (ELEVENLABS_TOOL_KEY is set)" if settings.tool_keys else "not required"
    if not settings.tool_keys and not exposure.is_loopback(urlsplit(url).hostname or ""):
        tool = "not required: OPEN to anyone who can reach this address"
    return "\n".join(
        [
            f"agentic-memory: ready in {elapsed:.1f}s at {url}",
            f"  pre-call webhook   POST {url}/client-data   (header {settings.workspace_key_header})",
            f"  search_memory tool GET|POST {url}/retrieve  (X-Tool-Key {tool})",
            f"  post-call webhook  POST {url}/post-call     (header ElevenLabs-Signature)",
            f"  health             GET  {url}/health",
            *console_command.console_banner(url, console_key, generated),
            f"  memory: {memory}; archive: {archive}",
            "Keys"
            + (" (generated, kept in dev-keys.json; `agentic-memory send` uses them):" if generated else ":"),
            key_line("ELEVENLABS_WORKSPACE_KEY", settings.workspace_keys),
            key_line("ELEVENLABS_HMAC_KEY", settings.hmac_keys),
            "  The workspace key is the pre-call header's value (enter it in ElevenLabs to come here).",
            "  ElevenLabs generates its own post-call HMAC secret: to point ElevenLabs at this runtime,",
            "  restart with ELEVENLABS_HMAC_KEY=<that secret> (docs/deployment.md, 'A local runtime').",
            "Try:  agentic-memory send transcription_twilio_inbound",
            "then: agentic-memory send precall_twilio_inbound",
        ]
    )


def _safe_fixture_names() -> list[str]:
    try:
        return fixture_names()
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    sys.exit(main())
