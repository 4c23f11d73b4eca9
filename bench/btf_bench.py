#!/usr/bin/env python3
"""Kernel facts speed: one struct lookup from vmlinux BTF in a fresh
process, cold and with the index cache; plus a tracepoint format and a
full `-l` listing for scale.

    .venv/bin/python bench/btf_bench.py [--runs 11] [--btf /sys/kernel/btf/vmlinux]

Targets: `struct task_struct` with its fields in 300 ms or less without a
cache, 5 ms or less with it. Each sample is a new interpreter; only the
lookup is timed (open the file, index or load the cache, decode the
record), not the imports. Prints medians (and min/max) in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LOOKUP = """
import sys, time
from compiler.kernel.btf import KernelBTF
path, cache, expect_cached = sys.argv[1], sys.argv[2], sys.argv[3] == "cached"
start = time.perf_counter()
btf = KernelBTF.open(path, cache_dir=None if cache == "-" else cache)
record = btf.record("struct", "task_struct")
fields = [(f.name, f.type) for f in record.fields]
elapsed = time.perf_counter() - start
assert fields and btf.from_cache == expect_cached, btf.from_cache
print(elapsed * 1000)
"""

TRACEPOINT = """
import time
from compiler.kernel import tracefs
root = tracefs.find_tracefs()
start = time.perf_counter()
tp = tracefs.read_tracepoint(root, "syscalls", "sys_enter_openat")
elapsed = time.perf_counter() - start
assert tp is not None
print(elapsed * 1000)
"""

LISTING = """
import sys, time
from compiler.kernel.live import LiveFacts
from compiler.kernel.listing import list_probes
facts = LiveFacts(cache_dir=sys.argv[1])
start = time.perf_counter()
lines = list_probes(facts, None)
elapsed = time.perf_counter() - start
print(elapsed * 1000, len(lines))
"""


def sample(code: str, *args: str) -> list[str]:
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"sample failed:\n{run.stderr}")
    return run.stdout.split()


def report(label: str, values: list[float], target: float | None = None) -> None:
    median = statistics.median(values)
    verdict = "" if target is None else ("  ok" if median <= target else f"  OVER {target:g} ms")
    print(f"{label:<44} median {median:8.2f} ms  (min {min(values):.2f}, max {max(values):.2f},"
          f" n={len(values)}){verdict}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--btf", default="/sys/kernel/btf/vmlinux")
    args = parser.parse_args()

    no_cache = [float(sample(LOOKUP, args.btf, "-", "cold")[0]) for _ in range(args.runs)]
    report("task_struct, cold, no cache", no_cache, 300)

    writing = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            writing.append(float(sample(LOOKUP, args.btf, cache, "cold")[0]))
    report("task_struct, cold, writing the cache", writing, 300)

    with tempfile.TemporaryDirectory() as cache:
        sample(LOOKUP, args.btf, cache, "cold")  # fill it
        warm = [float(sample(LOOKUP, args.btf, cache, "cached")[0]) for _ in range(args.runs)]
        report("task_struct, with the cache", warm, 5)

        listing = [sample(LISTING, cache) for _ in range(max(3, args.runs // 3))]
        count = listing[0][1]
        report(f"list_probes(all), cached BTF ({count} lines)", [float(x[0]) for x in listing])

    try:
        tracepoint = [float(sample(TRACEPOINT)[0]) for _ in range(args.runs)]
        report("tracepoint syscalls:sys_enter_openat", tracepoint)
    except SystemExit as error:
        print(f"tracepoint: skipped ({str(error).splitlines()[-1]})")


if __name__ == "__main__":
    main()
