"""After the runtime cases, nothing of ours may stay in the kernel: no BPF
program named btls_p* (the names btc gives its probes) that one of our
runs loaded.

conftest.py moves this test to the very end of the session. Other btc
processes may be running on the machine (another test run, a user's
trace); their programs are told apart by the holder's environment: each
btc our runner starts carries BTLS_RUNTIME_TEST=<this pytest's pid>. A
btls_p* program that no process holds any more is counted as ours only if
it is still there after a grace period (the kernel frees a program a
moment after its last file descriptor closes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from test_runtime_cases import MARKER_VARIABLE

PREFIX = "btls_p"
GRACE_SECONDS = 5.0

pytestmark = [
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="listing BPF programs needs root"),
    pytest.mark.skipif(shutil.which("bpftool") is None, reason="bpftool is not installed"),
]


def _programs() -> dict[int, str]:
    """Every loaded BPF program whose name starts with PREFIX: id -> name."""
    listed = subprocess.run(["bpftool", "--json", "prog", "show"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    return {p["id"]: p.get("name", "") for p in json.loads(listed.stdout or "[]") if p.get("name", "").startswith(PREFIX)}


def _holders() -> dict[int, set[int]]:
    """prog id -> the pids holding a descriptor of it (a program's own fd or
    a link to it), read from /proc/*/fdinfo."""
    holders: dict[int, set[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            descriptors = os.listdir(f"/proc/{entry}/fdinfo")
        except OSError:
            continue
        for fd in descriptors:
            try:
                with open(f"/proc/{entry}/fdinfo/{fd}") as info:
                    text = info.read()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("prog_id:"):
                    holders.setdefault(int(line.split()[1]), set()).add(int(entry))
    return holders


def _ours(pid: int) -> bool:
    """Whether pid is this pytest or a process one of our runs started."""
    if pid == os.getpid():
        return True
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            variables = environ.read().split(b"\0")
    except OSError:
        return False
    return f"{MARKER_VARIABLE}={os.getpid()}".encode() in variables


def _leftovers() -> list[str]:
    programs = _programs()
    holders = _holders()
    left = []
    for prog_id, name in sorted(programs.items()):
        pids = holders.get(prog_id, set())
        if not pids or any(_ours(pid) for pid in pids):
            held = ", ".join(f"pid {pid}" for pid in sorted(pids)) or "no process"
            left.append(f"prog {prog_id} {name} (held by {held})")
    return left


def test_no_btls_programs_left_attached() -> None:
    deadline = time.monotonic() + GRACE_SECONDS
    left = _leftovers()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _leftovers()
    assert left == [], "BPF programs of btc still loaded after the runtime tests:\n" + "\n".join(left)
