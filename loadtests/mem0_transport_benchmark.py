"""Benchmark of the Mem0 Platform client's transport: the hand-written one over ``http.client`` (as it was
before the client moved to urllib3) against the urllib3 one, measured in one run.

    .venv/bin/python loadtests/mem0_transport_benchmark.py [--calls 400] [--imports 9] [--faults 15]
        [--handwritten-from 7a1a909] [--python312 ~/.pyenv/versions/3.12.1/bin/python3.12]

- **Cold import**: ``import`` of the store module, and that import followed by ``prepare()`` (which
  loads the HTTP stack, as an init phase does), after the domain modules both import (errors, identity,
  ports: shown apart), in fresh interpreters (``-I``): medians of ``--imports``,
  on the development interpreter and on CPython 3.12 (the Lambda runtime's) with the artifact's
  dependencies and the runtime's SDK as the stack-in-a-box suite builds and installs them (skipped when
  absent). Neither carries bytecode there, so 3.12 compiles urllib3 from source: the real runtime's
  copy may come compiled. And once more on 3.12 after ``import botocore.httpsession``, as in a Lambda's
  Init, where the SSM secrets are read through boto3 (which loads urllib3) before the store is prepared.
- **Per-call overhead**: search and add against the Mem0 emulator (no injected latency) over loopback
  keep-alive, the two clients interleaved in blocks; medians and the ratio urllib3 / hand-written.
- **Deadlines under faults**: a read with a 0.2 s deadline when Mem0 answers after 1 s, resets the
  connection, answers 5xx, or drips a valid answer a byte every 20 ms. The time the call took beyond
  its deadline (negative: it returned before) and the error it raised.

The hand-written client is read from git history (``git show REV:shared/.../mem0_platform.py``): it is
not kept in the product. Numbers are for this machine only.
"""

import argparse
import importlib.util
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devtools.dripping_server import dripping_server

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / "shared"
sys.path.insert(0, str(SHARED))

HANDWRITTEN_PATH = "shared/agentic_memory/adapters/mem0_platform.py"
# The last commit with the hand-written transport.
HANDWRITTEN_REVISION = "7a1a909"
HANDWRITTEN_MODULE = "agentic_memory.adapters._mem0_platform_handwritten"
NEW_MODULE = "agentic_memory.adapters.mem0_platform"
CALLER = "+15550142001"
DEADLINE = 0.2


def handwritten_source(revision: str, folder: Path) -> Path:
    source = subprocess.run(
        ["git", "show", f"{revision}:{HANDWRITTEN_PATH}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = folder / "mem0_platform_handwritten.py"
    path.write_text(source)
    return path


def load_handwritten(path: Path) -> Any:
    """The old module, imported under agentic_memory.adapters so that its relative imports resolve."""
    spec = importlib.util.spec_from_file_location(HANDWRITTEN_MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[HANDWRITTEN_MODULE] = module
    spec.loader.exec_module(module)
    return module


def emulator_module() -> Any:
    return importlib.import_module("devtools.mem0_emulator")


# -- (a) cold import -------------------------------------------------------------------------------------

IMPORT_PROBE = """
import importlib.util, json, sys, time
sys.path[:0] = {path!r}
which, old_path, after_botocore = sys.argv[1], sys.argv[2], sys.argv[3] == "botocore"
if after_botocore:
    # As in a Lambda's Init, where the SSM secrets are read through boto3: botocore loads urllib3.
    import botocore.httpsession
begin = time.perf_counter()
# What both modules import from the domain package: loaded first, so that what follows is each one's own.
import agentic_memory.adapters, agentic_memory.errors, agentic_memory.identity, agentic_memory.ports
start = time.perf_counter()
if which == "handwritten":
    spec = importlib.util.spec_from_file_location({old_name!r}, old_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
else:
    import agentic_memory.adapters.mem0_platform as module
imported = time.perf_counter()
module.Mem0PlatformStore("m0-key", "http://127.0.0.1:9").prepare()
prepared = time.perf_counter()
print(json.dumps({{
    "domain": start - begin, "import": imported - start, "prepare": prepared - start,
}}))
"""


def cold_imports(
    python: str, path: list[str], old_path: Path, runs: int, after: str = "-"
) -> dict[str, dict[str, float]]:
    probe = IMPORT_PROBE.format(path=path, old_name=HANDWRITTEN_MODULE)
    samples: dict[str, dict[str, list[float]]] = {
        which: {"domain": [], "import": [], "prepare": []} for which in ("handwritten", "urllib3")
    }
    for _ in range(runs):
        for which in samples:  # interleaved, so that drift hits both alike
            done = subprocess.run(
                [python, "-I", "-B", "-c", probe, which, str(old_path), after],
                capture_output=True,
                text=True,
                timeout=60,
                cwd="/",
            )
            if done.returncode != 0:
                raise SystemExit(f"{python}: {done.stderr[-1500:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            for key in ("domain", "import", "prepare"):
                samples[which][key].append(result[key] * 1000)
    return {
        which: {key: statistics.median(values) for key, values in kinds.items()}
        for which, kinds in samples.items()
    }


def lambda_path() -> list[Path] | None:
    """The artifact's dependencies, then the runtime's SDK (boto3, botocore and the urllib3 they bring),
    as the stack-in-a-box suite installs them; None when that suite has not run."""
    box = REPO / "build" / "stack-in-a-box"
    trees = sorted((box / "lambda").glob("lambda-py3.12-*-tree"))
    sdks = sorted(box.glob("lambda-runtime-sdk-*"))
    return [trees[0], sdks[-1]] if trees and sdks else None


# -- (b) per-call overhead -------------------------------------------------------------------------------


def per_call(stores: dict[str, Any], calls: int, block: int = 50) -> dict[str, dict[str, float]]:
    timings: dict[str, dict[str, list[float]]] = {name: {"search": [], "add": []} for name in stores}
    for name, store in stores.items():  # warm: one connection open, caches filled
        store.add(f"{CALLER}-{name}", [message("My dog is called Biscuit")], {"type": "semantic"})
        for _ in range(20):
            store.search(f"{CALLER}-{name}", "dog", 3)
    done = 0
    while done < calls:
        for name, store in stores.items():
            user = f"{CALLER}-{name}"
            for _ in range(block):
                start = time.perf_counter()
                store.search(user, "what is my dog called", 3)
                timings[name]["search"].append(time.perf_counter() - start)
            for n in range(block):
                start = time.perf_counter()
                store.add(f"+1555{n:07d}-{name}", [message(f"Note {done + n}")], {"type": "semantic"})
                timings[name]["add"].append(time.perf_counter() - start)
        done += block
    return {
        name: {op: statistics.median(values) * 1e6 for op, values in ops.items()}
        for name, ops in timings.items()
    }


def message(text: str) -> Any:
    from agentic_memory.ports import ChatMessage

    return ChatMessage(role="user", content=text)


# -- (c) deadlines under faults ---------------------------------------------------------------------------


def error_name(error: BaseException) -> str:
    kind = getattr(error, "kind", None)
    return kind if kind else type(error).__name__


def deadlines(classes: dict[str, Any], emulator: Any, key: str, repeats: int) -> dict[str, dict[str, Any]]:
    stores = {name: cls(key, emulator.url, read_timeout=2.0) for name, cls in classes.items()}
    for store in stores.values():
        store.add(CALLER, [message("My dog is called Biscuit")], {"type": "semantic"})

    def with_faults(**changes: Any) -> Callable[[], None]:
        return lambda: emulator.configure(**changes)

    scenarios: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
        "delay 1 s": (
            with_faults(latency_by_operation={"search": 1.0}),
            with_faults(latency_by_operation={}),
        ),
        "reset, reset": (with_faults(next_faults=["reset", "reset"]), with_faults(next_faults=[])),
        "5xx, 5xx": (with_faults(next_faults=["error", "error"]), with_faults(next_faults=[])),
        "5xx, then delay 1 s": (
            with_faults(next_faults=["error"], latency_by_operation={"search": 1.0}),
            with_faults(next_faults=[], latency_by_operation={}),
        ),
    }
    results: dict[str, dict[str, Any]] = {}
    for scenario, (arm, disarm) in scenarios.items():
        samples: dict[str, list[float]] = {name: [] for name in stores}
        errors: dict[str, set[str]] = {name: set() for name in stores}
        for _ in range(repeats):
            for name, store in stores.items():
                arm()
                start = time.perf_counter()
                try:
                    store.search(CALLER, "dog", 3, timeout=DEADLINE)
                    errors[name].add("answered")
                except Exception as error:
                    errors[name].add(error_name(error))
                samples[name].append(time.perf_counter() - start - DEADLINE)
                disarm()
        results[scenario] = {name: summary(samples[name], errors[name]) for name in stores}
    with dripping_server() as url:
        drip_stores = {name: cls(key, url) for name, cls in classes.items()}
        samples = {name: [] for name in drip_stores}
        errors = {name: set() for name in drip_stores}
        for _ in range(repeats):
            for name, store in drip_stores.items():
                start = time.perf_counter()
                try:
                    store.list_all(CALLER, timeout=DEADLINE)
                    errors[name].add("answered")
                except Exception as error:
                    errors[name].add(error_name(error))
                samples[name].append(time.perf_counter() - start - DEADLINE)
        results["slow body (1 byte / 20 ms)"] = {
            name: summary(samples[name], errors[name]) for name in drip_stores
        }
    return results


def summary(overshoots: list[float], errors: set[str]) -> dict[str, Any]:
    return {
        "median_ms": statistics.median(overshoots) * 1000,
        "max_ms": max(overshoots) * 1000,
        "errors": sorted(errors),
    }


# -- the run ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=400, help="search and add calls per client")
    parser.add_argument("--imports", type=int, default=9, help="fresh interpreters per import measurement")
    parser.add_argument("--faults", type=int, default=15, help="repeats per fault scenario and client")
    parser.add_argument(
        "--handwritten-from", default=HANDWRITTEN_REVISION, help="git revision of the old client"
    )
    parser.add_argument(
        "--python312",
        default=os.path.expanduser("~/.pyenv/versions/3.12.1/bin/python3.12"),
        help="CPython 3.12",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args()

    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        old_path = handwritten_source(arguments.handwritten_from, Path(folder))
        print(f"cold import (ms, median of {arguments.imports} fresh interpreters)", flush=True)
        interpreters = {
            f"dev {sys.version_info.major}.{sys.version_info.minor}": (sys.executable, [str(SHARED)])
        }
        lambda_paths = lambda_path()
        if lambda_paths is not None and Path(arguments.python312).exists():
            path = [str(SHARED), *map(str, lambda_paths)]
            interpreters["3.12 artifact + SDK"] = (arguments.python312, path)
        else:
            print(
                "  (3.12 skipped: no artifact tree or runtime SDK in build/stack-in-a-box, or no python3.12)"
            )
        report["cold_import_ms"] = {}
        if lambda_paths is not None and Path(arguments.python312).exists():
            interpreters["3.12 after botocore"] = (arguments.python312, path)
        for label, (python, path) in interpreters.items():
            after = "botocore" if "botocore" in label else "-"
            medians = cold_imports(python, path, old_path, arguments.imports, after)
            report["cold_import_ms"][label] = medians
            domain = statistics.median([medians["handwritten"]["domain"], medians["urllib3"]["domain"]])
            print(f"  {label:22} {'domain modules first':20} {domain:7.1f} (both)")
            for what in ("import", "prepare"):
                old, new = medians["handwritten"][what], medians["urllib3"][what]
                shown = "import" if what == "import" else "import + prepare()"
                print(
                    f"  {label:22} {shown:20} hand-written {old:7.1f}  urllib3 {new:7.1f}"
                    f"  ratio {new / old:.2f}"
                )

        old_module = load_handwritten(old_path)
        from agentic_memory.adapters.mem0_platform import Mem0PlatformStore

        classes = {"handwritten": old_module.Mem0PlatformStore, "urllib3": Mem0PlatformStore}
        emulators = emulator_module()
        key = f"m0-bench-{secrets.token_hex(8)}"
        emulator = emulators.start_emulator(api_keys=[key], profile="none")
        try:
            stores = {
                name: cls(key, emulator.url, read_timeout=5.0, write_timeout=5.0)
                for name, cls in classes.items()
            }
            medians = per_call(stores, arguments.calls)
            report["per_call_us"] = medians
            print(f"per call over loopback keep-alive (µs, median of {arguments.calls} per client)")
            for op in ("search", "add"):
                old, new = medians["handwritten"][op], medians["urllib3"][op]
                print(f"  {op:8} hand-written {old:8.0f}  urllib3 {new:8.0f}  ratio {new / old:.2f}")
            results = deadlines(classes, emulator, key, arguments.faults)
            report["deadline_overshoot"] = results
            print(
                f"time beyond a {DEADLINE * 1000:.0f} ms deadline"
                f" (ms; median / max of {arguments.faults}; errors)"
            )
            for scenario, by_client in results.items():
                cells = "  ".join(
                    f"{name} {r['median_ms']:+7.1f} / {r['max_ms']:+7.1f} {','.join(r['errors'])}"
                    for name, r in by_client.items()
                )
                print(f"  {scenario:28} {cells}")
        finally:
            emulator.stop()
    if arguments.json:
        arguments.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
