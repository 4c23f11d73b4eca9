"""Attach points are split into parts with roles and exact spans."""

from __future__ import annotations

import pytest

from compiler.syntax import parse
from compiler.syntax.ast import Role
from compiler.syntax.attach_points import canonical_provider, expand_positional, split_attach_point

P, T, F, E, O = Role.PROVIDER, Role.TARGET, Role.FUNCTION, Role.EVENT, Role.OFFSET

CASES = {
    "BEGIN": [(P, "BEGIN")],
    "kprobe:do_sys_open": [(P, "kprobe"), (F, "do_sys_open")],
    "kprobe:vmlinux:do_sys_open+0x10": [(P, "kprobe"), (T, "vmlinux"), (F, "do_sys_open"), (O, "0x10")],
    "kprobe:0xffffffff81000000": [(P, "kprobe"), (Role.ADDRESS, "0xffffffff81000000")],
    "kr:tcp_connect": [(P, "kr"), (F, "tcp_connect")],
    "uprobe:/bin/bash:readline": [(P, "uprobe"), (T, "/bin/bash"), (F, "readline")],
    "uprobe:/bin/x:cpp:\"ns::f(int)\"": [(P, "uprobe"), (T, "/bin/x"), (Role.LANGUAGE, "cpp"), (F, "ns::f(int)")],
    "uprobe:libc@malloc.c:35": [(P, "uprobe"), (T, "libc"), (Role.FILE, "malloc.c"), (Role.LINE, "35")],
    'uprobe:"/opt/my app/bin":main': [(P, "uprobe"), (T, "/opt/my app/bin"), (F, "main")],
    "usdt:/bin/x:prov:probe": [(P, "usdt"), (T, "/bin/x"), (Role.NAMESPACE, "prov"), (E, "probe")],
    "U:/bin/x:probe": [(P, "U"), (T, "/bin/x"), (E, "probe")],
    "tracepoint:syscalls:sys_enter_*": [(P, "tracepoint"), (T, "syscalls"), (E, "sys_enter_*")],
    "t:*open*": [(P, "t"), (E, "*open*")],
    "rawtracepoint:sched_switch": [(P, "rawtracepoint"), (E, "sched_switch")],
    "fentry:bpf:123:prog": [(P, "fentry"), (T, "bpf"), (Role.NAMESPACE, "123"), (F, "prog")],
    "profile:hz:99": [(P, "profile"), (Role.UNIT, "hz"), (Role.RATE, "99")],
    "interval:1s": [(P, "interval"), (Role.RATE, "1s")],
    "software:page-faults:100": [(P, "software"), (E, "page-faults"), (Role.COUNT, "100")],
    "watchpoint:0x1000:8:rw": [(P, "watchpoint"), (Role.ADDRESS, "0x1000"), (Role.LENGTH, "8"), (Role.MODE, "rw")],
    "iter:task:pinned": [(P, "iter"), (E, "task"), (Role.PIN, "pinned")],
    "self:signal:SIGUSR1": [(P, "self"), (T, "signal"), (E, "SIGUSR1")],
    "test:my_test": [(P, "test"), (Role.NAME, "my_test")],
    "opens=tracepoint:syscalls:sys_enter_open": [(Role.LABEL, "opens"), (P, "tracepoint"), (T, "syscalls"), (E, "sys_enter_open")],
    "uprobe:$1:main": [(P, "uprobe"), (T, "$1"), (F, "main")],
    "BEGIN:extra:more": [(P, "BEGIN"), (Role.EXTRA, "extra"), (Role.EXTRA, "more")],
    "nosuch:a:b": [(P, "nosuch"), (Role.EXTRA, "a"), (Role.EXTRA, "b")],
    "tracepoint:a:b:c": [(P, "tracepoint"), (T, "a"), (E, "b"), (Role.EXTRA, "c")],
}  # fmt: skip


@pytest.mark.parametrize("raw", CASES)
def test_parts_and_spans(raw: str) -> None:
    text = f"{raw} {{ }}"
    result = parse(text)
    assert result.diagnostics == []
    (ap,) = result.program.probes[0].attach_points
    assert ap.raw == raw and (ap.span.start, ap.span.end) == (0, len(raw.encode()))
    assert [(p.role, p.text) for p in ap.parts] == CASES[raw]
    for part in ap.parts:
        written = result.source.slice(part.span)
        assert written.replace('"', "") == part.text


def test_spans_are_bytes_in_non_ascii_paths() -> None:
    result = parse("uprobe:/opt/café/bin:main { }")
    function = result.program.probes[0].attach_points[0].part(Role.FUNCTION)
    assert (function.span.start, function.span.end) == (22, 26)
    assert function.text == "main"


@pytest.mark.parametrize(
    "name, canonical",
    [("BEGIN", "begin"), ("Tracepoint", "tracepoint"), ("kfunc", "fentry"), ("kretfunc", "fexit"),
     ("u", "uprobe"), ("U", "usdt"), ("rt", "rawtracepoint"), ("it", "iter"), ("nope", None)],
)  # fmt: skip
def test_provider_aliases(name: str, canonical: str | None) -> None:
    assert canonical_provider(name) == canonical


@pytest.mark.parametrize(
    "raw, params, expanded, errors",
    [
        ("uprobe:$1:main", ["/bin/bash"], "uprobe:/bin/bash:main", 0),
        ("uprobe:$1:$2", ["/bin/x"], "uprobe:/bin/x:", 0),  # a missing argument is empty
        ("usdt:$12:p", [str(n) for n in range(1, 13)], "usdt:12:p", 0),
        ('uprobe:"/opt/$1":main', ["x"], 'uprobe:"/opt/$1":main', 0),  # not inside quotes
        ("uprobe:$x:main", [], "uprobe:$x:main", 1),
        ("uprobe:$0:main", ["a"], "uprobe:$0:main", 1),
    ],
)  # fmt: skip
def test_expand_positional(raw: str, params: list[str], expanded: str, errors: int) -> None:
    text, problems = expand_positional(raw, params)
    assert text == expanded
    assert len(problems) == errors


def test_expanded_text_splits_into_parts() -> None:
    text, _ = expand_positional("uprobe:$1:readline", ["/bin/bash"])
    ap = split_attach_point(text, 0)
    assert [(p.role, p.text) for p in ap.parts] == [(P, "uprobe"), (T, "/bin/bash"), (F, "readline")]
