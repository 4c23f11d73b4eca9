"""The driver-based measurements of backend_bench.py: printf events
drained to a file, and a 100k-key map printed at exit. Both trace a
syscall made by bench/drivers/syscall_loop.c and filter on its pid."""

from __future__ import annotations

import os
import re
import time
from typing import Optional

from backend_cases import Bench, Row, contenders_of
from backend_procs import DRIVER_COMM, PING_COMM, Driver, Tool

LOST = re.compile(r"^Lost (\d+) events", re.M)

DRAIN = 'tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf("%d %s\\n", pid, comm); }'


def drain(bench: Bench, events: int, rates: list[int]) -> list[Row]:
    """For each driver pace in `rates` (calls/s, 0 = flat out): the driver
    makes `events` getppid calls, the tool prints one line per call into a
    file (-o). A run's rate is events / (time from releasing the driver to
    the moment the file holds them all); it counts only if nothing was lost.
    bpftrace writes -o through an 8 KiB stdio buffer and flushes the last
    block only at exit, so "all" means all but at most one such block."""
    if bench.driver is None:
        bench.skipped.append(f"printf drain: {bench.driver_problem}")
        return []
    contenders = contenders_of(bench, nocache=False)
    for tool in contenders:
        bench.warm(tool, DRAIN, ["1"])
    rows = []
    for rate in rates:
        per_s: dict[str, list[float]] = {t.label: [] for t in contenders}
        info: dict[str, list[str]] = {t.label: [] for t in contenders}
        lossy = {t.label: 0 for t in contenders}
        for _ in range(bench.runs):
            for tool in contenders:
                result = _drain_once(bench, tool, events, rate)
                if result is None:
                    continue
                value, lost, summary = result
                if lost:
                    lossy[tool.label] += 1
                elif value is not None:
                    per_s[tool.label].append(value)
                info[tool.label].append(summary)
        pace = f"driver paced at {rate:,}/s" if rate else "driver flat out"
        row = Row(f"printf drain to file, {events:,} events, {pace}", "events/s", per_s["bpftrace"],
                  per_s["btc"], 1.0, higher_is_better=True)  # fmt: skip
        row.notes = [f"{label}: " + "; ".join(lines) for label, lines in info.items()]
        row.missing = {label: f"lost events in {n}/{bench.runs} runs" for label, n in lossy.items() if n}
        rows.append(row)
    return rows


DrainResult = tuple[Optional[float], int, str]


def _drain_once(bench: Bench, tool: Tool, events: int, rate: int) -> Optional[DrainResult]:
    """(events/s, events lost, a one-line summary), or None if the run failed."""
    driver = Driver(bench.driver, "getppid", str(events), str(rate))
    path = bench.fresh_path("drain.txt")
    run = bench.spawn(tool, DRAIN, [str(driver.pid)], output=path, stdout=os.devnull)
    counter = _LineCounter(path, f" {DRIVER_COMM}\n".encode())
    pings = _LineCounter(path, f" {PING_COMM}\n".encode())
    seen: list[tuple[float, int]] = []  # (time, counted lines in the file)
    try:
        limit = time.monotonic() + 60
        while pings.count() == 0:  # a ping line: the probe is attached
            if not run.alive() or time.monotonic() > limit:
                run.wait(10, interrupt=True)
                bench.check(run, f"drain: {tool.label} printed no event", ok=False)
                return None
            time.sleep(0.01)
        cpu0, go = run.cpu_s(), time.monotonic()
        driver.go()
        growth, last = go, 0
        while run.alive() and time.monotonic() - go < 120:
            now, n = time.monotonic(), counter.count()
            seen.append((now, n))
            if n != last:
                growth, last = now, n
            if n >= events or (driver.finished() and now - growth > 1.0):
                break  # all there, or nothing new for 1 s after the driver ended
            time.sleep(0.005)
        cpu1 = run.cpu_s()
        drv = driver.result(30)
    finally:
        driver.kill()
        done = run.wait(30, resend_s=1.0, interrupt=True)
        pings.close()
    if not bench.check(run, f"drain: {tool.label} -o FILE -e '{DRAIN}' DRIVER_PID") or not seen:
        counter.close()
        return None
    printed = counter.count()
    counter.close()
    lost = sum(int(n) for n in LOST.findall(run.stdout() + run.stderr() + _tail(path)))
    slack = 8192 // len(f"{driver.pid} {DRIVER_COMM}\n") + 1  # one stdio block still unwritten
    finish = next((t for t, n in seen if n >= events - slack), None)
    lost = max(lost, events - printed)
    producer = drv.get("calls", 0) / (drv["elapsed_ns"] / 1e9) if drv.get("elapsed_ns") else 0
    cpu_us = (cpu1 - cpu0) * 1e6 / max(1, printed)
    last_line = next(t for t, n in seen if n >= seen[-1][1])  # when the count stopped growing
    elapsed = (finish or last_line) - go
    summary = (f"{printed:,}/{events:,} printed, lost {lost:,}, "
               f"{printed / elapsed:,.0f}/s into the file, driver {producer:,.0f} calls/s, "
               f"{cpu_us:.1f} us CPU/event, max RSS {done.maxrss_kb // 1024} MB")
    if finish is None and not lost:
        return None, 0, summary + ", the end was not seen in the file before exit (left out)"
    return events / elapsed, lost, summary


class _LineCounter:
    """Counts `marker` in a growing file, reading only what is new."""

    def __init__(self, path: str, marker: bytes) -> None:
        self.path, self.marker = path, marker
        self._file = None
        self._n = 0
        self._tail = b""

    def count(self) -> int:
        if self._file is None:
            try:
                self._file = open(self.path, "rb")
            except OSError:
                return 0
        data = self._tail + self._file.read()
        self._n += data.count(self.marker)
        keep = len(self.marker) - 1
        self._tail = data[-keep:]  # shorter than a marker: never counted twice
        return self._n

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


# ------------------------------------------------------------ map printed at exit

MAP_KEYS = "tracepoint:syscalls:sys_enter_read /pid == $1/ { @[args->count] = count(); }"
BTC_CONFIG = "config = { max_map_keys = %d }\n"  # bpftrace 0.17 has no config block: it reads the env var
RESEND_S = 5.0  # a second SIGINT while a tool prints its maps may cut it short: wait this long first


def mapprint(bench: Bench, keys: int) -> list[Row]:
    """The driver reads /dev/zero with sizes 1..keys, so the map gets `keys`
    keys; then SIGINT, and the time from it to the tool's exit (reading,
    sorting and printing the map, detaching) is measured."""
    if bench.driver is None:
        bench.skipped.append(f"map print: {bench.driver_problem}")
        return []
    contenders = contenders_of(bench, nocache=False)
    exit_ms: dict[str, list[float]] = {t.label: [] for t in contenders}
    info: dict[str, list[str]] = {t.label: [] for t in contenders}
    for tool in contenders:
        bench.warm(tool, _map_program(tool, keys), ["1"], _map_env(keys))
    for _ in range(bench.runs):
        for tool in contenders:
            result = _mapprint_once(bench, tool, keys)
            if result is None:
                continue
            ms, summary, sigints = result
            if sigints > 1:  # bpftrace 0.17 now and then ignores a SIGINT: not the cost of printing
                summary += f", needed {sigints} SIGINTs (left out)"
            else:
                exit_ms[tool.label].append(ms)
            info[tool.label].append(summary)
    notes = [f"{label}: " + "; ".join(lines) for label, lines in info.items()]
    return [Row(f"{keys // 1000}k-key map printed at exit, SIGINT to exit", "ms",
                exit_ms["bpftrace"], exit_ms["btc"], 0.3, notes=notes)]  # fmt: skip


def _map_program(tool: Tool, keys: int) -> str:
    return (BTC_CONFIG % (2 * keys) if tool.is_btc else "") + MAP_KEYS


def _map_env(keys: int) -> dict[str, str]:
    return {"BPFTRACE_MAP_KEYS_MAX": str(2 * keys)}  # the 0.17 name (later: BPFTRACE_MAX_MAP_KEYS)


def _mapprint_once(bench: Bench, tool: Tool, keys: int) -> Optional[tuple[float, str, int]]:
    """(ms from SIGINT to exit, a one-line summary, SIGINTs sent), or None."""
    driver = Driver(bench.driver, "read", str(keys))
    path = bench.fresh_path("map.txt")
    program = _map_program(tool, keys)
    run = bench.spawn(tool, program, [str(driver.pid)], output=path, env=_map_env(keys))
    try:
        if not bench.attached(run, path):
            bench.check(run, f"map print: {tool.label} did not attach", ok=False)
            return None
        time.sleep(0.5)  # "Attaching" is printed just before the attach itself
        driver.go()
        drv = driver.result(120)
        time.sleep(0.5)
        if not run.alive():
            bench.check(run, f"map print: {tool.label} ended early", ok=False)
            return None
        cpu0 = run.cpu_s()
    finally:
        driver.kill()
        done = run.wait(60, resend_s=RESEND_S, interrupt=True)
    printed = _count_lines(path, b"@[")
    what = f"map print: {tool.label} -o FILE -e '{program}' DRIVER_PID"
    if not bench.check(run, what, ok=printed == keys):
        if printed != keys:
            bench.failures[-1] += f"\n  printed {printed} map entries, expected {keys}"
        return None
    exit_ms = (done.wall_s - (done.stopped_at - run.start)) * 1000
    summary = (f"exit CPU {(done.cpu_s - cpu0) * 1000:.0f} ms, max RSS {done.maxrss_kb // 1024} MB, "
               f"{keys:,} reads took {drv.get('elapsed_ns', 0) / 1e6:.0f} ms")  # fmt: skip
    return exit_ms, summary, done.sigints


def _count_lines(path: str, prefix: bytes) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.startswith(prefix))
    except OSError:
        return 0


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            return f.read().decode(errors="replace")
    except OSError:
        return ""
