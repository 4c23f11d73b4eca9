"""Run every case of tests/runtime/cases/*.rt (format: rtcases.py) through
the real `btc` command: the program is compiled, loaded into this kernel,
attached, and its output checked. Cases marked COMPARE also run bpftrace
0.17 and must print the same bytes.

These need root and BPF (marker `bpf`). Probes that fire on shared events
filter on the case's own trigger command (`pid == cpid`), because other
programs on the machine may trace the same events.

Every run of btc carries BTLS_RUNTIME_TEST=<this pytest's pid> in its
environment, so that test_runtime_leaks.py can tell the programs of our
runs from those of other btc processes on the machine (another test run
included).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rtcases import Case, check_files, check_output, check_stderr, load_cases

CASES = load_cases(Path(__file__).parent / "cases")
BTC = [sys.executable, "-m", "compiler.cli"]
ROOT = Path(__file__).parent.parent.parent
MARKER_VARIABLE = "BTLS_RUNTIME_TEST"
SIGNAL_PAUSE = 0.3  # after the awaited line: time for the probes to be attached
RESEND_AFTER = 1.5  # bpftrace only: seconds before a lost signal is sent again

pytestmark = [
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root"),
]


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes
    files: dict[str, bytes | None] = field(default_factory=dict)


def _substitute(text: str, case: Case, tmp: Path) -> str:
    return text.replace("$TRIGGER", case.trigger).replace("$TMP", str(tmp))


def _command(base: list[str], case: Case, tmp: Path) -> list[str]:
    args = [_substitute(a, case, tmp) for a in case.args]
    after = [_substitute(a, case, tmp) for a in case.after]
    return [*_runas(case), *base, *args, "-e", _substitute(case.text, case, tmp), *after]


def _runas(case: Case) -> list[str]:
    if case.runas is None:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("RUNAS needs setpriv (util-linux)")
    try:
        user = pwd.getpwnam(case.runas)
    except KeyError:
        pytest.skip(f"no user {case.runas!r} on this machine")
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]


def _environment() -> dict[str, str]:
    return {**os.environ, MARKER_VARIABLE: str(os.getpid())}


def _run(base: list[str], case: Case, tmp: Path, resend: bool = False) -> Run:
    """Run btc (or bpftrace) on the case, sending its SIGNAL if it has one,
    and collect what it printed and the files it was expected to write.
    With `resend` the signal is sent again while the process lives on
    (bpftrace 0.17 sometimes loses a SIGINT that lands just after it
    starts the -c command); btc gets exactly one."""
    tmp.mkdir(parents=True, exist_ok=True)
    for command in case.setup:
        subprocess.run(["sh", "-c", _substitute(command, case, tmp)], cwd=ROOT, timeout=30, check=True)
    process = subprocess.Popen(
        _command(base, case, tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=ROOT, env=_environment(), start_new_session=True,
    )  # fmt: skip
    lines: list[bytes] = []
    errors: list[bytes] = []
    seen = threading.Event()
    wanted = None if case.signal_after is None else case.signal_after.encode()

    def read_stdout() -> None:
        for line in iter(process.stdout.readline, b""):
            lines.append(line)
            if wanted is None or line.rstrip(b"\n") == wanted:
                seen.set()
        seen.set()  # stdout closed: nothing more to wait for

    def read_stderr() -> None:
        errors.append(process.stderr.read())

    readers = [threading.Thread(target=read_stdout), threading.Thread(target=read_stderr)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + case.timeout
    try:
        if case.signal is not None:
            if seen.wait(case.timeout) and process.poll() is None:
                time.sleep(SIGNAL_PAUSE)
                if process.poll() is None:
                    process.send_signal(getattr(signal, case.signal))
                while resend and time.monotonic() < deadline:
                    try:
                        process.wait(RESEND_AFTER)
                        break
                    except subprocess.TimeoutExpired:
                        process.send_signal(getattr(signal, case.signal))
        returncode = process.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill_group(process)
        for reader in readers:
            reader.join(5)
        pytest.fail(f"{case.name}: no exit within {case.timeout}s; stdout so far:\n{b''.join(lines).decode()}")
    for reader in readers:
        reader.join(10)
    files = {}
    for name in {name for name, _ in case.files + case.file_patterns} | set(case.absent_files):
        path = tmp / name
        files[name] = path.read_bytes() if path.exists() else None
    return Run(returncode, b"".join(lines), b"".join(errors), files)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
        yield pytest.param(case, marks=marks, id=f"{case.file}:{case.name}")


@pytest.mark.parametrize("case", list(_params()))
def test_runtime_case(case: Case, tmp_path: Path) -> None:
    done = _run(BTC, case, tmp_path / "btc")
    stdout = done.stdout.decode("utf-8", "replace")
    stderr = done.stderr.decode("utf-8", "replace")
    problems = check_output(case, stdout)
    if done.returncode != case.exit:
        problems.append(f"exit status {done.returncode}, expected {case.exit}")
    problems += check_stderr(case, stderr)
    problems += check_files(case, done.files)
    assert not problems, "\n".join(problems) + f"\n--- stdout\n{stdout}--- stderr\n{stderr}"
    if case.compare:
        _compare_with_bpftrace(case, done, tmp_path / "bpftrace")


def _compare_with_bpftrace(case: Case, ours: Run, tmp: Path) -> None:
    if shutil.which("bpftrace") is None:
        pytest.skip("bpftrace is not installed")
    theirs = _run(["bpftrace"], case, tmp, resend=True)
    assert theirs.returncode == case.exit, theirs.stderr.decode()
    assert ours.stdout.decode("utf-8", "replace") == theirs.stdout.decode("utf-8", "replace")
    for name, _ in case.files:
        assert ours.files[name] == theirs.files[name], f"$TMP/{name} differs from bpftrace's"


def test_there_are_cases() -> None:
    assert len(CASES) >= 10
