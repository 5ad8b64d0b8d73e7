"""The command line: ``python -m devtools.mem0_emulator --port 0 --profile published|none|slow``.

Starts an emulator, prints ``MEM0_BASE_URL`` and ``MEM0_API_KEY`` (a key it made up, or none if one was
given) and serves until SIGTERM or Ctrl-C. The ``published`` profile is Mem0's published search latency
(``docs/mem0-platform.md``, published latency; see ``latency``).
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
from typing import Any

from devtools.mem0_emulator.admin import start_emulator
from devtools.mem0_emulator.latency import PROFILES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.mem0_emulator",
        description="A Mem0 Platform emulator on loopback (see the module documentation).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="published", help="latency profile")
    parser.add_argument("--api-key", action="append", default=[], help="a key to accept (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, help="a fixed latency in seconds for every call")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of 5xx answers")
    parser.add_argument("--rate-limit-rate", type=float, default=0.0, help="share of 429 answers")
    parser.add_argument("--malformed-rate", type=float, default=0.0, help="share of non-JSON answers")
    args = parser.parse_args(argv)

    generated = not args.api_key
    keys = args.api_key or [f"m0-emulator-{secrets.token_hex(16)}"]
    behaviour: dict[str, Any] = {
        "error_rate": args.error_rate,
        "rate_limit_rate": args.rate_limit_rate,
        "malformed_rate": args.malformed_rate,
    }
    if args.latency is not None:
        behaviour["latency"] = args.latency
    try:
        emulator = start_emulator(args.host, args.port, args.profile, keys, seed=args.seed, **behaviour)
    except (OSError, ValueError) as error:
        print(f"mem0-emulator: cannot start: {error}", file=sys.stderr)
        return 2
    print(f"mem0-emulator: listening at {emulator.url} (profile {args.profile})", flush=True)
    print(f"MEM0_BASE_URL={emulator.url}", flush=True)
    # A key this command made up for a local emulator is no secret; one it was given is not echoed.
    print(f"MEM0_API_KEY={keys[0]}" if generated else "MEM0_API_KEY: as given with --api-key", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0
