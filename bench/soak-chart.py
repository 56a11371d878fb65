#!/usr/bin/env python3
"""Draws bench/soak's slices (slices.tsv) as one SVG: throughput, p50/p99, RSS, threads and open files.

Python's standard library only, so the chart needs nothing installed (matplotlib is not part of the
machines berth is built on). Usage: soak-chart.py slices.tsv chart.svg [title]
"""
import sys
from xml.sax.saxutils import escape

W, H = 900, 620
PANEL_W, PANEL_H = 380, 220
MARGIN_L, MARGIN_T = 70, 60


def read(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]
    return rows


def nice_max(v):
    if v <= 0:
        return 1.0
    for exp in range(-3, 12):
        for step in (1, 2, 2.5, 5):
            m = step * 10 ** exp
            if m >= v * 1.1:
                return m
    return v * 1.1


def panel(out, x0, y0, title, xs, series, unit):
    """series: list of (label, colour, values)"""
    top = nice_max(max((max(v) for _, _, v in series if v), default=1))
    out.append(f'<g transform="translate({x0},{y0})">')
    out.append(f'<text x="0" y="-12" font-size="14" font-weight="bold">{escape(title)}</text>')
    out.append(f'<rect x="0" y="0" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#999"/>')
    for i in range(5):
        y = PANEL_H - PANEL_H * i / 4
        value = top * i / 4
        out.append(f'<line x1="0" y1="{y:.1f}" x2="{PANEL_W}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="-6" y="{y + 4:.1f}" font-size="10" text-anchor="end">{value:g}</text>')
    n = len(xs)
    def px(i):
        return PANEL_W * (i + 0.5) / max(n, 1)
    for i, x in enumerate(xs):
        out.append(f'<text x="{px(i):.1f}" y="{PANEL_H + 14}" font-size="10" text-anchor="middle">{escape(x)}</text>')
    out.append(f'<text x="{PANEL_W / 2}" y="{PANEL_H + 30}" font-size="11" text-anchor="middle">slice</text>')
    out.append(f'<text x="-50" y="{PANEL_H / 2}" font-size="11" transform="rotate(-90 -50 {PANEL_H / 2})" text-anchor="middle">{escape(unit)}</text>')
    for k, (label, colour, values) in enumerate(series):
        pts = " ".join(f"{px(i):.1f},{PANEL_H - PANEL_H * v / top:.1f}" for i, v in enumerate(values))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(values):
            out.append(f'<circle cx="{px(i):.1f}" cy="{PANEL_H - PANEL_H * v / top:.1f}" r="3" fill="{colour}"/>')
        out.append(f'<rect x="{10 + k * 110}" y="8" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{24 + k * 110}" y="17" font-size="11">{escape(label)}</text>')
    out.append('</g>')


def main():
    rows = read(sys.argv[1])
    title = sys.argv[3] if len(sys.argv) > 3 else "bench/soak"
    xs = [r["slice"] for r in rows]
    col = lambda name: [float(r[name]) for r in rows]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{W / 2}" y="24" font-size="16" text-anchor="middle">{escape(title)}</text>']
    panel(out, MARGIN_L, MARGIN_T, "throughput", xs, [("req/s", "#1f77b4", col("rps"))], "requests / s")
    panel(out, MARGIN_L + PANEL_W + 60, MARGIN_T, "latency", xs,
          [("p50", "#2ca02c", col("p50_ms")), ("p99", "#d62728", col("p99_ms"))], "ms")
    panel(out, MARGIN_L, MARGIN_T + PANEL_H + 80, "resident memory", xs, [("RSS", "#9467bd", col("rss_mb"))], "MiB")
    panel(out, MARGIN_L + PANEL_W + 60, MARGIN_T + PANEL_H + 80, "threads and open files", xs,
          [("threads", "#8c564b", col("threads")), ("open files", "#ff7f0e", col("fds"))], "count")
    out.append('</svg>')
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
