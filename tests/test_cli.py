"""btc on good programs, bad programs and bad input: clear messages, exit
statuses, bpftrace's diagnostic format, and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.diagnostics import Diagnostic, Related, Severity, render
from compiler.source import SourceText, Span

ROOT = Path(__file__).parent.parent


def btc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip


def assert_no_traceback(run: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout


def test_valid_program_exits_zero_quietly() -> None:
    run = btc("--check", "-e", 'BEGIN { printf("hi\\n"); }')
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_syntax_error_is_rendered_like_bpftrace() -> None:
    run = btc("--check", "-e", "BEGIN { $x = 1 $y = 2; }")
    assert run.returncode == 1
    assert run.stderr == (
        "stdin:1:15-15: ERROR: expected ';'\n"
        "BEGIN { $x = 1 $y = 2; }\n"
        "              ~\n"
    )


def test_every_error_in_a_file_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "two.bt"
    script.write_text("BEGIN { $x = ; }\n\nEND { printf(\"%d\\n\" $x); }\n")
    run = btc("--check", str(script))
    assert run.returncode == 1
    assert run.stderr.count("ERROR") == 2
    assert f"{script}:1:" in run.stderr and f"{script}:3:" in run.stderr


def test_several_files_are_all_checked(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.bt", tmp_path / "bad.bt"
    good.write_text("BEGIN { exit(); }\n")
    bad.write_text("BEGIN { exit( }\n")
    run = btc("--check", str(good), str(bad))
    assert run.returncode == 1
    assert str(bad) in run.stderr and str(good) not in run.stderr


def test_emit_ast_prints_the_tree() -> None:
    run = btc("--emit", "ast", "-e", "BEGIN { @x = 1; }")
    assert run.returncode == 0
    assert "Probe @1:1-1:18" in run.stdout
    assert "MapRef name='@x' @1:9-1:11" in run.stdout


def test_no_program_is_a_usage_error() -> None:
    run = btc("--check")
    assert run.returncode == 2
    assert "no program given" in run.stderr


def test_missing_file() -> None:
    run = btc("--check", "/nonexistent/script.bt")
    assert run.returncode == 1
    assert run.stderr == "btc: cannot read /nonexistent/script.bt: No such file or directory\n"


def test_unreadable_path(tmp_path: Path) -> None:
    run = btc("--check", str(tmp_path))  # a directory
    assert run.returncode == 1
    assert run.stderr == f"btc: cannot read {tmp_path}: Is a directory\n"


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bt"
    garbage.write_bytes(bytes(range(256)) * 40)
    run = btc("--check", str(garbage))
    assert run.returncode == 1
    assert run.stderr == f"btc: {garbage}: not a text file (it contains NUL bytes)\n"
    assert_no_traceback(run)


def test_invalid_utf8(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.bt"
    latin1.write_bytes(b'BEGIN { printf("caf\xe9"); }\n')
    run = btc("--check", str(latin1))
    assert run.returncode == 1
    assert run.stderr == f"btc: {latin1}: not UTF-8 text (invalid byte at offset 19)\n"


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bt"
    empty.write_text("")
    run = btc("--check", str(empty))
    assert run.returncode == 0
    assert run.stderr == f"{empty}: WARNING: the program is empty\n"


def test_ten_megabyte_file(tmp_path: Path) -> None:
    huge = tmp_path / "huge.bt"
    huge.write_text("BEGIN { @x = 1; }\n" * (10 * 1024 * 1024 // 18))
    run = btc("--check", str(huge))
    assert run.returncode == 1
    assert run.stderr == f"btc: {huge}: file too large (10.0 MiB); a program may be at most 1024 KiB\n"


def test_too_large_inline_program_is_a_diagnostic(capsys) -> None:
    # Too long for a real command line (one argument is at most 128 KiB), so
    # call btc's main() directly.
    from compiler.cli import main

    assert main(["--check", "-e", "//" + "x" * (1024 * 1024)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "stdin:1:1-1: ERROR: program too large: 1048578 bytes (the limit is 1024 KiB)"
    assert lines[1:] == ["//" + "x" * 238, "~"]  # a window on the long line


def test_verbose_summary() -> None:
    run = btc("--check", "-v", "-e", "BEGIN { } END { }")
    assert run.stderr == "stdin: 2 probes, ok\n"


def test_tabs_are_shown_as_four_spaces() -> None:
    run = btc("--check", "-e", "BEGIN {\n\t$x = 1 $y = 2;\n}")
    assert run.stderr.splitlines()[1:] == ["    $x = 1 $y = 2;", "          ~"]


def test_multi_line_span_prints_every_line() -> None:
    run = btc("--check", "-e", "BEGIN { }\nstruct S {\n  int x;\n}\n")
    assert run.stderr.splitlines() == [
        "stdin:2-4: ERROR: C definitions must appear before probes and functions",
        "struct S {",
        "  int x;",
        "}",
    ]


def test_render_related_spans_and_hints() -> None:
    source = SourceText("BEGIN { $x = 1; $x = \"s\"; }", "t.bt")
    diagnostic = Diagnostic(
        Severity.ERROR, "type-mismatch", "Type mismatch for $x", Span(16, 24),
        related=(Related(Span(8, 14), "first assigned here"),),
        hints=("use a new variable",),
    )  # fmt: skip
    assert render(diagnostic, source) == (
        "t.bt:1:17-25: ERROR: Type mismatch for $x\n"
        'BEGIN { $x = 1; $x = "s"; }\n'
        "                ~~~~~~~~\n"
        "t.bt:1:9-15: ERROR: first assigned here\n"
        'BEGIN { $x = 1; $x = "s"; }\n'
        "        ~~~~~~\n"
        "HINT: use a new variable\n"
    )


@pytest.mark.parametrize("args", [["--emit", "ast"], ["--check"]])
def test_interrupted_pipe_is_not_a_traceback(args: list[str]) -> None:
    program = "BEGIN { @x = 1; }\n" * 2000
    proc = subprocess.Popen(
        [sys.executable, "-m", "compiler", *args, "-e", program],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    proc.stdout.close()  # the reader goes away at once
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in stderr


def test_installed_console_script() -> None:
    btc_path = Path(sys.executable).parent / "btc"
    if not btc_path.exists():
        pytest.skip("btc is not installed next to this interpreter")
    run = subprocess.run([str(btc_path), "--version"], capture_output=True, text=True)
    assert run.stdout.startswith("btc ")
    assert os.access(btc_path, os.X_OK)
