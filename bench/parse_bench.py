#!/usr/bin/env python3
"""Parser speed: in-process timings against the targets, and `btc --check`
beside bpftrace 0.17 on the same script.

    .venv/bin/python bench/parse_bench.py [--runs 30]

Targets (issue 2): a tool-sized script (about 100 lines) in 10 ms or less,
a generated 1000-line script in 100 ms or less, in-process. The side-by-side
run compares whole commands: `btc --check FILE` (start Python, parse) with
`bpftrace -d FILE` (0.17 has no --dry-run; -d parses, checks and compiles
without attaching). They do different amounts of work; the ratio says what
a user waits for when asking either tool "is this script valid?".
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compiler.syntax import parse  # noqa: E402

PROBE_TEMPLATE = """\
// Probe {n}: latency of a syscall pair, keyed by process.
tracepoint:syscalls:sys_enter_{call},
tracepoint:syscalls:sys_enter_{other}
/pid != 0 && comm != "bpftrace"/
{{
  @start{n}[tid] = nsecs;
  $flags = args.fd & 0x3;
  if ($flags == 1 || @seen{n}[comm] > 10) {{
    @seen{n}[comm]++;
  }}
}}

tracepoint:syscalls:sys_exit_{call}
/@start{n}[tid]/
{{
  $us = (nsecs - @start{n}[tid]) / 1000;
  @lat{n}[comm] = hist($us);
  @max{n} = max($us);
  printf("%-16s %6d %8d us\\n", comm, pid, $us);
  delete(@start{n}, tid);
}}
"""


# Real syscalls that take a file descriptor, in pairs that share `args.fd`.
CALLS = [("read", "write"), ("pread64", "pwrite64"), ("readv", "writev"), ("fsync", "fdatasync"),
         ("close", "syncfs"), ("fchmod", "fchown"), ("lseek", "ftruncate")]  # fmt: skip


def generated(lines: int) -> str:
    """A realistic script of about `lines` lines: probes on real syscall
    tracepoints with maps, predicates, conditions and printf."""
    parts = ["#!/usr/bin/env bpftrace", 'BEGIN { printf("Tracing...\\n"); }', ""]
    n = 0
    while sum(p.count("\n") + 1 for p in parts) < lines:
        call, other = CALLS[n % len(CALLS)]
        parts.append(PROBE_TEMPLATE.format(n=n, call=call, other=other))
        n += 1
    return "\n".join(parts)


def time_parse(text: str, runs: int) -> list[float]:
    result = parse(text)
    assert not result.diagnostics, result.diagnostics[:3]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        parse(text)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def time_command(argv: list[str], runs: int) -> list[float] | None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, timeout=60)
        samples.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            return None
    return samples


def ensure_tracefs() -> None:
    """bpftrace 0.17 reads tracepoint formats from tracefs; mount it if we can."""
    if not Path("/sys/kernel/tracing/events").exists():
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], capture_output=True)


def row(name: str, samples: list[float], target: float | None = None) -> str:
    median = statistics.median(samples)
    verdict = "" if target is None else ("  within target" if median <= target else "  OVER TARGET")
    limit = "" if target is None else f" (target {target:.0f} ms)"
    return f"{name:<44} median {median:7.2f} ms  min {min(samples):7.2f} ms{limit}{verdict}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()

    corpus = sorted((ROOT / "tests" / "corpus").rglob("*.bt"), key=lambda p: -len(p.read_text()))
    largest = corpus[0]
    tool_100 = generated(100)
    big_1000 = generated(1000)

    print("In-process parse (warm: grammar loaded)")
    print(row(f"largest corpus script ({largest.name}, {largest.read_text().count(chr(10))} lines)",
              time_parse(largest.read_text(), args.runs), 10))  # fmt: skip
    print(row(f"tool-sized, generated ({tool_100.count(chr(10))} lines)", time_parse(tool_100, args.runs), 10))
    print(row(f"generated ({big_1000.count(chr(10))} lines)", time_parse(big_1000, max(5, args.runs // 5)), 100))

    print("\nWhole commands, side by side, on our old-style scripts (bpftrace 0.17 accepts them)")
    bpftrace = shutil.which("bpftrace")
    if bpftrace is None:
        print("bpftrace is not installed: run ./scripts/install.sh")
        return
    ensure_tracefs()
    for script in sorted((ROOT / "tests" / "corpus" / "old").glob("*.bt")):
        theirs = time_command([bpftrace, "-d", str(script)], args.runs)
        if theirs is None:
            print(f"{script.name:<28} bpftrace -d rejects it here (e.g. kfunc probes); skipped")
            continue
        ours = time_command([sys.executable, "-m", "compiler", "--check", str(script)], args.runs)
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(
            f"{script.name:<28} btc --check {statistics.median(ours):6.1f} ms   "
            f"bpftrace -d {statistics.median(theirs):6.1f} ms   btc/bpftrace = {ratio:.2f}"
        )


if __name__ == "__main__":
    main()
