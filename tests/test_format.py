"""The formatter (compiler/format): golden cases, and over every script we
have (our corpus, the analyser and parser cases, bpftrace's tools when
installed): the result parses to the same AST, keeps every comment, and
formatting it again changes nothing. Then `btc --fmt`.

Golden cases are tests/cases/format/NAME.bt with the expected output in
NAME.fmt; regenerate one with `btc --fmt NAME.bt > NAME.fmt` and read the
diff before committing it.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from compiler.format import format_edits, format_program, format_text
from compiler.format.lexer import tokenize
from compiler.format.roles import opaque_pieces
from compiler.format.shape import program_shape
from compiler.syntax import parse

TESTS = Path(__file__).parent
CASES = sorted((TESTS / "cases" / "format").glob("*.bt"))


def _scripts() -> list[Path]:
    found = sorted((TESTS / "corpus").rglob("*.bt"))
    found += sorted((TESTS / "cases" / "semantic" / "ok").glob("*.bt"))
    found += sorted((TESTS / "cases" / "syntax" / "ok").glob("*.bt"))
    found += CASES
    # Debian's bpftrace package installs bpftrace's tools there.
    found += sorted(Path("/usr/sbin").glob("*.bt"))
    tools = os.environ.get("BPFTRACE_TOOLS_DIR")
    if tools:
        found += sorted(Path(tools).glob("*.bt")) + sorted(Path(tools).glob("old/*.bt"))
    return found


SCRIPTS = _scripts()


def formatted(text: str) -> str:
    result = format_program(text, strict=True)
    assert result is not None, "the program has syntax errors"
    return result.text


def comments(text: str) -> Counter:
    return Counter(c.text.rstrip() for c in parse(text).program.comments)


# ------------------------------------------------------------------ goldens


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_case(path: Path) -> None:
    expected = path.with_suffix(".fmt").read_text()
    assert formatted(path.read_text()) == expected
    assert formatted(expected) == expected


def test_there_are_golden_cases() -> None:
    names = {"probes", "control", "expressions", "comments", "preamble", "layout"}
    assert {p.stem for p in CASES} >= names


# ------------------------------------------------------- every script we have


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_formats_to_the_same_program(path: Path) -> None:
    text = path.read_text()
    once = formatted(text)  # strict: raises if the AST or the comments differ
    assert program_shape(parse(once).program) == program_shape(parse(text).program)
    assert comments(once) == comments(text)
    assert formatted(once) == once, "formatting is not idempotent"


def test_scripts_checked() -> None:
    # The corpus, the ok cases, and bpftrace's tools where installed.
    assert len(SCRIPTS) >= 250
    if Path("/usr/sbin/opensnoop.bt").exists():
        assert sum(p.parent == Path("/usr/sbin") for p in SCRIPTS) >= 30


def _regap(text: str, seed: int, new_gap) -> str | None:
    """`text` with the blanks before some tokens replaced by new_gap(rng,
    old_gap); None when the result no longer parses cleanly."""
    rng = random.Random(seed)
    parsed = parse(text)
    lark_text = parsed.source.lark_text
    pieces, previous = [], 0
    for tok in tokenize(lark_text, opaque_pieces(parsed.program, lark_text)):
        pieces += [new_gap(rng, lark_text[previous : tok.start], previous == 0), tok.text]
        previous = tok.end
    pieces.append(lark_text[previous:])
    mutated = "".join(pieces).encode("latin-1").decode("utf-8")
    again = parse(mutated)
    if any(d.is_error for d in again.diagnostics):
        return None
    if program_shape(again.program) != program_shape(parsed.program):
        return None
    return mutated


CORPUS = sorted((TESTS / "corpus").rglob("*.bt")) + CASES
COMMENTS = ["/* c */", " /* c */ ", "\n/* c\n */\n", " // c\n", "\n// c\n\n"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_comments_anywhere_are_kept(seed: int) -> None:
    # A comment between any two tokens: inside expressions, casts, headers...
    def comment(rng, gap, first):
        return gap + rng.choice(COMMENTS) if rng.random() < 0.3 else gap

    checked = 0
    for path in CORPUS:
        text = _regap(path.read_text(), seed, comment)
        if text is None:  # a comment where the language allows none (inside a cast's type)
            continue
        once = formatted(text)
        assert comments(once) == comments(text), path
        assert formatted(once) == once, path
        checked += 1
    assert checked >= len(CORPUS) // 2


@pytest.mark.parametrize("seed", [1, 2])
def test_spacing_within_a_line_does_not_matter(seed: int) -> None:
    # One canonical layout: changing the blanks inside lines changes nothing.
    def respace(rng, gap, first):
        if first or "\n" in gap:
            return gap
        return rng.choice(["", " ", "  ", "\t"]) if gap else rng.choice(["", " "])

    checked = 0
    for path in CORPUS:
        text = path.read_text()
        mutated = _regap(text, seed, respace)
        if mutated is None:  # two tokens ran together
            continue
        assert format_text(mutated) == format_text(text), path
        checked += 1
    assert checked >= len(CORPUS) // 2


# ------------------------------------------------------------------- rules


def test_syntax_errors_leave_the_text_alone() -> None:
    broken = "BEGIN {  $x = ;\n  printf( }\n"
    assert format_text(broken) == broken
    assert format_program(broken) is None
    assert format_edits(broken) is None


def test_empty_and_blank_documents() -> None:
    assert format_text("") == ""
    assert format_text("  \n\n") == ""
    assert format_text("// only a comment") == "// only a comment\n"


def test_crlf_documents_keep_their_line_ending() -> None:
    text = "BEGIN { printf(\"x\\n\"); } // c\r\n"
    assert format_text(text) == 'BEGIN\r\n{\r\n  printf("x\\n");\r\n} // c\r\n'


def test_continuation_lines_up_after_a_bracket_in_characters_not_bytes() -> None:
    text = 'BEGIN { printf("é %d %d\\n", 1,\n 2); }'
    assert formatted(text) == 'BEGIN\n{\n  printf("é %d %d\\n", 1,\n         2);\n}\n'


def test_operators_never_run_together() -> None:
    # `- -x` must not become `--x`, nor `/ *p` a comment.
    text = "kprobe:f / *(int8*)arg0 / { $x = - -1; $y = $x - -$x; $z = & $x; }"
    assert formatted(text) == (
        "kprobe:f\n/ *(int8*)arg0/\n{\n  $x = - -1;\n  $y = $x - -$x;\n  $z = &$x;\n}\n"
    )


def test_empty_statements_are_dropped_but_not_after_a_block() -> None:
    # `if (1) {};` keeps its `;`: without it the `if` would become the
    # block's value, a different tree.
    assert formatted("BEGIN { ;; $a = 1;; if (1) {}; }") == "BEGIN\n{\n  $a = 1;\n  if (1) {};\n}\n"


def test_blank_lines_between_items() -> None:
    head = "#include <a.h>\n#include <b.h>\nlet @a = hash(1);\nlet @b = hash(2);\n"
    assert formatted(head + "BEGIN {}\nEND {}\n") == head + "\nBEGIN\n{}\n\nEND\n{}\n"


def test_a_comment_above_an_item_stays_with_it() -> None:
    assert formatted("BEGIN {}\n// about END\nEND {}") == "BEGIN\n{}\n\n// about END\nEND\n{}\n"


# -------------------------------------------------------------------- edits


def apply(text: str, edits) -> str:
    data = text.encode()
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        data = data[: edit.start] + edit.text.encode() + data[edit.end :]
    return data.decode()


def test_edits_make_the_formatted_text() -> None:
    for path in CASES:
        text = path.read_text()
        edits = format_edits(text)
        assert apply(text, edits) == formatted(text)
        assert edits == sorted(edits, key=lambda e: e.start)
        assert all(a.end <= b.start for a, b in zip(edits, edits[1:])), "edits overlap"


def test_edits_leave_formatted_lines_alone() -> None:
    text = "BEGIN\n{\n  $a = 1;\n  $b  =  2;\n  $c = 3;\n}\n"
    edits = format_edits(text)
    line = text.index("  $b")
    # One edit, inside the one line that changes: `$b  =  2` -> `$b = 2`.
    assert [(e.start, e.end, e.text) for e in edits] == [(line + 5, line + 9, "= ")]
    assert apply(text, edits) == text.replace("$b  =  2", "$b = 2")


def test_a_range_formats_only_inside_it() -> None:
    text = "BEGIN { $a  =  1; }\nEND { $b  =  2; }\n"
    start = text.index("END")
    edits = format_edits(text, start=start, end=len(text))
    assert edits and all(e.start >= start for e in edits)
    assert apply(text, edits) == "BEGIN { $a  =  1; }\n\nEND\n{\n  $b = 2;\n}\n"


# ---------------------------------------------------------------------- btc


def btc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        capture_output=True, text=True, cwd=cwd, timeout=60,
        env={**os.environ, "PYTHONPATH": str(TESTS.parent)},
    )  # fmt: skip


def test_btc_fmt_prints_the_formatted_program(tmp_path: Path) -> None:
    (tmp_path / "a.bt").write_text("BEGIN{printf(\"hi\\n\")}")
    run = btc("--fmt", "a.bt", cwd=tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (0, 'BEGIN\n{\n  printf("hi\\n")\n}\n', "")


def test_btc_fmt_check_exit_status(tmp_path: Path) -> None:
    (tmp_path / "messy.bt").write_text("BEGIN{exit()}")
    (tmp_path / "tidy.bt").write_text("BEGIN\n{\n  exit()\n}\n")
    (tmp_path / "broken.bt").write_text("BEGIN { exit( }")
    tidy = btc("--fmt", "--check", "tidy.bt", cwd=tmp_path)
    assert (tidy.returncode, tidy.stdout) == (0, "")
    both = btc("--fmt", "--check", "tidy.bt", "messy.bt", cwd=tmp_path)
    assert (both.returncode, both.stdout) == (1, "messy.bt: would be reformatted\n")
    broken = btc("--fmt", "--check", "broken.bt", cwd=tmp_path)
    assert broken.returncode == 1 and "ERROR" in broken.stderr and "Traceback" not in broken.stderr
    assert (tmp_path / "messy.bt").read_text() == "BEGIN{exit()}"  # --check writes nothing


def test_btc_fmt_in_place(tmp_path: Path) -> None:
    script = tmp_path / "a.bt"
    script.write_text("BEGIN{exit()}")
    run = btc("--fmt", "-i", "a.bt", cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, "")
    assert script.read_text() == "BEGIN\n{\n  exit()\n}\n"
    assert btc("--fmt", "--check", "a.bt", cwd=tmp_path).returncode == 0
