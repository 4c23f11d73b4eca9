#!/usr/bin/env python3
"""Backend: btc running programs, side by side with bpftrace 0.17.

    .venv/bin/python bench/backend_bench.py [--only startup,xlated,drain,mapprint,rss]
                                            [--runs 3] [--events 200000] [--rates 0,200000]
                                            [--keys 100000] [--phases]

Needs root, bpftool and bpftrace; the printf-drain and map-print cases also
need a C compiler (bench/drivers/syscall_loop.c is built at run time;
without cc they are skipped). Targets (btc/bpftrace ratio of medians):

  startup   `BEGIN { exit(); }` whole-process wall time        <= 0.4
  xlated    xlated instruction slots of three one-liners        <= 1.0
  drain     printf events drained to a file (-o), none lost     >= 1.0 events/s
  mapprint  100k-key map printed at exit, SIGINT to exit        <= 0.3
  rss       peak RSS of a tracepoint script running for 1 s     <= 1.0

btc runs with its object cache in a private directory (warmed by an untimed
first run); startup and rss also show `BTC_NO_CACHE=1` runs, where every
run parses, analyses and compiles with LLVM. Runs are interleaved
(bpftrace, btc, ...) so drift on this shared machine hits both. Runs on
shared tracepoints are filtered on a pid the bench owns, except the
instruction counts (see backend_cases.py). Each tool process is a direct
child, bounded by a deadline, stopped with SIGINT (resent every few seconds:
bpftrace 0.17 sometimes ignores one), SIGKILLed as a last resort; nothing
stays attached. The default is a quick run (about two minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backend_cases import Bench, Row, rss, startup, xlated  # noqa: E402
from backend_events import drain, mapprint  # noqa: E402
from backend_phases import phases  # noqa: E402
from backend_procs import build_driver, cleanup, tools  # noqa: E402

CASES = ("startup", "xlated", "drain", "mapprint", "rss")


def fmt(value: float, unit: str) -> str:
    if unit == "events/s":
        return f"{value:,.0f}/s"
    if unit == "insns":
        return f"{value:g}"
    return f"{value:,.1f} {unit}"


def cell(samples: list[float], unit: str, why: str | None, otherwise: str) -> str:
    """The median, and why some runs are missing (e.g. they lost events)."""
    if not samples:
        return why or otherwise
    return fmt(statistics.median(samples), unit) + (f" ({why})" if why else "")


def table(rows: list[Row]) -> str:
    head = ["measurement", "bpftrace", "btc", "btc/bpftrace", "target", "met"]
    lines = []
    for row in rows:
        theirs = cell(row.theirs, row.unit, row.missing.get("bpftrace"), "no data (see below)")
        ours = cell(row.ours, row.unit, row.missing.get(row.btc_label), "failed (see below)")
        ratio = row.ratio()
        sign = ">=" if row.higher_is_better else "<="
        met = {True: "yes", False: "NO", None: "?"}[row.met()]
        label = row.name if row.btc_label == "btc" else f"{row.name} [{row.btc_label}]"
        n = f" (n={len(row.theirs)}/{len(row.ours)})"
        lines.append([label + n, theirs, ours, "-" if ratio is None else f"{ratio:.2f}",
                      f"{sign} {row.target:g}" if row.target is not None else "", met])  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]  # fmt: skip
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |" for line in lines]
    return "\n".join(out)


def preflight() -> str:
    """Why the bench cannot run here, or ''."""
    if os.geteuid() != 0:
        return "needs root (it loads BPF programs)"
    for tool in ("bpftrace", "bpftool"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: run ./scripts/install.sh"
    if not Path("/sys/kernel/tracing/events").exists():
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], capture_output=True)
    return ""


def compile_bytecode() -> None:
    """Byte-compile btc's modules first, as scripts/install.sh does: a
    module edited since its .pyc was written is otherwise compiled again by
    every run (PYTHONDONTWRITEBYTECODE keeps it from being saved), which
    would time the compile instead of btc."""
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "compiler")],
                   capture_output=True, check=False)  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool and case (startup: 2x this)")
    ap.add_argument("--events", type=int, default=200_000,
                    help="printf drain: events per run (btc's 4 MiB ring holds about 100k)")
    ap.add_argument("--rates", default="0,200000",
                    help="printf drain: comma-separated driver paces in calls/s (0 = flat out)")
    ap.add_argument("--keys", type=int, default=100_000, help="map print: keys in the map")
    ap.add_argument("--phases", action="store_true",
                    help="also time btc's phases (imports, compile, load...)")
    args = ap.parse_args()
    chosen = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = set(chosen) - set(CASES)
    if unknown:
        ap.error(f"unknown case(s) {', '.join(sorted(unknown))}; pick from {', '.join(CASES)}")
    problem = preflight()
    if problem:
        print(f"backend_bench: {problem}", file=sys.stderr)
        return 1

    compile_bytecode()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="btls-backend-bench-") as workdir:
        binary, why = (None, "not needed")
        if {"drain", "mapprint"} & set(chosen):
            binary, why = build_driver(workdir)
        bench = Bench(tools(os.path.join(workdir, "cache")), workdir, args.runs, binary, why)
        rows: list[Row] = []
        try:
            for case in chosen:
                print(f"running {case}...", file=sys.stderr, flush=True)
                if case == "startup":
                    rows += startup(bench, 2 * args.runs)
                elif case == "xlated":
                    rows += xlated(bench)
                elif case == "drain":
                    rows += drain(bench, args.events, [int(r) for r in args.rates.split(",") if r.strip()])
                elif case == "mapprint":
                    rows += mapprint(bench, args.keys)
                elif case == "rss":
                    rows += rss(bench)
            if args.phases:
                print("timing btc's phases...", file=sys.stderr, flush=True)
                phase_text = phases(bench)
        finally:
            cleanup()

    print(f"\nbtc vs bpftrace 0.17 (medians; {time.monotonic() - started:.0f} s in all)\n")
    print(table(rows))
    notes = [(row.name, note) for row in rows for note in row.notes]
    if notes:
        print("\nPer-run details")
        for name, note in notes:
            print(f"- {name}: {note}")
    if args.phases:
        print("\n" + phase_text)
    for skipped in bench.skipped:
        print(f"\nSkipped {skipped}")
    if bench.failures:
        print("\nFailures (runs left out of the medians)")
        for failure in bench.failures:
            print(f"- {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
