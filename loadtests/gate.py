"""The latency gate: p95 per route against the budgets, plus every failed check, at the end of a run.

Pre-calls are timed in three groups, each held to the pre-call budget: new callers (no brief yet),
returning callers of the pool, and the seeded callers with long histories (100 and 500 past calls).
``long_history`` in the summary sets the long-history callers' p50/p95 beside new callers': the
brief makes a caller's 500th call cost what their first does, and the gate shows it on every run.

Budgets (milliseconds, configurable): LOAD_BUDGET_PRECALL_MS (500), LOAD_BUDGET_RETRIEVE_MS (300),
LOAD_BUDGET_POSTCALL_MS (100, the acknowledgement). The run exits non-zero on a breach or on any
failed check. A table is printed and ``summary.json`` written to LOAD_RESULTS_DIR (when set).
"""

import json
import os
from pathlib import Path
from typing import Any

TRANSCRIPTION_ROUTE = "POST /post-call transcription"
INITIATION_ROUTE = "POST /client-data"
NEW_CALLER_ROUTE = "POST /client-data new caller"
# Same name as scenarios.LONG_HISTORY_ROUTE (the gate imports nothing of the product).
LONG_HISTORY_ROUTE = "POST /client-data long-history"
AUDIO_ROUTE = "POST /post-call audio"
ROUTE_BUDGETS = {
    INITIATION_ROUTE: "LOAD_BUDGET_PRECALL_MS",
    NEW_CALLER_ROUTE: "LOAD_BUDGET_PRECALL_MS",
    LONG_HISTORY_ROUTE: "LOAD_BUDGET_PRECALL_MS",
    "GET /retrieve": "LOAD_BUDGET_RETRIEVE_MS",
    "POST /retrieve": "LOAD_BUDGET_RETRIEVE_MS",
    TRANSCRIPTION_ROUTE: "LOAD_BUDGET_POSTCALL_MS",
    AUDIO_ROUTE: "LOAD_BUDGET_POSTCALL_MS",
}
DEFAULT_MAX_DEGRADED_RATIO = 0.01
DEFAULT_BUDGETS_MS = {
    "LOAD_BUDGET_PRECALL_MS": 500,
    "LOAD_BUDGET_RETRIEVE_MS": 300,
    "LOAD_BUDGET_POSTCALL_MS": 100,
}


def budget_ms(route: str, environ: dict[str, str] | os._Environ[str] = os.environ) -> float:
    variable = ROUTE_BUDGETS[route]
    return float(environ.get(variable) or DEFAULT_BUDGETS_MS[variable])


def summarise(
    routes: dict[str, dict[str, float]], environ: Any = os.environ, degraded: dict[str, int] | None = None
) -> dict[str, Any]:
    """Judge per-route figures ``{route: {requests, failures, p50, p95, p99, rps}}`` against the budgets.

    ``degraded`` counts answers made without memory, per route; more than LOAD_MAX_DEGRADED_RATIO
    (default 1 %) of a route's requests is a breach.
    """
    breaches, judged = [], {}
    max_degraded = float(environ.get("LOAD_MAX_DEGRADED_RATIO") or DEFAULT_MAX_DEGRADED_RATIO)
    for route, figures in sorted(routes.items()):
        figures = {**figures, "degraded": float((degraded or {}).get(route, 0))}
        if figures["requests"] and figures["degraded"] / figures["requests"] > max_degraded:
            breaches.append(
                f"{route}: {int(figures['degraded'])} answers without memory "
                f"({figures['degraded'] / figures['requests']:.1%} > {max_degraded:.1%})"
            )
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
    if (environ.get("LOAD_LONG_HISTORY") or "").strip() and LONG_HISTORY_ROUTE not in routes:
        breaches.append(f"{LONG_HISTORY_ROUTE}: callers were seeded but none was called")
    return {
        "long_history": long_history_comparison(judged),
        "routes": judged,
        "requests": total_requests,
        "failures": sum(f["failures"] for f in routes.values()),
        "degraded": sum(f["degraded"] for f in judged.values()),
        "rps": round(sum(f["rps"] for f in routes.values()), 2),
        "passed": not breaches,
        "breaches": breaches,
    }


def long_history_comparison(routes: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Pre-call p50/p95 of the long-history callers beside new callers', and their p95 ratio; None
    when the run made no long-history pre-call."""
    long, new = routes.get(LONG_HISTORY_ROUTE), routes.get(NEW_CALLER_ROUTE)
    if long is None:
        return None
    compared: dict[str, Any] = {"long_history": {"p50": long["p50"], "p95": long["p95"]}}
    if new is not None:
        compared["new_callers"] = {"p50": new["p50"], "p95": new["p95"]}
        compared["p95_ratio"] = round(long["p95"] / new["p95"], 2) if new["p95"] else None
    return compared


_WIDTHS = (32, 9, 7, 7, 7, 7, 7, 8, 7)


def _row(cells: tuple[str, ...], verdict: str = "") -> str:
    first, *rest = cells
    return (
        f"{first:<{_WIDTHS[0]}}"
        + "".join(f"{c:>{w}}" for c, w in zip(rest, _WIDTHS[1:], strict=True))
        + verdict
    )


def table(summary: dict[str, Any]) -> str:
    lines = [_row(("route", "requests", "fails", "no-mem", "p50", "p95", "p99", "budget", "rps"), "  ok")]
    for route, f in summary["routes"].items():
        budget = f"{f['budget_ms']:.0f}" if f["budget_ms"] is not None else "-"
        ok = not any(breach.startswith(route + ":") for breach in summary["breaches"])
        cells = (
            route,
            f"{f['requests']:.0f}",
            f"{f['failures']:.0f}",
            f"{f['degraded']:.0f}",
            f"{f['p50']:.0f}",
            f"{f['p95']:.0f}",
            f"{f['p99']:.0f}",
            budget,
            f"{f['rps']:.1f}",
        )
        lines.append(_row(cells, "  yes" if ok else "  NO"))
    totals = (f"{summary['requests']:.0f}", f"{summary['failures']:.0f}", f"{summary['degraded']:.0f}")
    lines.append(_row(("all routes", *totals, "", "", "", "", f"{summary['rps']:.1f}")))
    compared = summary.get("long_history")
    if compared:
        long = compared["long_history"]
        line = f"pre-call, long-history callers: p50 {long['p50']:.0f} ms, p95 {long['p95']:.0f} ms"
        if "new_callers" in compared:
            new = compared["new_callers"]
            line += f"; new callers: p50 {new['p50']:.0f} ms, p95 {new['p95']:.0f} ms"
            line += f" (p95 ratio {compared['p95_ratio']})" if compared.get("p95_ratio") else ""
        lines.append(line)
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


def apply(environment: Any, degraded: dict[str, int] | None = None) -> None:
    """Locust ``quitting`` hook: print the table, write summary.json, set the exit code."""
    summary = summarise(route_figures(environment), degraded=degraded)
    print(table(summary), flush=True)
    results = os.environ.get("LOAD_RESULTS_DIR")
    if results:
        Path(results).mkdir(parents=True, exist_ok=True)
        (Path(results) / "summary.json").write_text(json.dumps(summary, indent=2))
    environment.process_exit_code = 0 if summary["passed"] else 1
