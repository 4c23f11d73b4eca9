#!/usr/bin/env python3
"""Analysis speed: parse + analyse, in-process, against the targets.

    .venv/bin/python bench/analysis_bench.py [--runs 30]

Targets (issue 3): analysis of a tool-sized script (about 100 lines) in
10 ms or less and of a 1000-line script in 100 ms or less. Each script is
timed with no kernel facts and with this machine's (BTF and tracefs, caches
warm); the analysis alone (analyse() on a parsed program) is checked against
the target, and parse + analysis is shown beside it, as an editor pays both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from compiler.kernel.facts import NoFacts  # noqa: E402
from compiler.kernel.live import default_facts  # noqa: E402
from compiler.semantic.analysis import analyse  # noqa: E402
from compiler.syntax import parse  # noqa: E402
from parse_bench import generated  # noqa: E402


def time_analysis(text: str, facts, runs: int) -> tuple[list[float], list[float]]:
    """(analysis alone, parse + analysis) samples in ms."""
    parsed = parse(text)
    analyse(parsed, facts)  # warm caches (grammar, BTF lookups)
    alone, total = [], []
    for _ in range(runs):
        start = time.perf_counter()
        analyse(parsed, facts)
        alone.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        analyse(text, facts)
        total.append((time.perf_counter() - start) * 1000)
    return alone, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    corpus = sorted((ROOT / "tests" / "corpus").rglob("*.bt"), key=lambda p: -len(p.read_text()))
    scripts = [
        (f"largest corpus script ({corpus[0].name})", corpus[0].read_text(), 10),
        ("tool-sized, generated (~110 lines)", generated(100), 10),
        ("generated (~1000 lines)", generated(1000), 100),
    ]
    for label, facts in (("no kernel facts", NoFacts()), ("live kernel facts", default_facts())):
        print(f"{label}: analysis alone (target), and parse + analysis")
        for name, text, target in scripts:
            runs = args.runs if target == 10 else max(5, args.runs // 5)
            alone, total = time_analysis(text, facts, runs)
            median = statistics.median(alone)
            verdict = "within target" if median <= target else "OVER TARGET"
            print(
                f"  {name:<42} analysis {median:6.2f} ms ({verdict}, {target} ms)"
                f"   with parsing {statistics.median(total):6.2f} ms"
            )


if __name__ == "__main__":
    main()
