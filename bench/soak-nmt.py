#!/usr/bin/env python3
"""Turns bench/soak --nmt's per-slice native memory summaries into one table (stdout, TSV).

Each row is one slice: the server's resident memory (from slices.tsv), what the JVM's native
memory tracking (NMT) says it has committed in all, the part of RSS NMT does not account for
(memory the JVM did not allocate itself: ONNX Runtime's and other native libraries' malloc and
glibc's arenas around them, plus mapped files such as libonnxruntime.so and the jars), and the
committed size of each NMT category. Sizes in MiB. Standard library only.

Usage: soak-nmt.py NMT_DIR slices.tsv > categories.tsv
"""
import csv
import os
import re
import sys
import xml.etree.ElementTree as ET

CATEGORY = re.compile(r"^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB")
TOTAL = re.compile(r"^Total: reserved=(\d+)KB, committed=(\d+)KB")
MALLOC = re.compile(r"^malloc: (\d+)KB")
HEAP_RSS = re.compile(r"heap_rss_mb=([0-9.]+)")


def parse(path):
    total, categories, extra = None, {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = HEAP_RSS.search(line)
            if m:
                extra["heap_rss"] = float(m.group(1))
            m = MALLOC.match(line.strip())
            if m and "jvm_malloc" not in extra:
                extra["jvm_malloc"] = int(m.group(1)) / 1024
            m = TOTAL.match(line.strip())
            if m:
                total = int(m.group(2)) / 1024
            m = CATEGORY.match(line.strip())
            if m:
                categories[m.group(1).strip()] = int(m.group(3)) / 1024
    return total, categories, extra


def glibc(path):
    """malloc_info's totals: bytes glibc took from the system, free within it, in large mmapped chunks; arenas."""
    if not os.path.exists(path):
        return {}
    root = ET.parse(path).getroot() if open(path, encoding="utf-8").read().lstrip().startswith("<") else None
    if root is None:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        start = text.find("<malloc")
        if start < 0:
            return {}
        root = ET.fromstring(text[start:text.rfind("</malloc>") + len("</malloc>")])
    out = {"arenas": len(root.findall("heap"))}
    for t in root.findall("total"):
        out["free_" + t.get("type")] = int(t.get("size")) / 2**20
    for t in root.findall("system"):
        out["system_" + t.get("type")] = int(t.get("size")) / 2**20
    return out


def main():
    nmt_dir, slices_tsv = sys.argv[1], sys.argv[2]
    with open(slices_tsv, encoding="utf-8", newline="") as f:
        slices = {row["slice"]: row for row in csv.DictReader(f, delimiter="\t")}
    rows, names = [], []
    for key in sorted(slices, key=int):
        path = os.path.join(nmt_dir, f"slice-{key}.txt")
        if not os.path.exists(path):
            continue
        total, categories, extra = parse(path)
        if total is None:
            continue
        extra.update(glibc(os.path.join(nmt_dir, f"malloc-{key}.xml")))
        for name in categories:
            if name not in names:
                names.append(name)
        rows.append((key, float(slices[key]["rss_mb"]), total, categories, extra))
    # outside_nmt: RSS minus the heap's resident pages minus every other NMT category's committed size (an
    # estimate: committed is not always resident, and the CDS archive is counted by NMT and as a mapped file)
    fixed = ["slice", "rss_mb", "heap_rss_mb", "nmt_committed_mb", "nmt_non_heap_mb", "outside_nmt_mb", "jvm_malloc_mb",
             "glibc_system_mb", "glibc_free_mb", "glibc_mmap_mb", "glibc_in_use_mb", "glibc_arenas"]
    print("\t".join(fixed + [n.replace(" ", "_").lower() + "_mb" for n in names]))
    for key, rss, total, categories, extra in rows:
        heap_rss = extra.get("heap_rss", 0.0)
        non_heap = total - categories.get("Java Heap", 0.0)
        system = extra.get("system_current", 0.0)
        free = extra.get("free_fast", 0.0) + extra.get("free_rest", 0.0)
        mmap = extra.get("free_mmap", 0.0)  # malloc_info's "mmap" total is chunks in use, mmapped on their own
        cells = [key, f"{rss:.1f}", f"{heap_rss:.1f}", f"{total:.1f}", f"{non_heap:.1f}", f"{rss - heap_rss - non_heap:.1f}",
                 f"{extra.get('jvm_malloc', 0.0):.1f}", f"{system:.1f}", f"{free:.1f}", f"{mmap:.1f}",
                 f"{system - free + mmap:.1f}", str(extra.get("arenas", ""))]
        cells += [f"{categories.get(n, 0):.1f}" for n in names]
        print("\t".join(cells))
    histogram_growth(nmt_dir, os.path.join(nmt_dir, "histogram-growth.txt"))


def histogram(path):
    """A class histogram (jcmd GC.class_histogram): class name -> (instances, bytes)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[0].endswith(":") and parts[1].isdigit():
                out[parts[3]] = (int(parts[1]), int(parts[2]))
    return out


def histogram_growth(nmt_dir, out_path, top=20):
    """The classes whose bytes on the heap (garbage included) grew most between the two -all histograms."""
    files = sorted((f for f in os.listdir(nmt_dir) if f.startswith("histogram-all-")), key=lambda f: int(f[14:-4]))
    if len(files) < 2:
        return
    first, last = histogram(os.path.join(nmt_dir, files[0])), histogram(os.path.join(nmt_dir, files[-1]))
    rows = sorted(((last[c][1] - first.get(c, (0, 0))[1], last[c][0] - first.get(c, (0, 0))[0], c) for c in last), reverse=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(f"heap (garbage included) from {files[0]} to {files[-1]}: "
                f"{sum(b for _, b in first.values()) / 2**20:.1f} -> {sum(b for _, b in last.values()) / 2**20:.1f} MiB\n")
        f.write("bytes_delta\tinstances_delta\tclass\n")
        for b, n, c in rows[:top]:
            f.write(f"{b}\t{n}\t{c}\n")


if __name__ == "__main__":
    main()
