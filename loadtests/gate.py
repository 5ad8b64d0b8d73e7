"""The latency gate: p95 per route against the budgets, plus every failed check, at the end of a run.

Budgets (milliseconds, configurable): LOAD_BUDGET_PRECALL_MS (500), LOAD_BUDGET_RETRIEVE_MS (300),
LOAD_BUDGET_POSTCALL_MS (100, the acknowledgement). The run exits non-zero on a breach or on any
failed check. A table is printed and ``summary.json`` written to LOAD_RESULTS_DIR (when set).
"""

import json
import os
from pathlib import Path
from typing import Any

TRANSCRIPTION_ROUTE = "POST /post-call transcription"
AUDIO_ROUTE = "POST /post-call audio"
ROUTE_BUDGETS = {
    "POST /client-data": "LOAD_BUDGET_PRECALL_MS",
    "GET /retrieve": "LOAD_BUDGET_RETRIEVE_MS",
    "POST /retrieve": "LOAD_BUDGET_RETRIEVE_MS",
    TRANSCRIPTION_ROUTE: "LOAD_BUDGET_POSTCALL_MS",
    AUDIO_ROUTE: "LOAD_BUDGET_POSTCALL_MS",
}
DEFAULT_BUDGETS_MS = {
    "LOAD_BUDGET_PRECALL_MS": 500,
    "LOAD_BUDGET_RETRIEVE_MS": 300,
    "LOAD_BUDGET_POSTCALL_MS": 100,
}


def budget_ms(route: str, environ: dict[str, str] | os._Environ[str] = os.environ) -> float:
    variable = ROUTE_BUDGETS[route]
    return float(environ.get(variable) or DEFAULT_BUDGETS_MS[variable])


def summarise(routes: dict[str, dict[str, float]], environ: Any = os.environ) -> dict[str, Any]:
    """Judge per-route figures ``{route: {requests, failures, p50, p95, p99, rps}}`` against the budgets."""
    breaches, judged = [], {}
    for route, figures in sorted(routes.items()):
        budget = budget_ms(route, environ) if route in ROUTE_BUDGETS else None
        within = budget is None or figures["p95"] <= budget
        if not within:
            breaches.append(f"{route}: p95 {figures['p95']:.0f} ms > budget {budget:.0f} ms")
        if figures["failures"]:
            breaches.append(f"{route}: {int(figures['failures'])} failed checks")
        judged[route] = {**figures, "budget_ms": budget, "within_budget": within}
    total_requests = sum(f["requests"] for f in routes.values())
    if not total_requests:
        breaches.append("no request was made")
    return {
        "routes": judged,
        "requests": total_requests,
        "failures": sum(f["failures"] for f in routes.values()),
        "rps": round(sum(f["rps"] for f in routes.values()), 2),
        "passed": not breaches,
        "breaches": breaches,
    }


def table(summary: dict[str, Any]) -> str:
    lines = [
        f"{'route':<32}{'requests':>9}{'fails':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'budget':>8}{'rps':>7}  ok"
    ]
    for route, f in summary["routes"].items():
        budget = f"{f['budget_ms']:.0f}" if f["budget_ms"] is not None else "-"
        ok = "yes" if f["within_budget"] and not f["failures"] else "NO"
        lines.append(
            f"{route:<32}{f['requests']:>9.0f}{f['failures']:>7.0f}{f['p50']:>7.0f}{f['p95']:>7.0f}"
            f"{f['p99']:>7.0f}{budget:>8}{f['rps']:>7.1f}  {ok}"
        )
    lines.append(
        f"{'all routes':<32}{summary['requests']:>9.0f}{summary['failures']:>7.0f}"
        f"{'':>29}{summary['rps']:>7.1f}"
    )
    verdict = "PASSED" if summary["passed"] else "FAILED: " + "; ".join(summary["breaches"])
    return "\n".join(lines + [f"latency gate {verdict}"])


def route_figures(environment: Any) -> dict[str, dict[str, float]]:
    figures = {}
    for (name, _method), entry in environment.stats.entries.items():
        if not entry.num_requests and not entry.num_failures:
            continue
        figures[name] = {
            "requests": float(entry.num_requests),
            "failures": float(entry.num_failures),
            "p50": float(entry.get_response_time_percentile(0.5) or 0),
            "p95": float(entry.get_response_time_percentile(0.95) or 0),
            "p99": float(entry.get_response_time_percentile(0.99) or 0),
            "rps": float(entry.total_rps or 0),
        }
    return figures


def apply(environment: Any) -> None:
    """Locust ``quitting`` hook: print the table, write summary.json, set the exit code."""
    summary = summarise(route_figures(environment))
    print(table(summary), flush=True)
    results = os.environ.get("LOAD_RESULTS_DIR")
    if results:
        Path(results).mkdir(parents=True, exist_ok=True)
        (Path(results) / "summary.json").write_text(json.dumps(summary, indent=2))
    environment.process_exit_code = 0 if summary["passed"] else 1
