#!/usr/bin/env python3
"""Draws bench/soak's slices (slices.tsv) with matplotlib: throughput, p50/p99 beside the machine's load
average, RSS, threads and open files. With bench/soak --nmt's table (nmt/categories.tsv beside slices.tsv)
it also draws memory.svg: where the resident memory is, slice by slice (Java heap, the JVM's other native
memory by NMT category, and what lies outside NMT: ONNX Runtime's and glibc's).

Runs with the conformance venv's Python (conformance/setup pins matplotlib there); bench/soak finds it.
Usage: soak-chart.py slices.tsv chart.svg|chart.png [title]
"""
import csv
import os
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
    if "load1" in rows[0]:
        load = axes[0][1].twinx()
        load.plot(slices, col("load1"), color="grey", linestyle="--", label="load average (1 min)")
        load.set_ylabel("load average")
        load.set_ylim(bottom=0)
        load.legend(loc="upper left")
    fig.savefig(sys.argv[2])
    categories = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "nmt", "categories.tsv")
    if os.path.exists(categories):
        memory_chart(read(categories), os.path.join(os.path.dirname(os.path.abspath(sys.argv[2])), "memory" + os.path.splitext(sys.argv[2])[1]), title)


def memory_chart(rows, path, title):
    """RSS and its parts per slice: the heap's resident pages, the JVM's other categories, outside NMT."""
    slices = [int(r["slice"]) for r in rows]
    col = lambda name: [float(r.get(name) or 0) for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    fig.suptitle(title + ": resident memory by owner")
    parts = [("Java heap (resident)", col("heap_rss_mb")),
             ("JVM non-heap (NMT committed)", col("nmt_non_heap_mb")),
             ("outside NMT (ONNX Runtime, glibc, mapped files)", col("outside_nmt_mb"))]
    left.stackplot(slices, *[p[1] for p in parts], labels=[p[0] for p in parts], alpha=0.8)
    left.plot(slices, col("rss_mb"), color="black", marker="o", label="RSS")
    left.set_xlabel("slice")
    left.set_ylabel("MiB")
    left.set_title("RSS = heap + JVM non-heap + outside NMT")
    left.legend(loc="lower right")
    left.grid(True, alpha=0.3)
    # change since slice 2 (where the RSS target starts) of each part and of the larger NMT categories
    base = next((i for i, s in enumerate(slices) if s == 2), 0)
    series = [("RSS", col("rss_mb")), ("Java heap (resident)", col("heap_rss_mb")), ("outside NMT", col("outside_nmt_mb")),
              ("glibc in use", col("glibc_in_use_mb"))]
    for name in ("metaspace_mb", "code_mb", "thread_mb", "class_mb", "gc_mb", "other_mb", "internal_mb", "symbol_mb"):
        # only the categories that moved: flat ones would crowd the legend (they are in categories.tsv)
        if name in rows[0] and max(col(name)) - min(col(name)) >= 0.2:
            series.append((name[:-3].replace("_", " ") + " (NMT)", col(name)))
    for label, values in series:
        right.plot(slices, [v - values[base] for v in values], marker=".", label=label)
    right.axhline(0, color="grey", linewidth=0.5)
    right.set_xlabel("slice")
    right.set_ylabel("MiB since slice 2")
    right.set_title("growth since slice 2")
    right.legend(loc="upper left", fontsize="small")
    right.grid(True, alpha=0.3)
    fig.savefig(path)


if __name__ == "__main__":
    main()
