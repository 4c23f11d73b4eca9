"""Capture bpftrace's real output into the golden files of this folder.

Each golden file records the command that produced it and, below a marker
line, bpftrace's stdout byte for byte:

    # command: bpftrace -e 'BEGIN { @a = 1; exit(); }'
    # ---
    Attaching 1 probe...
    ...

The tests (tests/runtime/test_output_*.py) feed the equivalent values to our
formatters and compare with the bytes below the marker. This script is not a
test: run it by hand, as root, where the reference bpftrace (0.17) is on PATH.

    python tests/runtime/golden/capture.py              # refresh every file
    python tests/runtime/golden/capture.py NAME...      # refresh some
    python tests/runtime/golden/capture.py --new NAME 'bpftrace -e ...'
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
COMMAND_PREFIX = b"# command: "
MARKER = b"# ---\n"
TIMEOUT_SECONDS = 20


def read_command(path: Path) -> str:
    first_line = path.read_bytes().split(b"\n", 1)[0]
    if not first_line.startswith(COMMAND_PREFIX):
        raise SystemExit(f"{path.name}: the first line must start with '# command: '")
    return first_line[len(COMMAND_PREFIX):].decode()


def run(command: str) -> bytes:
    argv = shlex.split(command)
    if argv[0] != "bpftrace":
        raise SystemExit(f"not a bpftrace command: {command}")
    done = subprocess.run(["timeout", str(TIMEOUT_SECONDS), *argv], capture_output=True)
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace")
        raise SystemExit(f"{command}\nexited {done.returncode}: {stderr}")
    return done.stdout


def write(path: Path, command: str, stdout: bytes) -> None:
    path.write_bytes(COMMAND_PREFIX + command.encode() + b"\n" + MARKER + stdout)


def main(args: list[str]) -> None:
    if args[:1] == ["--new"]:
        name, command = args[1], args[2]
        path = HERE / f"{name}.out"
        write(path, command, run(command))
        print(f"wrote {path.name}")
        return
    paths = [HERE / f"{name}.out" for name in args] if args else sorted(HERE.glob("*.out"))
    for path in paths:
        command = read_command(path)
        write(path, command, run(command))
        print(f"refreshed {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])

