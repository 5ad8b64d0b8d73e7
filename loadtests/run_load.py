"""``make load``: a bounded headless Locust run with the latency gate, locally or against a stack.

Locally (no --host): starts the Mem0 Platform emulator at a realistic latency profile and the local
runtime pointed at it, runs the scenarios, applies the gate, and stops everything. With --host (a
deployed stack's API URL) it runs the same scenarios there; keys come from the environment or, when
the Pulumi CLI is present, from the stack's config (`pulumi config get`).

Results go to loadtests/results/<run>/: Locust's CSV files, summary.json and latency.png.
Exit code: 0 when the gate passes, 1 on a breach or a failed check, 2 when the run could not start.
"""

import argparse
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY_CONFIG = {
    "ELEVENLABS_WORKSPACE_KEY": "elevenlabs:workspaceKey",
    "ELEVENLABS_HMAC_KEY": "elevenlabs:hmacKey",
    "ELEVENLABS_TOOL_KEY": "elevenlabs:toolKey",
}


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    run_dir = Path(args.results_dir) / (args.run_name or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    run_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"load run: {args.users} users, spawn {args.spawn_rate}/s, {args.duration}; results in {run_dir}",
        flush=True,
    )
    if args.host is not None:
        return _remote_run(args, run_dir)
    return _local_run(args, run_dir)


def _remote_run(args: argparse.Namespace, run_dir: Path) -> int:
    refusal = host_refusal(args.host)
    if refusal:
        print(f"make load: {refusal}", file=sys.stderr)
        return 2
    host = args.host.rstrip("/")
    # A deployed stack's archive is not ours to seed: its long-history callers are not timed.
    keys = {**_stack_keys(args.stack), "LOAD_LONG_HISTORY": ""}
    if "ELEVENLABS_TOOL_KEY" not in keys and demands_tool_key(host):
        stack = args.stack or "<stack>"
        print(
            "make load: this stack's search tool demands X-Tool-Key and no ELEVENLABS_TOOL_KEY is set: "
            f'export ELEVENLABS_TOOL_KEY="$(pulumi config get -s {stack} elevenlabs:toolKey)"',
            file=sys.stderr,
        )
        return 2
    # The made-up callers (+1555…, fictional numbers) are listed for clean-up: a stack keeps memories.
    seed = random.randrange(10_000_000)
    callers = caller_numbers(seed, int(os.environ.get("LOAD_CALLER_POOL", "200")))
    (run_dir / "callers.txt").write_text("\n".join(callers) + "\n")
    print(
        f"  {len(callers)} made-up callers {callers[0]}…, listed in {run_dir / 'callers.txt'}; the stack's "
        "API throttle (agentic-memory:api, §4.1: staging 25 requests/s, burst 50) answers 429 above it",
        flush=True,
    )
    status = _locust(args, host, {**keys, "LOAD_CALLER_SEED": str(seed)}, run_dir)
    print(
        "  to erase the load test's callers from the stack (docs/deployment.md §9 environment):\n"
        f"    xargs -I{{}} agentic-memory forget {{}} --yes < {run_dir / 'callers.txt'}",
        flush=True,
    )
    return status


def host_refusal(host: str) -> str | None:
    """Why ``host`` is not a deployed API's base URL, or None."""
    parsed = urllib.parse.urlsplit(host)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return (
            f"HOST must be the stack's API URL, https://<api>.execute-api.<region>.amazonaws.com "
            f"(`pulumi stack output clientDataUrl` without /client-data), not {host!r}"
        )
    return None


def demands_tool_key(host: str) -> bool:
    """Whether the stack's /retrieve answers 401 to a request without X-Tool-Key."""
    request = urllib.request.Request(f"{host}/retrieve", data=b"{}", method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10):
            return False
    except urllib.error.HTTPError as error:
        return error.code == 401
    except OSError:
        return False  # unreachable: Locust will say so


def caller_numbers(seed: int, size: int) -> list[str]:
    """The numbers scenarios.CallerPool draws from with this seed."""
    sys.path.insert(0, str(HERE))
    import scenarios

    pool = scenarios.CallerPool(size=size, seed=seed)
    return [pool.number(index) for index in range(size)]


def _local_run(args: argparse.Namespace, run_dir: Path) -> int:
    from devtools.mem0_emulator import start_emulator

    mem0_key = f"m0_load_{secrets.token_hex(12)}"
    keys = {
        "ELEVENLABS_WORKSPACE_KEY": f"wsk_load_{secrets.token_hex(12)}",
        "ELEVENLABS_HMAC_KEY": f"whsec_load_{secrets.token_hex(12)}",
    }
    emulator = start_emulator(profile=args.mem0_profile, api_keys=[mem0_key])
    if args.mem0_latency_ms is not None:
        emulator.configure(latency=args.mem0_latency_ms / 1000)
    print(
        f"  Mem0 emulator at {emulator.url} (profile {args.mem0_profile}"
        + (f", fixed {args.mem0_latency_ms} ms" if args.mem0_latency_ms is not None else "")
        + ")",
        flush=True,
    )
    home = Path(tempfile.mkdtemp(prefix="agentic-memory-load-"))
    runtime = None
    sizes = _seed_long_histories(home, args.long_history)
    try:
        runtime, url = start_runtime(home, {**keys, "MEM0_API_KEY": mem0_key, "MEM0_BASE_URL": emulator.url})
        print(f"  local runtime at {url}", flush=True)
        return _locust(args, url, {**keys, "LOAD_LONG_HISTORY": ",".join(map(str, sizes))}, run_dir)
    except RuntimeError as error:
        print(f"load run could not start: {error}", file=sys.stderr)
        return 2
    finally:
        if runtime is not None:
            stop_runtime(runtime)
        emulator.stop()
        if (home / "runtime.log").exists():
            shutil.copy(home / "runtime.log", run_dir / "runtime.log")
        shutil.rmtree(home, ignore_errors=True)


def _seed_long_histories(home: Path, text: str) -> tuple[int, ...]:
    """Briefs of the callers with long histories, in the local archive before the runtime starts."""
    from local_runtime.adapters.filesystem_archive import FilesystemArchive

    sys.path.insert(0, str(HERE))
    import scenarios

    sizes = scenarios.long_history_sizes(text)
    started = time.monotonic()
    scenarios.seed_long_histories(FilesystemArchive(home / "archive"), sizes)
    if sizes:
        calls = ", ".join(map(str, sizes))
        print(f"  seeded callers with {calls} past calls in {time.monotonic() - started:.2f}s", flush=True)
    return sizes


def stop_runtime(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def start_runtime(home: Path, extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``agentic-memory serve`` on a free loopback port with data in ``home``; returns it once healthy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "MEM0_", "S3_"))}
    env.update(
        {
            "AGENTIC_MEMORY_HOME": str(home),
            "LOG_LEVEL": "WARNING",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            **extra_env,
        }
    )
    log = (home / "runtime.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "local_runtime.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the local runtime exited; see runtime.log")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the local runtime did not become healthy")


def _locust(args: argparse.Namespace, host: str, keys: dict[str, str], run_dir: Path) -> int:
    env = {**os.environ, **keys, "LOAD_RESULTS_DIR": str(run_dir)}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        args.duration,
        "--stop-timeout",
        "5",
        "--csv",
        str(run_dir / "locust"),
        "--csv-full-history",
        "--only-summary",
        "--loglevel",
        "WARNING",
        *args.user_classes,
    ]
    result = subprocess.run(command, env=env, timeout=_seconds(args.duration) + 120)
    history = run_dir / "locust_stats_history.csv"
    if history.exists():
        subprocess.run(
            [sys.executable, str(HERE / "plot.py"), str(history), str(run_dir / "latency.png")], check=False
        )
    print(f"results: {run_dir}", flush=True)
    return result.returncode


def _stack_keys(stack: str | None) -> dict[str, str]:
    keys = {name: os.environ[name] for name in KEY_CONFIG if os.environ.get(name)}
    missing = [name for name in KEY_CONFIG if name not in keys]
    if missing and shutil.which("pulumi"):
        for name in missing:
            command = ["pulumi", "config", "get", KEY_CONFIG[name], *(["--stack", stack] if stack else [])]
            found = subprocess.run(command, capture_output=True, text=True, check=False)
            if found.returncode == 0 and found.stdout.strip():
                keys[name] = found.stdout.strip()
    for name in ("ELEVENLABS_WORKSPACE_KEY", "ELEVENLABS_HMAC_KEY"):
        if name not in keys:
            raise SystemExit(
                f"{name} is needed for a remote run: set it, or run where `pulumi config get` works"
            )
    return keys


def _seconds(duration: str) -> int:
    total = 0
    for amount, unit in re.findall(r"(\d+)([hms]?)", duration):
        total += int(amount) * {"h": 3600, "m": 60, "s": 1, "": 1}[unit]
    return total or 60


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("LOAD_HOST") or None,
        help="a deployed API's base URL (default: start the local runtime)",
    )
    parser.add_argument(
        "--stack", default=os.environ.get("LOAD_STACK"), help="Pulumi stack to read keys from"
    )
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", "20")))
    parser.add_argument("--spawn-rate", type=float, default=float(os.environ.get("LOAD_SPAWN_RATE", "5")))
    parser.add_argument("--duration", default=os.environ.get("LOAD_DURATION", "45s"))
    parser.add_argument("--mem0-profile", default=os.environ.get("LOAD_MEM0_PROFILE", "published"))
    parser.add_argument(
        "--mem0-latency-ms",
        type=float,
        default=None,
        help="a fixed Mem0 latency instead of the profile (to show the gate failing)",
    )
    parser.add_argument(
        "--long-history",
        default=os.environ.get("LOAD_LONG_HISTORY", "100,500"),
        help="past-call counts of the callers seeded before a local run (comma-separated; '' for none)",
    )
    parser.add_argument("--results-dir", default=str(HERE / "results"))
    parser.add_argument("--run-name", default=None)
    parser.add_argument("user_classes", nargs="*", help="Locust user classes (default: all)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
