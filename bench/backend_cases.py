"""The measurements of backend_bench.py. Each takes a Bench (tools, work
directory, repetitions, failures) and returns Rows: one metric, bpftrace's
samples beside btc's, and the issue's target as a btc/bpftrace ratio.

Every run that attaches to a shared tracepoint is filtered on a pid we own,
except the instruction-count runs: they load the issue's programs exactly
as written (a filter would change the code being counted), send their
output to /dev/null and are stopped as soon as the program is loaded.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Optional

from backend_procs import Running, Tool, program_ids, program_info


@dataclass
class Row:
    name: str
    unit: str
    theirs: list[float]
    ours: list[float]
    target: Optional[float]  # btc/bpftrace ratio
    higher_is_better: bool = False
    btc_label: str = "btc"
    notes: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # tool label -> why it has no samples

    def ratio(self) -> Optional[float]:
        if not self.theirs or not self.ours or statistics.median(self.theirs) == 0:
            return None
        return statistics.median(self.ours) / statistics.median(self.theirs)

    def met(self) -> Optional[bool]:
        """None when it cannot be told (no target, or no bpftrace figure);
        False when btc has no figure (it failed or lost events)."""
        if self.target is None or not self.theirs:
            return None
        ratio = self.ratio()
        if ratio is None:
            return False
        return ratio >= self.target if self.higher_is_better else ratio <= self.target


@dataclass
class Bench:
    tools: dict[str, Tool]
    workdir: str
    runs: int
    driver: Optional[str]  # compiled syscall_loop, or None
    driver_problem: str = ""
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    _n: int = 0

    def spawn(self, tool: Tool, program: str, args: list[str] = (), output: Optional[str] = None,
              stdout: Optional[str] = None, env: Optional[dict] = None) -> Running:  # fmt: skip
        self._n += 1
        err = os.path.join(self.workdir, f"run{self._n}.err")
        out = stdout or os.path.join(self.workdir, f"run{self._n}.out")
        return Running(tool.command(program, list(args), output), {**tool.env, **(env or {})}, out, err)

    def fresh_path(self, suffix: str) -> str:
        """A file name in the work directory no earlier run has used."""
        self._n += 1
        return os.path.join(self.workdir, f"run{self._n}.{suffix}")

    def attached(self, run: Running, output: Optional[str] = None, timeout: float = 60) -> bool:
        """Wait until the tool says "Attaching" (in -o FILE or on stdout or
        stderr); False if it ended or the timeout passed first."""
        limit = time.monotonic() + timeout
        while run.alive() and time.monotonic() < limit:
            texts = [run.stdout()[:4096], run.stderr()[:4096]]
            if output:
                texts.append(_head(output))
            if any("Attaching" in text for text in texts):
                return True
            time.sleep(0.01)
        return False

    def warm(self, tool: Tool, program: str, args: list[str] = (), env: Optional[dict] = None) -> None:
        """One untimed run to fill btc's caches: until attached, then SIGINT."""
        output = os.path.join(self.workdir, "warm.out")
        run = self.spawn(tool, program, args, output=output, env=env)
        try:
            self.attached(run, output)
        finally:
            run.wait(30, interrupt=True)
        self.check(run, f"warm-up: {tool.label} -e '{program}' {' '.join(args)}")

    def check(self, run: Running, what: str, ok: bool = True) -> bool:
        """Record a failed run (non-zero exit, ERROR output, or `ok` false)."""
        done = run.done
        text = (run.stdout()[-2000:] + run.stderr()[-2000:]).strip()
        errors = [line for line in text.splitlines() if "ERROR" in line and "RLIMIT_MEMLOCK" not in line]
        if done is not None and done.status in (0, -2) and not errors and ok:
            return True
        status = "still running" if done is None else f"exit status {done.status}"
        self.failures.append(f"{what}\n  command: {_quote(run.argv)}\n  {status}\n  output:\n"
                             + "\n".join("    " + line for line in text.splitlines()[-25:]))  # fmt: skip
        return False


def _head(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(4096).decode(errors="replace")
    except OSError:
        return ""


def _quote(argv: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in argv)


def contenders_of(bench: Bench, nocache: bool) -> list[Tool]:
    names = ["bpftrace", "btc"] + (["btc-nocache"] if nocache else [])
    return [bench.tools[n] for n in names]


# ------------------------------------------------------------ startup

BEGIN_EXIT = "BEGIN { exit(); }"


def startup(bench: Bench, runs: int) -> list[Row]:
    """Whole-process wall time of `-e 'BEGIN { exit(); }'`, runs interleaved."""
    contenders = contenders_of(bench, nocache=True)
    samples: dict[str, list[float]] = {t.label: [] for t in contenders}
    for tool in contenders:  # warm up (fills btc's object and BTF caches)
        bench.spawn(tool, BEGIN_EXIT, stdout=os.devnull).wait(60)
    for _ in range(runs):
        for tool in contenders:
            run = bench.spawn(tool, BEGIN_EXIT, stdout=os.devnull)
            done = run.wait(60)
            if bench.check(run, f"startup: {tool.label} -e '{BEGIN_EXIT}'"):
                samples[tool.label].append(done.wall_s * 1000)
    theirs = samples["bpftrace"]
    return [Row("BEGIN { exit(); } wall time", "ms", theirs, samples[t.label], 0.4, btc_label=t.label)
            for t in contenders[1:]]  # fmt: skip


# ------------------------------------------------------------ instruction counts

XLATED = [
    ("@[comm] = count() on sys_enter_openat", "tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }"),
    ("@ = hist(args->count) on sys_enter_read", "tracepoint:syscalls:sys_enter_read { @ = hist(args->count); }"),
    ("printf pid, comm, tid on sys_enter_getpid",
     'tracepoint:syscalls:sys_enter_getpid { printf("%d %s %d\\n", pid, comm, tid); }'),
]  # fmt: skip
STOPPER = " interval:s:20 { exit(); }"  # ends the run by itself if nothing else does


def tracepoint_programs(run: Running, timeout: float = 60) -> list[dict]:
    """bpftool's view of the tracepoint programs `run` holds, as soon as
    there is one (then the caller stops it)."""
    limit = time.monotonic() + timeout
    while run.alive() and time.monotonic() < limit:
        found = [info for info in map(program_info, program_ids(run.pid))
                 if info and info.get("type") == "tracepoint"]  # fmt: skip
        if found:
            return found
        time.sleep(0.02)
    return []


def xlated(bench: Bench) -> list[Row]:
    """xlated instruction slots (bytes_xlated / 8) of each issue program,
    read from the running tool's own program fds."""
    rows = []
    contenders = contenders_of(bench, nocache=False)
    for name, program in XLATED:
        slots: dict[str, list[float]] = {t.label: [] for t in contenders}
        notes = []
        for _ in range(1 if bench.runs < 5 else 2):  # deterministic: one look is enough
            for tool in contenders:
                run = bench.spawn(tool, program + STOPPER, output=os.devnull, stdout=os.devnull)
                try:
                    found = tracepoint_programs(run)
                finally:
                    run.wait(30, interrupt=True)
                if bench.check(run, f"xlated: {tool.label} -e '{program + STOPPER}'", ok=bool(found)):
                    slots[tool.label].append(sum(f.get("bytes_xlated", 0) for f in found) / 8)
                    jited = sum(f.get("bytes_jited", 0) for f in found)
                    note = f"{tool.label}: {', '.join(f['name'] for f in found)} jited {jited} B"
                    if note not in notes:
                        notes.append(note)
        rows.append(Row(f"xlated insns: {name}", "insns", slots["bpftrace"], slots["btc"], 1.0, notes=notes))
    return rows


# ------------------------------------------------------------ peak RSS

RSS_PROGRAMS = [
    ("@[comm] = count() on sys_enter_openat",
     "tracepoint:syscalls:sys_enter_openat /pid == $1/ { @[comm] = count(); } interval:ms:1000 { exit(); }"),
    ("@ = hist(args->count) on sys_enter_read",
     "tracepoint:syscalls:sys_enter_read /pid == $1/ { @ = hist(args->count); } interval:ms:1000 { exit(); }"),
]  # fmt: skip


def rss(bench: Bench) -> list[Row]:
    """Peak RSS (wait4's ru_maxrss) of a tracepoint script that runs for
    1 s, filtered on the bench's own pid."""
    rows = []
    contenders = contenders_of(bench, nocache=True)
    me = str(os.getpid())
    for name, program in RSS_PROGRAMS:
        peak: dict[str, list[float]] = {t.label: [] for t in contenders}
        wall: dict[str, list[float]] = {t.label: [] for t in contenders}
        for tool in contenders:  # warm up
            bench.spawn(tool, program, [me], stdout=os.devnull).wait(60)
        for _ in range(bench.runs):
            for tool in contenders:
                run = bench.spawn(tool, program, [me], stdout=os.devnull)
                done = run.wait(60)
                if bench.check(run, f"rss: {tool.label} -e '{program}' PID"):
                    peak[tool.label].append(done.maxrss_kb / 1024)
                    wall[tool.label].append(done.wall_s * 1000)
        notes = [f"{label}: whole run {statistics.median(v):.0f} ms (includes the 1000 ms interval)"
                 for label, v in wall.items() if v]  # fmt: skip
        for tool in contenders[1:]:
            rows.append(Row(f"peak RSS: {name}", "MB", peak["bpftrace"], peak[tool.label], 1.0,
                            btc_label=tool.label, notes=notes if tool is contenders[1] else []))  # fmt: skip
    return rows
