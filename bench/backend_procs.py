"""Process plumbing for backend_bench.py: the two tools, running them with a
deadline, stopping them with SIGINT, their rusage, the BPF programs they
hold, and the C event driver.

Every tool process is a direct child of the bench (no `timeout` or shell in
between), so "our" bpftrace is the pid we spawned, never a `pgrep` guess,
and its peak RSS and CPU come from wait4(). Nothing here leaves a probe
attached: a tool that does not stop on SIGINT gets it again every few
seconds (bpftrace 0.17 sometimes ignores the first) and SIGKILL at the
deadline (the kernel detaches a dead process's probes).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
DRIVER_SOURCE = Path(__file__).resolve().parent / "drivers" / "syscall_loop.c"
DRIVER_COMM = "btls_drv"  # its comm during the counted calls
PING_COMM = "btls_ping"  # ... and while it waits for go()
CLK_TCK = os.sysconf("SC_CLK_TCK")

_live: set[int] = set()  # tool pids not yet reaped: killed by cleanup() on the way out


@dataclass
class Tool:
    """One way to run a program: bpftrace, btc, btc without its object cache."""

    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    is_btc: bool = False

    def command(self, program: str, args: list[str], output: str | None = None) -> list[str]:
        out = ["-o", output] if output else []
        return [*self.argv, *out, "-e", program, *args]


def tools(cache_dir: str) -> dict[str, Tool]:
    """bpftrace, btc (object cache on, in a private cache directory) and
    btc with BTC_NO_CACHE=1 (frontend and LLVM on every run)."""
    btc = str(ROOT / ".venv" / "bin" / "btc")
    if not os.access(btc, os.X_OK):
        btc_argv = [sys.executable, "-m", "compiler"]
    else:
        btc_argv = [btc]
    private = {"XDG_CACHE_HOME": cache_dir}
    return {
        "bpftrace": Tool("bpftrace", [shutil.which("bpftrace") or "bpftrace"]),
        "btc": Tool("btc", btc_argv, dict(private), is_btc=True),
        "btc-nocache": Tool("btc (no cache)", btc_argv, {**private, "BTC_NO_CACHE": "1"}, is_btc=True),
    }


@dataclass
class Finished:
    wall_s: float  # spawn to reap
    status: int  # exit status (negative: killed by that signal)
    maxrss_kb: int
    cpu_s: float  # user + sys
    stopped_at: Optional[float] = None  # monotonic time of the first SIGINT we sent
    sigints: int = 0
    killed: bool = False


class Running:
    """A tool process with stdout/stderr in files (or /dev/null)."""

    def __init__(self, argv: list[str], env: dict[str, str], stdout: str, stderr: str) -> None:
        self.argv = argv
        self.stdout_path, self.stderr_path = stdout, stderr
        full_env = {**os.environ, **env}
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            self.start = time.monotonic()
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=full_env)
        self.pid = self.proc.pid
        _live.add(self.pid)
        self._exited = select.poll()  # a pidfd is readable once the process has exited
        self._pidfd = os.pidfd_open(self.pid)
        self._exited.register(self._pidfd, select.POLLIN)
        self.done: Optional[Finished] = None
        self._first_sigint: Optional[float] = None
        self._sigints = 0

    def poll(self) -> Optional[Finished]:
        if self.done is None:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self._reaped(status, usage)
        return self.done

    def _reaped(self, status: int, usage) -> None:
        end = time.monotonic()
        _live.discard(self.pid)
        os.close(self._pidfd)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.done = Finished(end - self.start, self.proc.returncode, usage.ru_maxrss,
                             usage.ru_utime + usage.ru_stime, self._first_sigint, self._sigints,
                             self.proc.returncode == -signal.SIGKILL)  # fmt: skip

    def alive(self) -> bool:
        return self.poll() is None

    def sigint(self) -> None:
        if self.alive():
            if self._first_sigint is None:
                self._first_sigint = time.monotonic()
            self._sigints += 1
            os.kill(self.pid, signal.SIGINT)

    def wait(self, deadline_s: float, resend_s: float = 3.0, interrupt: bool = False) -> Finished:
        """Wait until it exits. With `interrupt`, send SIGINT now and again
        every `resend_s` while it lives; at the deadline start doing so
        anyway, and SIGKILL it 5 s after the deadline."""
        if interrupt:
            self.sigint()
        limit = time.monotonic() + deadline_s
        sent = time.monotonic() if interrupt else None
        while self.poll() is None:
            now = time.monotonic()
            if now > limit + 5:
                os.kill(self.pid, signal.SIGKILL)
                _, status, usage = os.wait4(self.pid, 0)
                self._reaped(status, usage)
                break
            if (sent is None and now > limit) or (sent is not None and now - sent >= resend_s):
                self.sigint()
                sent = now
            self._exited.poll(50)  # wakes at once when the process exits
        return self.done

    def cpu_s(self) -> float:
        """User + sys CPU so far, from /proc (0 if it is gone)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stdout(self) -> str:
        return _read(self.stdout_path)

    def stderr(self) -> str:
        return _read(self.stderr_path)


def _read(path: str) -> str:
    if path == os.devnull:
        return ""
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def cleanup() -> None:
    """Kill whatever tool is still running (after an exception or Ctrl-C)."""
    for pid in list(_live):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        _live.discard(pid)


# ------------------------------------------------------------ BPF programs


def program_ids(pid: int) -> list[int]:
    """The BPF programs process `pid` holds, from its fds (fdinfo `prog_id`)."""
    ids = set()
    base = Path(f"/proc/{pid}/fdinfo")
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    for entry in entries:
        try:
            for line in entry.read_text().splitlines():
                if line.startswith("prog_id:"):
                    ids.add(int(line.split()[1]))
        except (OSError, ValueError):
            continue
    return sorted(ids)


def program_info(prog_id: int) -> Optional[dict]:
    """bpftool's JSON for one program (name, type, bytes_xlated, bytes_jited)."""
    done = subprocess.run(["bpftool", "prog", "show", "id", str(prog_id), "--json"],
                          capture_output=True, text=True, timeout=20)  # fmt: skip
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None


# ------------------------------------------------------------ the driver


def build_driver(workdir: str) -> tuple[Optional[str], str]:
    """(path of the compiled driver, "") or (None, why not)."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None, "no C compiler (cc) on PATH: install one (apt-get install gcc) to run it"
    binary = os.path.join(workdir, "syscall_loop")
    done = subprocess.run([cc, "-O2", "-o", binary, str(DRIVER_SOURCE)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    if done.returncode != 0:
        return None, f"{cc} failed on {DRIVER_SOURCE.name}: {done.stderr.strip()[:300]}"
    return binary, ""


class Driver:
    """bench/drivers/syscall_loop.c, blocked until go(); pings getppid every
    10 ms while it waits."""

    def __init__(self, binary: str, *args: str) -> None:
        self.proc = subprocess.Popen([binary, *args], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)  # fmt: skip
        self.pid = self.proc.pid
        self._result: Optional[dict[str, int]] = None

    def go(self) -> None:
        self.proc.stdin.write(b"g")
        self.proc.stdin.close()
        self.proc.stdin = None  # communicate() must not touch it again

    def finished(self) -> bool:
        return self.proc.poll() is not None

    def result(self, timeout: float = 120) -> dict[str, int]:
        """{'pings': P, 'calls': N, 'elapsed_ns': T} once it has ended."""
        if self._result is not None:
            return self._result
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return {}
        words = dict(w.split("=", 1) for w in err.decode(errors="replace").split() if "=" in w)
        try:
            self._result = {k: int(v) for k, v in words.items()}
        except ValueError:
            self._result = {}
        return self._result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
