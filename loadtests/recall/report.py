"""The run's figures: one outcome per question, summed up as JSON and as a markdown table."""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .dataset import Question
from .harness import Ingest
from .scoring import THIRDS, percentile, ratio, recall, third_of

KINDS = ("single-hop", "multi-hop", "temporal")
SYSTEMS = {
    "product": "product (`/retrieve`)",
    "bm25_equal_characters": "BM25, equal characters",
    "bm25_same_results": "BM25, same number of results",
}


@dataclass(frozen=True)
class Outcome:
    """One question's results. Characters are the summed lengths of the returned texts."""

    question: Question
    product_hit: bool
    product_characters: int
    product_results: int
    latency_ms: float
    bm25_equal_characters_hit: bool
    bm25_characters: int
    bm25_results: int
    bm25_same_results_hit: bool
    note: str | None = None
    memories: tuple[str, ...] = ()  # the product's answer, kept in the JSON to read the misses


def summary(outcomes: Sequence[Outcome], dataset: str, ingest: Ingest, run_seconds: float) -> dict[str, Any]:
    """Recall per system (overall, per kind, and for single-hop facts per third of the call),
    answer sizes, retrieve latency and ingest time. Recall is a share 0..1, None with no questions."""
    hits: dict[str, Callable[[Outcome], bool]] = {
        "product": lambda o: o.product_hit,
        "bm25_equal_characters": lambda o: o.bm25_equal_characters_hit,
        "bm25_same_results": lambda o: o.bm25_same_results_hit,
    }
    groups = _groups(outcomes)
    recall_by_system = {
        system: {group: recall(hit(o) for o in members) for group, members in groups.items()}
        for system, hit in hits.items()
    }
    latencies = [o.latency_ms for o in outcomes]
    return {
        "dataset": dataset,
        "questions": len(outcomes),
        "questions_per_group": {group: len(members) for group, members in groups.items()},
        "recall": recall_by_system,
        "product_to_bm25_equal_characters": ratio(
            recall_by_system["product"]["all"], recall_by_system["bm25_equal_characters"]["all"]
        ),
        "answer_characters": _spread([o.product_characters for o in outcomes]),
        "bm25_equal_characters_characters": _spread([o.bm25_characters for o in outcomes]),
        "results_per_answer_mean": _mean([o.product_results for o in outcomes]),
        "bm25_results_per_answer_mean": _mean([o.bm25_results for o in outcomes]),
        "empty_answers": sum(1 for o in outcomes if o.product_results == 0),
        "answers_with_a_note": sum(1 for o in outcomes if o.note),
        "retrieve_latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)},
        "ingest_seconds": {
            "calls": ingest.calls,
            "total": ingest.total_seconds,
            "per_call_mean": ingest.total_seconds / ingest.calls if ingest.calls else 0.0,
            "posting": ingest.post_seconds,
            "post_to_processed_p50": percentile(ingest.per_call_seconds, 0.5),
            "post_to_processed_p95": percentile(ingest.per_call_seconds, 0.95),
            "failed_calls": ingest.failed,
        },
        "run_seconds": run_seconds,
    }


def _groups(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for kind in KINDS:
        groups[kind] = [o for o in outcomes if o.question["kind"] == kind]
    # Where in the call the fact was said: single-hop questions only (one fact, no date needed).
    for third in THIRDS:
        groups[f"single-hop, {third} third"] = [
            o for o in groups["single-hop"] if third_of(o.question["positions"][0]) == third
        ]
    return groups


def _spread(values: list[int]) -> dict[str, float]:
    return {"mean": _mean(values), "p95": percentile(values, 0.95), "max": max(values, default=0)}


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def markdown(figures: dict[str, Any]) -> str:
    """The table printed at the end of a run."""
    recall_by_system = figures["recall"]
    rows = [
        "| Evidence recall | " + " | ".join(SYSTEMS.values()) + " |",
        "|---|" + "---:|" * len(SYSTEMS),
    ]
    for group, count in figures["questions_per_group"].items():
        cells = " | ".join(_share(recall_by_system[system][group]) for system in SYSTEMS)
        rows.append(f"| {group} ({count}) | {cells} |")
    answer, bm25 = figures["answer_characters"], figures["bm25_equal_characters_characters"]
    rows.append(f"| characters per answer, mean / p95 / max | {_chars(answer)} | {_chars(bm25)} | |")
    rows.append(
        f"| results per answer, mean | {figures['results_per_answer_mean']:.1f} | "
        f"{figures['bm25_results_per_answer_mean']:.1f} | {figures['results_per_answer_mean']:.1f} |"
    )
    ingest, latency = figures["ingest_seconds"], figures["retrieve_latency_ms"]
    product_ratio = figures["product_to_bm25_equal_characters"]
    lines = [
        f"Data set `{figures['dataset']}`: {figures['questions']} questions.",
        "",
        *rows,
        "",
        f"- product / BM25 at equal characters: {_times(product_ratio)}",
        f"- retrieve latency: p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms "
        f"({figures['empty_answers']} empty answers, {figures['answers_with_a_note']} with a note)",
        f"- ingest: {ingest['calls']} calls in {ingest['total']:.0f} s from the first POST to the last call "
        f"processed ({ingest['per_call_mean']:.1f} s per call; each call "
        f"p50 {ingest['post_to_processed_p50']:.0f} s / p95 {ingest['post_to_processed_p95']:.0f} s "
        "from its POST)",
        f"- run: {figures['run_seconds']:.0f} s",
    ]
    if ingest["failed_calls"]:
        lines.insert(
            -1,
            f"- **{len(ingest['failed_calls'])} calls failed processing** (dead-lettered, their "
            f"evidence lost): {', '.join(ingest['failed_calls'])}",
        )
    return "\n".join(lines)


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _chars(spread: dict[str, float]) -> str:
    return f"{spread['mean']:,.0f} / {spread['p95']:,.0f} / {spread['max']:,.0f}"


def outcome_records(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Per question, for the JSON file: the question's fields and its results."""
    return [{**{k: v for k, v in asdict(o).items() if k != "question"}, **o.question} for o in outcomes]
