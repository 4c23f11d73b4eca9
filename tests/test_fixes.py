"""Fixes the analyser attaches to diagnostics (compiler/diagnostics.py `Fix`):
what they edit, and that the fixed program checks without the diagnostic.
The editor side (code actions) is tested in tests/lsp/test_code_actions.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fixtures.kernel import TRACEPOINTS, fixture_facts

from compiler.diagnostics import Diagnostic, Edit, Fix, Related, Severity, hint, render_all
from compiler.kernel.ctypes import CField, CInt, CPointer, Tracepoint
from compiler.kernel.facts import NoFacts
from compiler.semantic.analysis import analyse
from compiler.source import SourceText, Span


def applied(text: str, fix: Fix) -> str:
    data = text.encode()
    for edit in sorted(fix.edits, key=lambda e: e.span.start, reverse=True):
        data = data[: edit.span.start] + edit.text.encode() + data[edit.span.end :]
    return data.decode()


def only(text: str, code: str, facts=None):
    found = [d for d in analyse(text, facts or fixture_facts()).diagnostics if d.code == code]
    assert len(found) == 1, found
    return found[0]


def codes(text: str, facts=None) -> list[str]:
    return [d.code for d in analyse(text, facts or fixture_facts()).diagnostics]


def facts_with_sock_tracepoints():
    """The fixture facts plus the tracepoints tcp tools move to."""
    void_pointer = CPointer(CInt(1, False, "void"))
    extra = [
        Tracepoint("sock", "inet_sock_set_state", (
            CField("skaddr", void_pointer, 8), CField("oldstate", CInt(4, True, "int"), 16),
            CField("newstate", CInt(4, True, "int"), 20),
        )),
        Tracepoint("tcp", "tcp_retransmit_skb", (CField("skbaddr", void_pointer, 8), CField("skaddr", void_pointer, 16))),
    ]  # fmt: skip
    facts = fixture_facts()
    return replace(facts, tracepoint_formats={(t.category, t.event): t for t in TRACEPOINTS + extra})


def test_tcp_set_state_becomes_inet_sock_set_state() -> None:
    text = (
        "kprobe:tcp_set_state\n{\n  $sk = (struct sock *)arg0;\n"
        "  if (arg1 == 7) { printf(\"%d\\n\", $sk->__sk_common.skc_num); }\n}\n"
    )
    facts = facts_with_sock_tracepoints()
    found = only(text, "kprobe-tracepoint", facts)
    assert found.severity == Severity.HINT
    assert found.span == Span(0, len("kprobe:tcp_set_state"))
    [fix] = found.fixes
    assert fix.title == "Use tracepoint:sock:inet_sock_set_state" and fix.preferred
    fixed = applied(text, fix)
    assert fixed == (
        "tracepoint:sock:inet_sock_set_state\n{\n  $sk = (struct sock *)args.skaddr;\n"
        "  if (args.newstate == 7) { printf(\"%d\\n\", $sk->__sk_common.skc_num); }\n}\n"
    )
    assert codes(fixed, facts) == []


@pytest.mark.parametrize(
    "text",
    [
        "kprobe:do_sys_openat2 { printf(\"%s\\n\", func); }\n",  # no func in a tracepoint
        "kprobe:do_sys_openat2 { @[arg2] = count(); }\n",  # open_how has no field
        "kprobe:do_sys_openat2 { @[sarg0] = count(); }\n",
        "macro m() { arg1 }\nkprobe:do_sys_openat2 { @[m()] = count(); }\n",  # the macro may read argN
    ],
)
def test_hint_without_fix_when_the_body_cannot_follow(text: str) -> None:
    assert only(text, "kprobe-tracepoint").fixes == ()


@pytest.mark.parametrize(
    "text, facts",
    [
        ("kprobe:do_sys_openat2 { @ = count(); }\n", NoFacts()),  # nothing says the tracepoint exists
        ("kprobe:do_sys_openat2, kprobe:vfs_read { @ = count(); }\n", None),  # two attach points
        ("kprobe:do_sys_openat2+4 { @ = count(); }\n", None),  # an offset
        ("kprobe:vfs_read { @ = count(); }\n", None),  # no tracepoint
        ("kprobe:__x64_sys_write { @ = count(); }\n", None),  # no such tracepoint in the facts
        ("fentry:do_sys_openat2 { @ = count(); }\n", None),
    ],
)
def test_no_hint(text: str, facts) -> None:
    assert "kprobe-tracepoint" not in codes(text, facts)


def test_hints_are_not_printed_in_the_terminal() -> None:
    source = SourceText("kprobe:x {}\n", "a.bt")
    shown = render_all([hint("kprobe-tracepoint", "a hint", Span(0, 8))], source)
    assert shown == ""


def test_shifted_moves_every_span() -> None:
    fix = Fix("t", (Edit(Span(1, 2), "a"), Edit(Span(3, 3), "b")), True)
    item = Diagnostic(Severity.ERROR, "c", "m", Span(1, 4), (Related(Span(0, 1), "r"),), ("h",), (fix,))
    moved = item.shifted(10)
    assert moved.span == Span(11, 14) and moved.related[0].span == Span(10, 11)
    assert [e.span for e in moved.fixes[0].edits] == [Span(11, 12), Span(13, 13)]
    assert moved.fixes[0].preferred and moved.hints == ("h",)


def test_attach_point_fixes_follow_the_attach_point() -> None:
    # Attach-point checks are kept per text (attach_checks.py): the same
    # misspelt tracepoint lower down must get its own edit position.
    line = "tracepoint:syscalls:sys_enter_opena { print(1); }\n"
    text = line + line
    found = [d for d in analyse(text, fixture_facts()).diagnostics if d.code == "missing-probe"]
    assert len(found) == 2
    fixed = applied(applied(text, found[1].fixes[0]), found[0].fixes[0])
    assert fixed == line.replace("opena", "openat") * 2


def test_predicate_without_space_gets_one() -> None:
    text = "tracepoint:sched:sched_switch/pid > 1/ { print(1); }\n"
    found = only(text, "missing-probe")
    assert found.hints == ("put a space between the attach point and the predicate",)
    assert codes(applied(text, found.fixes[0])) == []


def test_specifier_fix_skipped_when_an_escape_makes_a_percent() -> None:
    # "\x25d" is "%d" once decoded: the literal's text has no specification
    # to point at, so no fix (the error stands).
    text = 'BEGIN { printf("\\x25d\\n", "abc"); }\n'
    assert only(text, "format").fixes == ()


def test_specifier_fix_inside_a_macro_argument() -> None:
    text = 'macro show(x) { printf("%d\\n", x) }\nBEGIN { show("abc"); }\n'
    found = only(text, "format")
    assert codes(applied(text, found.fixes[0])) == []


def test_let_on_the_same_line_as_the_block() -> None:
    text = "BEGIN { if (pid > 1) { $x = 1; } print($x); }\n"
    found = only(text, "scope")
    fixed = applied(text, found.fixes[0])
    assert fixed == "BEGIN { let $x; if (pid > 1) { $x = 1; } print($x); }\n"
    assert codes(fixed) == []


def test_misspelt_map_kind() -> None:
    text = "let @m = hahs(10);\nBEGIN { @m[1] = 2; }\n"
    found = only(text, "map-declaration")
    assert [f.title for f in found.fixes] == ["Change to 'hash'"]
    assert codes(applied(text, found.fixes[0])) == []
