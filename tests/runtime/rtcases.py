r"""The directive format of runtime cases (tests/runtime/cases/*.rt).

A case starts with NAME; the lines after it, up to the next NAME, say what
to run and what must happen:

    NAME      what the case checks (also its pytest id)
    PROG      the program, on one line (repeat PROG for more lines)
    ARGS      arguments for btc before the program, shell-quoted; $TRIGGER
              stands for the case's trigger command (below), run with -c
    AFTER     ARGS after the program: the program's own $1, $2...
    TRIGGER   a shell command the program traces (pass it with -c "$TRIGGER"
              in ARGS and filter on `pid == cpid`). For COMPARE cases name
              the program by its absolute path (/usr/bin/python3): 0.17
              refuses a name that matches two binaries (/bin and /usr/bin),
              and keep quotes out of it: 0.17 splits the command on spaces.
              Helper triggers live in tests/runtime/helpers/ (the runs'
              working directory is the repository root)
    EXPECT    a line that must appear in stdout, in order with the others
    EXPECT_REGEX  the same, as a regular expression matched on a whole line
    EXPECT_NONE   a line that must not appear
    EXPECT_STDOUT the whole of stdout; `\n` escapes mark line ends
    EXPECT_FILE   NAME TEXT: the whole of the file $TMP/NAME after the run
              (`\n` escapes as in EXPECT_STDOUT); with COMPARE the file that
              bpftrace wrote must be the same too
    EXPECT_FILE_REGEX NAME REGEX: a regular expression that must match
              somewhere in the file $TMP/NAME (multi-line mode)
    EXPECT_NO_FILE NAME: the file $TMP/NAME must not exist after the run
    EXIT      the expected exit status (default 0)
    STDERR    a line that must appear in stderr (a substring of it)
    STDERR_REGEX  a regular expression that must match somewhere in stderr
    STDERR_NONE   a text that must not appear anywhere in stderr
    TIMEOUT   seconds before the run is stopped (default 10)
    COMPARE   run bpftrace 0.17 on the same program too and require the same
              stdout, byte for byte (the program must be one 0.17 accepts)
    SIGNAL    NAME [LINE]: send the signal NAME (SIGINT, SIGTERM...) to btc
              once its stdout has shown the line LINE (by default: once it
              has shown any line), plus a short pause so that the probes
              are attached. With COMPARE bpftrace gets the same treatment
              (and the signal again every 1.5 s while it lives on: 0.17
              sometimes loses one); btc gets exactly one
    SETUP     a shell command (sh -c) run before btc, and before bpftrace
              for COMPARE, e.g. to create files in $TMP
    RUNAS     USER: run btc as USER (by uid and gid, no supplementary
              groups, no capabilities), through setpriv
    TRACEBACK_OK  stderr may contain a Python traceback. Without it every
              case fails when "Traceback" appears in btc's stderr
    XFAIL     REASON: btc is known to get this case wrong (the reason says
              how). The case still runs; pytest reports it as xfailed, and
              an unexpected pass fails the run (strict)

`$TMP` in PROG, ARGS, AFTER, TRIGGER, SETUP stands for a fresh, empty
directory of the case's own (bpftrace, under COMPARE, gets another one).

`#` starts a comment line. Expected text may use `\t` for a tab and `\\` for
one backslash (so `\\n` is a backslash and an n); other backslashes stay.
"""

from __future__ import annotations

import re
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
    files: list[tuple[str, str]] = field(default_factory=list)  # (name, whole text)
    file_patterns: list[tuple[str, str]] = field(default_factory=list)  # (name, regex)
    absent_files: list[str] = field(default_factory=list)
    exit: int = 0
    stderr: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    timeout: float = 10.0
    compare: bool = False
    signal: str | None = None
    signal_after: str | None = None  # the stdout line to wait for; None: any
    setup: list[str] = field(default_factory=list)
    runas: str | None = None
    traceback_ok: bool = False
    xfail: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.program)


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}


def _unescape(text: str) -> str:
    """`\\n` and `\\t` are a newline and a tab, `\\\\` one backslash; any other
    backslash stays as written (so regular expressions keep theirs)."""
    return re.sub(r"\\([nt\\])", lambda m: _ESCAPES[m.group(1)], text)


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
            elif keyword == "EXPECT_FILE":
                name, _, text = rest.partition(" ")
                current.files.append((name, _unescape(text)))
            elif keyword == "EXPECT_NO_FILE":
                current.absent_files.append(rest.strip())
            elif keyword == "EXPECT_FILE_REGEX":
                name, _, text = rest.partition(" ")
                current.file_patterns.append((name, _unescape(text)))
            elif keyword == "EXIT":
                current.exit = int(rest)
            elif keyword in ("STDERR", "STDERR_REGEX", "STDERR_NONE"):
                current.stderr.append((keyword, _unescape(rest)))
            elif keyword == "TIMEOUT":
                current.timeout = float(rest)
            elif keyword == "COMPARE":
                current.compare = True
            elif keyword == "SIGNAL":
                name, _, after = rest.strip().partition(" ")
                current.signal = name
                current.signal_after = _unescape(after) if after else None
            elif keyword == "SETUP":
                current.setup.append(rest)
            elif keyword == "RUNAS":
                current.runas = rest.strip()
            elif keyword == "TRACEBACK_OK":
                current.traceback_ok = True
            elif keyword == "XFAIL":
                if not rest.strip():
                    raise ValueError(f"{path.name}:{number}: XFAIL needs a reason")
                current.xfail = rest.strip()
            else:
                raise ValueError(f"{path.name}:{number}: unknown directive {keyword}")
    names = [(c.file, c.name) for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate case names: {sorted(duplicates)}")
    return cases


def check_output(case: Case, stdout: str) -> list[str]:
    """What is wrong with stdout, as readable lines (empty if nothing)."""
    problems = []
    if case.stdout is not None and stdout != case.stdout:
        problems.append(f"stdout differs:\n--- expected\n{case.stdout}--- got\n{stdout}")
    lines = stdout.splitlines()
    position = 0

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


def check_stderr(case: Case, stderr: str) -> list[str]:
    """What is wrong with stderr (empty if nothing)."""
    problems = []
    for kind, text in case.stderr:
        if kind == "STDERR" and text not in stderr:
            problems.append(f"missing in stderr: {text!r}")
        elif kind == "STDERR_REGEX" and not re.search(text, stderr, re.MULTILINE):
            problems.append(f"no match in stderr for: {text!r}")
        elif kind == "STDERR_NONE" and text in stderr:
            problems.append(f"unexpected in stderr: {text!r}")
    if not case.traceback_ok and "Traceback" in stderr:
        problems.append("a Python traceback in stderr")
    return problems


def check_files(case: Case, files: dict[str, bytes | None]) -> list[str]:
    """What is wrong with the files the run wrote (empty if nothing);
    `files` maps each name the case mentions to its bytes, or None."""
    problems = []
    for name, text in case.files:
        got = files.get(name)
        if got is None:
            problems.append(f"no file $TMP/{name}")
        elif got.decode("utf-8", "replace") != text:
            problems.append(f"$TMP/{name} differs:\n--- expected\n{text}--- got\n{got.decode('utf-8', 'replace')}")
    for name, pattern in case.file_patterns:
        got = files.get(name)
        if got is None:
            problems.append(f"no file $TMP/{name}")
        elif not re.search(pattern, got.decode("utf-8", "replace"), re.MULTILINE):
            problems.append(f"no match in $TMP/{name} for: {pattern!r}")
    for name in case.absent_files:
        if files.get(name) is not None:
            problems.append(f"$TMP/{name} exists")
    return problems
