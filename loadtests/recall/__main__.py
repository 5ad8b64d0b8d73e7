"""``make bench-recall``: evidence recall of the ``search_memory`` tool against BM25, in one run.

    .venv/bin/python -m loadtests.recall [--data fixtures/recall/memoir.json] [--quick | --limit-callers N]
                                         [--port N] [--source DIR] [--env NAME=VALUE ...] [--sequential]

Starts the local runtime with a fresh home, posts every call of the data set as a signed post-call
webhook, waits until all are processed, asks every question through ``POST /retrieve``, then runs
BM25 over the raw turns given the same characters. Prints a markdown table; writes the figures and
every question's outcome to ``build/bench-recall/<data set>-<UTC time>.json``. A call the product
fails to process (dead-lettered after its retries) is reported and its evidence counts as missed.
Exit code 0 when the run completed (recall is reported, not gated), 2 when it could not run.
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .baseline import fts5_available
from .dataset import DEFAULT_PATH, limited, load
from .evaluation import evaluate
from .harness import ask, ingest
from .report import markdown, outcome_records, summary
from .runtime import LocalRuntime

REPOSITORY = Path(__file__).resolve().parents[2]
RESULTS = REPOSITORY / "build" / "bench-recall"
DEFAULT_AGENT_ID = "agent_recall_benchmark"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not fts5_available():
        print(
            "bench-recall: this Python's SQLite has no FTS5, which the BM25 baseline needs", file=sys.stderr
        )
        return 2
    data = limited(load(args.data), 1 if args.quick else args.limit_callers)
    calls = sum(len(caller["calls"]) for caller in data["callers"])
    print(
        f"bench-recall: {data['name']} ({args.data}), {len(data['callers'])} callers, {calls} calls, "
        f"{len(data['questions'])} questions",
        flush=True,
    )
    started = time.monotonic()
    try:
        with LocalRuntime(args.port, args.source, dict(args.env), args.keep_home) as product:
            print(f"local runtime at {product.url} (home {product.home})", flush=True)
            print("ingesting through POST /post-call", flush=True)
            agent_id = data.get("agent_id") or DEFAULT_AGENT_ID
            ingested = ingest(product, data, agent_id, _progress, sequential=args.sequential)
            print("asking through POST /retrieve", flush=True)
            answers = ask(product, data["questions"], _progress)
    except (RuntimeError, OSError) as error:
        print(f"bench-recall could not run: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench-recall interrupted; the runtime was stopped", file=sys.stderr)
        return 130
    outcomes = evaluate(data, answers)
    figures = summary(outcomes, data["name"], ingested, time.monotonic() - started)
    print()
    print(markdown(figures))
    path = _write(figures, outcome_records(outcomes), data["name"], args)
    print(f"\nfigures and every question's outcome: {path}")
    return 0


def _progress(line: str) -> None:
    print(line, flush=True)


def _write(figures: dict, questions: list[dict], name: str, args: argparse.Namespace) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    run = {"data": str(args.data), "source": str(args.source or "installed"), "environment": dict(args.env)}
    path.write_text(json.dumps({**figures, "run": run, "outcomes": questions}, indent=1, ensure_ascii=False))
    return path


def _environment_setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench-recall", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_PATH, help="a recall data set (JSON)")
    parser.add_argument("--limit-callers", type=int, metavar="N", help="only the first N callers")
    parser.add_argument("--quick", action="store_true", help="a short run: the first caller only")
    parser.add_argument("--port", type=int, help="the runtime's port (default: a free one)")
    parser.add_argument(
        "--source", type=Path, help="serve this checkout of the repository instead of the installed product"
    )
    parser.add_argument(
        "--env",
        type=_environment_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the product (repeatable), e.g. MEM0_SEARCH_LIMIT=5",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="post each call only once the one before is processed (default: all at once, as a burst)",
    )
    parser.add_argument("--keep-home", action="store_true", help="keep the runtime's data folder afterwards")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
