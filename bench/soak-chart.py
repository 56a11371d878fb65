#!/usr/bin/env python3
"""Draws bench/soak's slices (slices.tsv) with matplotlib: throughput, p50/p99, RSS, threads and open files.

Runs with the conformance venv's Python (conformance/setup pins matplotlib there); bench/soak finds it.
Usage: soak-chart.py slices.tsv chart.svg|chart.png [title]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

# text stays text in the SVG (searchable, and smaller than glyph outlines)
matplotlib.rcParams["svg.fonttype"] = "none"


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def main():
    rows = read(sys.argv[1])
    title = sys.argv[3] if len(sys.argv) > 3 else "bench/soak"
    slices = [int(r["slice"]) for r in rows]
    col = lambda name: [float(r[name]) for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    fig.suptitle(title)
    panels = [
        (axes[0][0], "throughput", "requests / s", [("req/s", "rps")]),
        (axes[0][1], "latency", "ms", [("p50", "p50_ms"), ("p99", "p99_ms")]),
        (axes[1][0], "resident memory", "MiB", [("RSS", "rss_mb")]),
        (axes[1][1], "threads and open files", "count", [("threads", "threads"), ("open files", "fds")]),
    ]
    for ax, name, unit, series in panels:
        for label, column in series:
            ax.plot(slices, col(column), marker="o", label=label)
        ax.set_title(name)
        ax.set_xlabel("slice")
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
    fig.savefig(sys.argv[2])


if __name__ == "__main__":
    main()
