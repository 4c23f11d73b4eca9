#!/usr/bin/env python3
"""Analysis speed: parse + analyse, in-process, against the targets.

    .venv/bin/python bench/analysis_bench.py [--runs 30]

Targets (issue 3): a tool-sized script (about 100 lines) in 10 ms or less
and a 1000-line script in 100 ms or less. Each script is timed with no
kernel facts and with this machine's (BTF and tracefs, caches warm).
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
from parse_bench import generated  # noqa: E402


def time_analysis(text: str, facts, runs: int) -> list[float]:
    analyse(text, facts)  # warm caches (grammar, BTF lookups)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        analyse(text, facts)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


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
        print(f"parse + analyse, {label}")
        for name, text, target in scripts:
            runs = args.runs if target == 10 else max(5, args.runs // 5)
            samples = time_analysis(text, facts, runs)
            median = statistics.median(samples)
            verdict = "within target" if median <= target else "OVER TARGET"
            print(f"  {name:<44} median {median:7.2f} ms  min {min(samples):7.2f} ms  (target {target} ms) {verdict}")


if __name__ == "__main__":
    main()
