"""Pre-call latency against the length of a caller's history: 1, 10, 100 and 500 past calls.

    .venv/bin/python loadtests/conversation_initiation_history_benchmark.py [--requests 40]
        [--sizes 1,10,100,500]

For each memory backend (the embedded Mem0 engine; the Mem0 Platform emulator at its published
latency; the emulator failing every request with 503) a local runtime is started on an archive that
holds, per caller, N recorded transcriptions under today's post-call keys and the caller brief the
processor keeps for them (built with the same fold, ``profile_store.rebuild_profile``). Mem0 holds
no memories for them: the pre-call reads none. Each pre-call is timed client-side over one
keep-alive connection and checked: greeted by name, ``memory_count`` equal to N. A benchmark, not a
test: numbers are for this machine only. The local HTTP server writes headers and body in two
segments, so Nagle's algorithm and delayed ACKs on loopback put a ~40 ms floor under every request
(samples fall on 44/48/52 ms steps); what matters here is that the figures do not grow with N.
"""

import argparse
import http.client
import json
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "shared"))

from run_load import start_runtime, stop_runtime  # noqa: E402

from agentic_memory.archive_keys import transcription_key  # noqa: E402
from agentic_memory.profile_store import rebuild_profile  # noqa: E402
from devtools.fixtures import load_fixture  # noqa: E402
from local_runtime.adapters.filesystem_archive import FilesystemArchive  # noqa: E402
from local_runtime.sender import rewrite  # noqa: E402

FIXTURE_CALLER = "+15550100142"
NAME = "Margaret"
FIRST_CALL = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def caller_for(size: int) -> str:
    return f"+1555020{size:04d}"


def seed_archive(root: Path, sizes: list[int]) -> None:
    """Per size, a caller with ``size`` archived transcriptions (one a day) and their brief."""
    archive = FilesystemArchive(root)
    template = load_fixture("transcription_twilio_inbound")
    for size in sizes:
        caller = caller_for(size)
        for number in range(size):
            conversation = f"conv_hist_{size:04d}_{number:04d}"
            event = rewrite(template, caller, conversation, FIXTURE_CALLER)
            event["data"]["metadata"]["start_time_unix_secs"] = int(
                (FIRST_CALL + timedelta(days=number)).timestamp()
            )
            archive.put(
                transcription_key(caller, conversation), json.dumps(event).encode(), "application/json"
            )
        rebuild_profile(archive, caller)


def timed_initiations(
    port: int, workspace_key: str, caller: str, count: int
) -> tuple[list[float], list[dict]]:
    body = json.dumps({**load_fixture("precall_twilio_inbound"), "caller_id": caller}).encode()
    headers = {"X-Workspace-Key": workspace_key, "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    samples, answers = [], []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("POST", "/client-data", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            samples.append(time.perf_counter() - started)
            answers.append(json.loads(payload)["dynamic_variables"] if response.status == 200 else {})
    finally:
        connection.close()
    return samples, answers


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(round(fraction * (len(ordered) - 1))), len(ordered) - 1)]


def measure(label: str, extra_env: dict[str, str], sizes: list[int], count: int) -> list[dict[str, Any]]:
    workspace_key = f"wsk_bench_{secrets.token_hex(8)}"
    keys = {"ELEVENLABS_WORKSPACE_KEY": workspace_key, "ELEVENLABS_HMAC_KEY": f"whsec_{secrets.token_hex(8)}"}
    rows = []
    with tempfile.TemporaryDirectory(prefix="agentic-memory-history-") as home:
        seed_archive(Path(home) / "archive", sizes)
        runtime, url = start_runtime(Path(home), {**keys, **extra_env})
        try:
            port = int(url.rsplit(":", 1)[1])
            for size in sizes:
                caller = caller_for(size)
                timed_initiations(port, workspace_key, caller, 3)  # warm-up
                samples, answers = timed_initiations(port, workspace_key, caller, count)
                named = sum(
                    a.get("caller_name") == NAME and a.get("memory_count") == str(size) for a in answers
                )
                rows.append(
                    {
                        "backend": label,
                        "calls": size,
                        "p50": statistics.median(samples) * 1000,
                        "p95": percentile(samples, 0.95) * 1000,
                        "named": f"{named}/{len(answers)}",
                    }
                )
                print(f"  {label:<34} {size:>5} calls: p50 {rows[-1]['p50']:6.1f} ms", flush=True)
        finally:
            stop_runtime(runtime)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=40, help="timed pre-calls per caller")
    parser.add_argument("--sizes", default="1,10,100,500", help="past calls per caller, comma-separated")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    from devtools.mem0_emulator import start_emulator

    rows = measure("embedded Mem0 engine", {}, sizes, args.requests)
    mem0_key = f"m0_bench_{secrets.token_hex(8)}"
    for label, behaviour in (
        ("Mem0 emulator, published latency", {}),
        ("Mem0 emulator, failing (503)", {"error_rate": 1.0}),
    ):
        emulator = start_emulator(profile="published", api_keys=[mem0_key], **behaviour)
        try:
            environment = {"MEM0_API_KEY": mem0_key, "MEM0_BASE_URL": emulator.url}
            rows += measure(label, environment, sizes, args.requests)
            mem0_requests = len(emulator.requests())
        finally:
            emulator.stop()
        print(f"  ({label}: {mem0_requests} requests reached Mem0 during the pre-calls)", flush=True)

    print(f"\npre-call latency by history length ({args.requests} requests per caller, this machine)")
    print(f"| {'memory backend':<34} | past calls | p50 ms | p95 ms | p95 / p95 at 1 | greeted by name |")
    print(f"|{'-' * 36}|-----------:|-------:|-------:|---------------:|----------------:|")
    for row in rows:
        first = next(r for r in rows if r["backend"] == row["backend"])
        ratio = row["p95"] / first["p95"] if first["p95"] else float("nan")
        print(
            f"| {row['backend']:<34} | {row['calls']:>10} | {row['p50']:6.1f} | {row['p95']:6.1f} "
            f"| {ratio:14.2f} | {row['named']:>15} |"
        )


if __name__ == "__main__":
    main()
