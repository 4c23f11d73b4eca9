"""`backend_bench.py --phases`: where btc's startup time goes.

Times, in fresh interpreters (medians of the bench's runs): the bare
interpreter, btc's phases done by hand through its modules (imports,
analysis, codegen, load, a whole session), and the heaviest imports of a
cached `btc -e 'BEGIN { exit(); }'` from `python -X importtime`. It uses
btc's internal API, which may change; a phase that fails says so instead of
stopping the bench.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from backend_cases import BEGIN_EXIT, Bench
from backend_procs import ROOT

PHASES = r"""
import os, sys, time
clock = time.perf_counter
last = clock()
def mark(name):
    global last
    now = clock()
    print(f"{name}\t{(now - last) * 1000:.2f}")
    last = now
program = sys.argv[1]
from compiler.runtime.session import Session, SessionOptions
from compiler.runtime.loader import LoadedProgram
mark("import the runtime (session, loader, libbpf, output)")
from compiler.kernel.live import default_facts
from compiler.semantic.analysis import analyse
mark("import the frontend (grammar, analyser)")
from compiler.codegen.compile import Options, compile_program
mark("import codegen (llvmlite)")
facts = default_facts()
result = analyse(program, facts, name="-e")
assert not any(d.is_error for d in result.diagnostics), result.diagnostics
mark("parse + analyse")
compiled = compile_program(result, facts, Options(positional=("1",)), name="phases")
mark("codegen + LLVM -> BPF object")
with LoadedProgram(compiled):
    mark("libbpf open + load (verifier)")
mark("close the loaded program")
with open(os.devnull, "wb") as sink:
    Session(compiled, SessionOptions(output=sink, errors=sink)).run()
mark("a whole Session.run (load, BEGIN, exit, teardown)")
"""


def phases(bench: Bench) -> str:
    tool = bench.tools["btc"]
    env = {**os.environ, **tool.env}
    runs = max(3, bench.runs)
    lines = ["btc phases (fresh interpreter each run; medians of %d)" % runs]

    floor = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], env=env, timeout=30)
        floor.append((time.monotonic() - start) * 1000)
    lines.append(f"  {'python -c pass (interpreter floor)':<52} {statistics.median(floor):8.1f} ms")

    for program in (BEGIN_EXIT, "tracepoint:syscalls:sys_enter_read /pid == $1/ { @ = hist(args->count); } "
                    "interval:ms:1 { exit(); }"):  # fmt: skip
        samples: dict[str, list[float]] = {}
        problem = ""
        for _ in range(runs):
            done = subprocess.run([sys.executable, "-c", PHASES, program], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            for line in done.stdout.splitlines():
                name, _, ms = line.partition("\t")
                samples.setdefault(name, []).append(float(ms))
            if done.returncode != 0:
                problem = (done.stderr.strip().splitlines() or ["?"])[-1]
        lines.append(f"  program: {program}")
        for name, values in samples.items():
            lines.append(f"    {name:<50} {statistics.median(values):8.1f} ms")
        if problem:
            lines.append(f"    (stopped: {problem})")

    lines.append("  heaviest imports of a cached `btc -e 'BEGIN { exit(); }'`"
                 " (python -X importtime, cumulative)")
    bench.spawn(tool, BEGIN_EXIT, stdout=os.devnull).wait(60)  # make sure it is cached
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "compiler", "-e", BEGIN_EXIT], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    top = []
    total = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line[len("import time:"):].split("|")
        total += int(self_us)
        if not name.startswith("  "):  # a top-level import (nested ones are indented)
            top.append((int(cumulative), name.strip()))
    for cumulative, name in sorted(top, reverse=True)[:10]:
        lines.append(f"    {name:<50} {cumulative / 1000:8.1f} ms")
    lines.append(f"    {'all imports (sum of self times)':<50} {total / 1000:8.1f} ms")
    return "\n".join(lines)
