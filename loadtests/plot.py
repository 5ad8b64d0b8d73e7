"""Latency over time from a Locust run's ``*_stats_history.csv`` (``--csv-full-history``), as a PNG.

.venv/bin/python loadtests/plot.py loadtests/results/<run>/locust_stats_history.csv out.png
"""

import csv
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display here
import matplotlib.pyplot as plt  # noqa: E402


def plot(history_csv: Path, output_png: Path) -> None:
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    start = None
    with history_csv.open() as file:
        for row in csv.DictReader(file):
            name, p95 = row.get("Name", ""), row.get("95%", "N/A")
            if name == "Aggregated" or p95 in ("N/A", "", "0"):
                continue
            moment = float(row["Timestamp"])
            start = moment if start is None else min(start, moment)
            series[name].append((moment, float(p95)))
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=110)
    for name, points in sorted(series.items()):
        axes.plot([t - (start or 0) for t, _ in points], [v for _, v in points], label=name)
    axes.set_xlabel("seconds into the run")
    for budget, label in ((500, "pre-call budget"), (300, "retrieve budget"), (100, "post-call ack budget")):
        axes.axhline(budget, color="grey", linestyle="--", linewidth=0.8)
        axes.annotate(label, (0, budget), textcoords="offset points", xytext=(2, 3), fontsize=7, color="grey")
    # Locust's history holds the percentile of a sliding window (about the last 10 s), not of the run.
    axes.set_ylabel("p95 latency (ms, sliding window)")
    axes.set_title("Agentic Memory: p95 latency per route over the run")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(output_png)
    plt.close(figure)


if __name__ == "__main__":
    plot(Path(sys.argv[1]), Path(sys.argv[2]))
