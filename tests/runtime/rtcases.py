"""The directive format of runtime cases (tests/runtime/cases/*.rt).

A case starts with NAME; the lines after it, up to the next NAME, say what
to run and what must happen:

    NAME      what the case checks (also its pytest id)
    PROG      the program, on one line (repeat PROG for more lines)
    ARGS      arguments for btc before the program, shell-quoted; $TRIGGER
              stands for the case's trigger command (below), run with -c
    AFTER     ARGS after the program: the program's own $1, $2...
    TRIGGER   a shell command the program traces (pass it with -c "$TRIGGER"
              in ARGS and filter on `pid == cpid`)
    EXPECT    a line that must appear in stdout, in order with the others
    EXPECT_REGEX  the same, as a regular expression matched on a whole line
    EXPECT_NONE   a line that must not appear
    EXPECT_STDOUT the whole of stdout; `\n` escapes mark line ends
    EXIT      the expected exit status (default 0)
    STDERR    a line that must appear in stderr
    TIMEOUT   seconds before the run is stopped (default 10)
    COMPARE   run bpftrace 0.17 on the same program too and require the same
              stdout, byte for byte (the program must be one 0.17 accepts)

`#` starts a comment line. Expected text may use `\t` for a tab.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Case:
    name: str
    file: str
    program: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    trigger: str = ""
    expect: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    stdout: str | None = None
    exit: int = 0
    stderr: list[str] = field(default_factory=list)
    timeout: float = 10.0
    compare: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.program)


def _unescape(text: str) -> str:
    return text.replace("\\t", "\t").replace("\\n", "\n")


def load_cases(directory: Path) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.rt")):
        current: Case | None = None
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            if keyword == "NAME":
                current = Case(rest.strip(), path.name)
                cases.append(current)
                continue
            if current is None:
                raise ValueError(f"{path.name}:{number}: {keyword} before any NAME")
            if keyword == "PROG":
                current.program.append(rest)
            elif keyword == "ARGS":
                current.args += shlex.split(rest)
            elif keyword == "AFTER":
                current.after += shlex.split(rest)
            elif keyword == "TRIGGER":
                current.trigger = rest
            elif keyword in ("EXPECT", "EXPECT_REGEX", "EXPECT_NONE"):
                current.expect.append((keyword, _unescape(rest)))
            elif keyword == "EXPECT_STDOUT":
                current.stdout = _unescape(rest)
            elif keyword == "EXIT":
                current.exit = int(rest)
            elif keyword == "STDERR":
                current.stderr.append(_unescape(rest))
            elif keyword == "TIMEOUT":
                current.timeout = float(rest)
            elif keyword == "COMPARE":
                current.compare = True
            else:
                raise ValueError(f"{path.name}:{number}: unknown directive {keyword}")
    return cases


def check_output(case: Case, stdout: str) -> list[str]:
    """What is wrong with stdout, as readable lines (empty if nothing)."""
    problems = []
    if case.stdout is not None and stdout != case.stdout:
        problems.append(f"stdout differs:\n--- expected\n{case.stdout}--- got\n{stdout}")
    lines = stdout.splitlines()
    position = 0
    import re

    for kind, text in case.expect:
        if kind == "EXPECT_NONE":
            if text in lines:
                problems.append(f"unexpected line: {text!r}")
            continue
        match = (lambda line: line == text) if kind == "EXPECT" else (lambda line: re.fullmatch(text, line))
        for index in range(position, len(lines)):
            if match(lines[index]):
                position = index + 1
                break
        else:
            problems.append(f"missing line ({kind}): {text!r}")
    return problems
