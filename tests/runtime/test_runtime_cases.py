"""Run every case of tests/runtime/cases/*.rt (format: rtcases.py) through
the real `btc` command: the program is compiled, loaded into this kernel,
attached, and its output checked. Cases marked COMPARE also run bpftrace
0.17 and must print the same bytes.

These need root and BPF (marker `bpf`). Probes that fire on shared events
filter on the case's own trigger command (`pid == cpid`), because other
programs on the machine may trace the same events.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rtcases import check_output, load_cases

CASES = load_cases(Path(__file__).parent / "cases")
BTC = [sys.executable, "-m", "compiler.cli"]
ROOT = Path(__file__).parent.parent.parent

pytestmark = [
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root"),
]


def _command(base: list[str], case) -> list[str]:
    args = [a.replace("$TRIGGER", case.trigger) for a in case.args]
    return [*base, *args, "-e", case.text, *case.after]


def _run(command: list[str], case) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, timeout=case.timeout, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{case.name}: no exit within {case.timeout}s; stdout so far:\n{(exc.stdout or b'').decode()}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.file}:{c.name}")
def test_runtime_case(case) -> None:
    done = _run(_command(BTC, case), case)
    stdout = done.stdout.decode("utf-8", "replace")
    stderr = done.stderr.decode("utf-8", "replace")
    problems = check_output(case, stdout)
    if done.returncode != case.exit:
        problems.append(f"exit status {done.returncode}, expected {case.exit}")
    for line in case.stderr:
        if line not in stderr:
            problems.append(f"missing in stderr: {line!r}")
    assert not problems, "\n".join(problems) + f"\n--- stdout\n{stdout}--- stderr\n{stderr}"
    if case.compare:
        _compare_with_bpftrace(case, done.stdout)


def _compare_with_bpftrace(case, ours: bytes) -> None:
    if shutil.which("bpftrace") is None:
        pytest.skip("bpftrace is not installed")
    theirs = _run(_command(["bpftrace"], case), case)
    assert theirs.returncode == case.exit, theirs.stderr.decode()
    assert ours.decode("utf-8", "replace") == theirs.stdout.decode("utf-8", "replace")


def test_there_are_cases() -> None:
    assert len(CASES) >= 10
