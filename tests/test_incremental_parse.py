"""reparse() after an edit gives exactly what a full parse of the new text
gives: the same AST (dump with spans) and the same diagnostics."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.syntax import parse
from compiler.syntax.dump import dump
from compiler.syntax.incremental import reparse

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.bt"))
SNIPPETS = ["{", "}", ";", "(", ")", "/", '"', "@x = 1;", "$y", "printf(", "BEGIN { ", "\n", "kprobe:f ",
            "// c\n", "/*", "*/", "if (", "x", "->", ".", "#include <a.h>\n", "config = { a = 1 }\n",
            "macro m() { 1 }\n", "\ntracepoint:a:b { }\n", ""]  # fmt: skip


def signature(result) -> tuple:
    diagnostics = sorted((d.code, d.message, d.span.start, d.span.end) for d in result.diagnostics)
    return dump(result.program, result.source), diagnostics, [
        (c.span.start, c.span.end, c.text) for c in result.program.comments
    ], result.program.shebang


def edit(text: str, where: float, length: int, insert: str) -> str:
    start = int(where * len(text))
    return text[:start] + insert + text[start + length :]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(CORPUS),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from(SNIPPETS)), min_size=1, max_size=4),
)
def test_reparse_equals_full_parse(path: Path, edits) -> None:
    text = path.read_text()
    previous = parse(text)
    for where, length, insert in edits:
        text = edit(text, where, length, insert)
        incremental = reparse(previous, text)
        assert signature(incremental) == signature(parse(text)), (path.name, where, length, insert)
        previous = incremental


def test_edit_inside_one_probe_reuses_the_others() -> None:
    text = "".join(f"tracepoint:syscalls:sys_enter_read{n} {{ @a[{n}] = count(); }}\n" for n in range(50))
    previous = parse(text)
    untouched = previous.program.items[0]
    last = previous.program.items[-1]
    edited = text.replace("@a[25] = count();", "@a[25] = count(); @b = 1;")
    result = reparse(previous, edited)
    assert result.program.items[0] is untouched  # kept, not parsed again
    assert result.program.items[-1] is last and last.span.end == len(edited.encode()) - 1
    assert signature(result) == signature(parse(edited))
    assert previous.consumed and reparse(previous, text).program.items[0] is not untouched


def test_broken_edit_gives_the_same_errors_as_a_full_parse() -> None:
    text = "".join(f"BEGIN {{ @a[{n}] = count(); }}\n" for n in range(30))
    broken = text.replace("@a[10] = count();", "@a[10] = count(; if (")
    assert signature(reparse(parse(text), broken)) == signature(parse(broken))
