"""The provider table and the attach-point checks (compiler/semantic/probes.py
and attach_checks.py)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.diagnostics import Severity
from compiler.kernel.ctypes import CFunction, CRecord, CVoid, Tracepoint
from compiler.kernel.facts import FixtureFacts, NoFacts
from compiler.semantic import probes
from compiler.semantic.probes import (
    all_providers,
    canonical_name,
    check_attach_point,
    check_probes,
    expand_wildcards,
    provider,
)
from compiler.source import Span
from compiler.syntax import ast, parse
from compiler.syntax.ast import Role
from compiler.syntax.attach_points import PROVIDER_ALIASES

TRACEPOINTS = [("syscalls", "sys_enter_openat"), ("syscalls", "sys_exit_openat"),
               ("sched", "sched_switch")]  # fmt: skip


def fixture(**options) -> FixtureFacts:
    formats = {tp: Tracepoint(tp[0], tp[1], ()) for tp in TRACEPOINTS}
    records = {("struct", "bpf_iter__task"): CRecord("struct", "bpf_iter__task", 16, ())}
    names = ("vfs_read", "vfs_write", "tcp_v4_rcv")
    functions = {name: CFunction(name, CVoid(), ()) for name in names}
    binaries = {"/bin/bash": ["readline", "rl_set_prompt", "main"]}
    usdt = {"/bin/x": [("prov", "start"), ("prov", "stop")]}
    return FixtureFacts(tracepoint_formats=formats, records=records, functions=functions,
                        binaries=binaries, usdt=usdt, **options)  # fmt: skip


def check(text: str, facts=None, **options):
    """Diagnostics for a program's probes, each as (message, source text of its span, hints)."""
    result = parse(text)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]
    found = check_probes(result.program.probes, facts or NoFacts(), **options)
    return [(d.message, result.source.slice(d.span), d.hints) for d in found], found


def attach_point(raw: str) -> ast.AttachPoint:
    result = parse(raw + " {}")
    assert result.diagnostics == []
    return result.program.probes[0].attach_points[0]


# ------------------------------------------------------------------ table


def test_every_provider_is_in_the_table_once():
    names = [p.name for p in all_providers()]
    assert len(names) == len(set(names)) == 21
    assert set(names) == set(PROVIDER_ALIASES.values())


@pytest.mark.parametrize("entry", all_providers(), ids=lambda p: p.name)
def test_entry_has_docs_shapes_and_an_example_that_checks(entry):
    assert entry.summary and entry.shapes
    assert all(shape.startswith(entry.name) for shape in entry.shapes)
    examples = re.findall(r"```\n(.*?)```", entry.doc, re.S)
    assert examples, "docs need a fenced example"
    prose = entry.doc.split("```")[0]
    assert 2 <= len(re.findall(r"[.!?](?=\s|$)", prose)) <= 5
    for example in examples:
        messages, _ = check(example)
        assert messages == []
    assert entry.shapes[0] in entry.markdown()


@pytest.mark.parametrize("alias, name", sorted(PROVIDER_ALIASES.items()))
def test_aliases_resolve(alias, name):
    assert provider(alias).name == name
    if len(alias) > 1:  # one-letter aliases are case-sensitive (`u` and `U` differ)
        assert provider(alias.upper()).name == name
    if alias != name:
        assert alias in provider(name).aliases


def test_lookup_details():
    assert provider("U").name == "usdt" and provider("u").name == "uprobe"
    assert provider("BEGIN").name == "begin" and provider("kFunc").name == "fentry"
    assert provider("nosuch") is None and provider("") is None
    assert provider("kprobe").aliases == ("k",)


def test_context_builtins():
    by = {p.name: p for p in all_providers()}
    assert by["tracepoint"].args == probes.ARGS_TRACEPOINT and not by["tracepoint"].arg_n
    assert by["fexit"].retval and by["fexit"].is_return and by["fexit"].args == probes.ARGS_BTF
    assert by["uprobe"].args == probes.ARGS_DWARF and by["uprobe"].arg_n
    assert by["kretprobe"].retval and not by["kretprobe"].arg_n
    assert by["rawtracepoint"].arg_n and by["rawtracepoint"].args == probes.ARGS_BTF
    assert by["iter"].ctx == probes.CTX_ITER and by["profile"].ctx == probes.CTX_PERF
    assert not by["begin"].func and by["kprobe"].func and by["fentry"].func
    assert {p.name for p in all_providers() if p.is_return} == {"kretprobe", "uretprobe", "fexit"}
    assert by["asyncwatchpoint"].removed == "0.25" and by["self"].since == "0.22"
    assert not by["iter"].wildcards and by["tracepoint"].wildcards


def test_checks_module_can_be_imported_first():
    code = "import compiler.semantic.attach_checks, compiler.semantic.probes as p; p.check_probe"
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ checks

# (program, message, the source text the error underlines, a hint it must have or "")
ERRORS = [
    ("kprob:f {}", "Invalid probe type: kprob", "kprob", "did you mean 'kprobe'?"),
    ("tracepiont:a:b {}", "Invalid probe type: tracepiont", "tracepiont", "'tracepoint'"),
    ("BEGINN {}", "Invalid probe type: BEGINN", "BEGINN", "'begin'"),
    ("x=nosuch:a {}", "Invalid probe type: nosuch", "nosuch", ""),
    ("zz*:foo {}", "No probe type matched for zz*", "zz*", ""),
    ("begin:x {}", "begin probe type requires 0 arguments, found 1", "x", ""),
    ("kprobe:a:b:c {}", "kprobe probe type requires 1 or 2 arguments, found 3", "c", ""),
    ("kprobe:f@x {}", "'@' is only allowed in uprobe source locations "
     "(uprobe:BINARY@FILE:LINE)", "kprobe:f@x", ""),
    ("tracepoint:syscalls {}", "tracepoint probe type requires 2 arguments, found 1",
     "tracepoint:syscalls", ""),
    ("uprobe:f {}", "uprobe probe type requires 2 or 3 arguments, found 1", "uprobe:f", ""),
    ("usdt:probe {}", "usdt probe type requires 2 or 3 arguments, found 1", "usdt:probe", ""),
    ("software {}", "software probe type requires 1 or 2 arguments, found 0", "software", ""),
    ("profile:hz:99:x {}", "profile probe type requires 1 or 2 arguments, found 3", "x", ""),
    ("watchpoint:0x10:8 {}", "watchpoint probe type requires 3 arguments, found 2",
     "watchpoint:0x10:8", ""),
    ("self:signal {}", "self probe type requires 2 arguments, found 1", "self:signal", ""),
    ("iter:task:a:b {}", "iter probe type takes 2 arguments (1 optional)", "b", ""),
    # rates
    ("interval:10 {}", "Invalid rate of interval probe. Minimum is 1000 or 1us. "
     "Found: 10 nanoseconds", "10", ""),
    ("profile:999ns {}", "Invalid rate of profile probe. Minimum is 1000 or 1us. "
     "Found: 999 nanoseconds", "999ns", ""),
    ("profile:hz:abc {}", "Invalid rate of profile probe: invalid integer: abc", "abc", ""),
    ("i:1q {}", "Invalid rate of interval probe: invalid trailing bytes: 1q", "1q", ""),
    ("interval:ss:1 {}", "ss is not an accepted unit of time", "ss", "hz, s, ms and us"),
    ("profile:hz:0 {}", "profile frequency should be a positive integer", "0", ""),
    # offsets and addresses
    ("kprobe:f+1+2 {}", "Cannot take more than one offset", "1+2", ""),
    ("kprobe:f+x {}", "Invalid offset: invalid integer: x", "x", ""),
    ("kprobe:f+ {}", "Invalid offset", "f+", ""),
    ("kprobe:+5 {}", "Invalid offset", "+5", ""),
    ("kretprobe:f+0x10 {}", "Offset not allowed", "0x10", ""),
    ("uretprobe:/bin/bash:readline+4 {}", "Offset not allowed", "4", ""),
    ("kprobe:0xffffffff81000000 {}", "Probing by address requires --unsafe",
     "0xffffffff81000000", ""),
    ("kretprobe:1e6 {}", "Probing by address requires --unsafe", "1e6", ""),
    ("uprobe:/bin/*:0x1000 {}", "Cannot use wildcards with absolute address", "0x1000", ""),
    ("kprobe: {}", "kprobes should be attached to a function or an address", "kprobe:", ""),
    ("uprobe:/bin/bash: {}", "uprobe should be attached to a function and/or address",
     "uprobe:/bin/bash:", ""),
    ("uprobe::f {}", "uprobe should have a target", "uprobe::f", ""),
    ("uprobe:/bin/x:rust:f {}", "unsupported language type: rust", "rust", "cpp"),
    # source locations
    ("uretprobe:/bin/bash@a.c:1 {}", "Source code location not allowed", "a.c", ""),
    ("uprobe:/bin/*@a.c:1 {}", "Cannot use wildcards with source code location", "/bin/*", ""),
    ("uprobe:/bin/x@a.c {}", "Invalid uprobe arguments, expected format: "
     "uprobe:TARGET@FILE:LINE[:COL]", "uprobe:/bin/x@a.c", ""),
    ("uprobe:/bin/x@a.c:x {}", "Invalid line number: invalid integer: x", "x", ""),
    ("uprobe:/bin/x@a.c:1:y {}", "Invalid column number: invalid integer: y", "y", ""),
    # software and hardware events
    ("software:faultz:10 {}", "faultz is not a software probe", "faultz",
     "did you mean 'faults'?"),
    ("hardware:cache-mises {}", "cache-mises is not a hardware probe", "cache-mises",
     "'cache-misses'"),
    ("software:f* {}", "wildcards are not allowed for software probe type", "f*", ""),
    ("software:faults:0 {}", "software count should be a positive integer", "0", ""),
    ("hardware:cycles:lots {}", "Invalid count for hardware probe: invalid integer: lots",
     "lots", ""),
    # watchpoints
    ("watchpoint:0:8:w {}", "watchpoint must be attached to a non-zero address", "0", ""),
    ("watchpoint:0x10:3:w {}", "watchpoint length must be one of (1,2,4,8)", "3", ""),
    ("watchpoint:0x10:8:q {}", "watchpoint mode must be combination of (r,w,x)", "q", ""),
    ("watchpoint:0x10:8:ww {}", "watchpoint modes may not be duplicated", "ww", ""),
    ("watchpoint:0x10:8:r {}", "invalid watchpoint mode: r", "r", "supported modes: rw,w,x"),
    ("watchpoint:0xzz:8:w {}", "Invalid function/address argument: invalid trailing bytes: 0xzz",
     "0xzz", ""),
    # removed forms
    ("asyncwatchpoint:f+arg0:8:w {}", "asyncwatchpoint probes were removed in bpftrace 0.25",
     "asyncwatchpoint", "watchpoint:ADDRESS:LENGTH:MODE"),
    ("aw:f+arg1:4:rw {}", "asyncwatchpoint probes were removed in bpftrace 0.25", "aw", ""),
    ("watchpoint:do_sys_open+arg1:8:w {}", "watchpoint:FUNCTION+argN was removed in bpftrace 0.25",
     "do_sys_open+arg1", "absolute address"),
    ("w:f+arg0 {}", "watchpoint:FUNCTION+argN was removed in bpftrace 0.25", "f+arg0", ""),
    # the rest
    ("self:signal:SIGUSR2 {}", "SIGUSR2 is not a supported signal", "SIGUSR2", "SIGUSR1"),
    ("self:timer:x {}", "timer is not a supported trigger", "timer", ""),
    ("test: {}", "test probes must have a name", "test:", ""),
    ("fentry:bpf {}", "the 'bpf' variant of this probe requires a bpf program name and "
     "optional bpf program id", "bpf", ""),
    ("fentry:bpf:x:y {}", "bpf program id must be a number or '*'", "x", ""),
    ("fexit:a:b:c {}", "Only the 'bpf' variant of this probe supports 4 arguments",
     "fexit:a:b:c", ""),
    ("fentry: {}", "fentry/fexit should specify a function", "fentry:", ""),
    ("rt: {}", "rawtracepoint should be attached to a function", "rt:", ""),
    ("rawtracepoint {}", "rawtracepoint probe type requires 2 or 1 arguments, found 0",
     "rawtracepoint", ""),
    ("usdt::probe {}", "usdt probe must specify at least path or pid to probe. To target all "
     "paths/pids set the path to '*'.", "usdt::probe", ""),
    ("iter:task* {}", "iter probe type does not support wildcards", "iter:task*", ""),
    ("iter: {}", "iter should specify an iterator's name", "iter:", ""),
    ("kprobe:$x {}", "invalid trailing character for positional param: x. Try quoting this "
     'entire part if this is intentional e.g. "$x".', "kprobe:$x", ""),
]  # fmt: skip


@pytest.mark.parametrize("text, message, underlined, hint", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(text, message, underlined, hint):
    messages, found = check(text)
    assert [m[:2] for m in messages] == [(message, underlined)]
    assert found[0].severity == Severity.ERROR
    if hint:
        assert any(hint in h for h in messages[0][2]), messages[0][2]


VALID = [
    "begin {}", "BEGIN {}", "begin:* {}", "END {}", "self:signal:SIGUSR1 {}", "test:a {}",
    "bench:b {}", "kprobe:vfs_read {}", "k:ext4:ext4_sync_fs+0x10 {}", "kprobe:tcp_* {}",
    "kr:vfs_read {}", "uprobe:/bin/bash:readline {}", "u:libc:malloc+8 {}",
    "uprobe:/bin/bash:0x4a2b0 {}", 'uprobe:/bin/x:cpp:"ns::f(int)" {}',
    "uprobe:/bin/x@a.c:3 {}", "uprobe:/bin/x@a.c:3:4 {}", "uretprobe:/bin/bash:readline {}",
    "usdt:/bin/x:probe {}", "U:/bin/x:prov:probe {}", "usdt:*:loop {}",
    "tracepoint:syscalls:sys_enter_openat {}", "t:*open* {}", "t:syscalls:* {}",
    "rawtracepoint:sched_switch {}", "rt:vmlinux:kfree_skb {}", "fentry:vfs_read {}",
    "kfunc:vmlinux:vfs_read {}", "fexit:bpf:prog {}", "fentry:bpf:123:prog {}",
    "fentry:bpf:*:prog {}", "profile:hz:99 {}", "profile:s:1 {}", "profile:ms:10 {}",
    "profile:us:100 {}", "profile:1000000 {}", "p:1_000_000 {}", "interval:1s {}",
    "i:s:1 {}", "interval:0x10000 {}", "interval:1e6 {}", "interval:* {}",
    "software:page-faults:100 {}", "s:cs {}", "software:faults: {}", "software:cpu-clock:* {}",
    "hardware:cycles:1e6 {}", "h:cache-misses {}", "watchpoint:0x10000000:8:rw {}",
    "w:0x1000:4:wr {}", "watchpoint:0x1000:1:x {}", "iter:task {}", "it:task_file:/sys/fs/bpf/x {}",
    "name=kprobe:f {}", "k*:foo {}", "uprobe:$1:main {}", "interval:$1 {}", "$1 {}",
    "tracepoint:$1:$2 {}", 'kprobe:"$1" {}',
]  # fmt: skip


@pytest.mark.parametrize("text", VALID)
def test_valid(text):
    assert check(text)[0] == []


def test_unsafe_allows_kernel_addresses():
    assert check("kprobe:0xffffffff81000000 {}", unsafe=True)[0] == []
    assert check("uprobe:/bin/bash: {}", unsafe=True)[0] == []


def test_with_pid_the_binary_may_be_left_out():
    assert check("uprobe:readline {} usdt:probe {} U::p {}", with_pid=True)[0] == []


def test_error_attach_points_are_skipped():
    broken = ast.AttachPoint(Span(0, 3), "foo", [ast.AttachPart(Span(0, 3), Role.PROVIDER, "foo")],
                             is_error=True)  # fmt: skip
    assert check_attach_point(broken, NoFacts()) == []
    probe = ast.Probe(Span(0, 3), [broken, broken], None, ast.Block(Span(0, 0), []))
    assert probes.check_probe(probe, NoFacts()) == []


# ------------------------------------------------------ facts: tracepoints


def test_tracepoint_not_found_with_hint():
    messages, _ = check("tracepoint:syscalls:sys_enter_opnat {}", fixture())
    hint = "did you mean 'syscalls:sys_enter_openat'?"
    assert messages == [("No matches for tracepoint syscalls:sys_enter_opnat.",
                         "syscalls:sys_enter_opnat", (hint,))]  # fmt: skip


def test_tracepoint_in_the_wrong_category_names_the_right_one():
    messages, _ = check("t:syscall:sys_exit_openat {}", fixture())
    assert messages[0][2] == ("did you mean 'syscalls:sys_exit_openat'?",)


def test_predicate_glued_to_a_tracepoint():
    messages, _ = check("t:sched:sched_switch/pid/ {}", fixture())
    assert "space" in messages[0][2][0]


def test_tracepoints_without_facts_are_not_reported():
    assert check("tracepoint:nosuch:event {} t:nosuch:* {}", NoFacts())[0] == []
    assert check("t:nosuch:event {}", fixture(has_tracepoints=False))[0] == []


def test_tracepoint_wildcards():
    assert check("t:syscalls:sys_*_openat {} t:*switch* {} t:s*:* {}", fixture())[0] == []
    messages, _ = check("t:syscalls:*nosuch* {} t:*nosuch* {}", fixture())
    assert [m[:2] for m in messages] == [
        ("No matches for tracepoint syscalls:*nosuch*.", "syscalls:*nosuch*"),
        ("No matches for tracepoint *:*nosuch*.", "*nosuch*"),
    ]


def test_missing_probes_config():
    _, found = check("t:a:b {}", fixture(), missing_probes="warn")
    assert [(d.severity, d.message) for d in found] == [
        (Severity.WARNING, "No matches for tracepoint a:b. Skipping.")]  # fmt: skip
    assert check("t:a:b {}", fixture(), missing_probes="ignore")[0] == []


def test_iterators_come_from_btf():
    assert check("iter:task {}", fixture())[0] == []
    messages, _ = check("iter:nosuch {}", fixture())
    assert messages[0][:2] == ("iter nosuch not available for your kernel version.", "nosuch")
    assert check("iter:nosuch {}", NoFacts())[0] == []


# ------------------------------------------------------------- probe rules


def test_iter_must_be_the_only_attach_point():
    messages, found = check("iter:task, kprobe:f {}")
    assert [m[:2] for m in messages] == [("iter probe only supports one attach point", "iter:task")]
    assert [r.message for r in found[0].related] == ["also attached here"]


def test_iter_must_be_the_only_probe():
    messages, found = check("begin {} iter:task {} kprobe:f {}")
    assert [m[:2] for m in messages] == [
        ("an iter probe must be the only probe in a program", "iter:task")]  # fmt: skip
    assert [r.span for r in found[0].related] == [Span(22, 30)]  # `kprobe:f`
    assert check("begin {} iter:task {} end {}")[0] == []


def test_test_names_are_unique():
    messages, found = check("test:a {} test:b {} test:a {} bench:a {}")
    assert [m[:2] for m in messages] == [
        ('"a" was used as the name for more than one TEST probe', "a")]  # fmt: skip
    assert found[0].span.start > 20 and found[0].related[0].message == "this is the other instance"


def test_several_begin_probes_are_fine():
    assert check("begin {} BEGIN {} begin, end {}")[0] == []


# ---------------------------------------------------------------- expansion


def test_canonical_names():
    names = {
        "t:syscalls:sys_enter_read": "tracepoint:syscalls:sys_enter_read",
        "opens=kprobe:f+0x10": "kprobe:f+0x10",
        "BEGIN:*": "begin",
        "u:/bin/x@a.c:3": "uprobe:/bin/x@a.c:3",
        'uprobe:/bin/x:cpp:"ns::f(int)"': "uprobe:/bin/x:cpp:ns::f(int)",
        "i:s:1": "interval:s:1",
    }
    assert {raw: canonical_name(attach_point(raw)) for raw in names} == names


def test_expand_wildcards():
    facts = fixture()

    def expand(raw, facts=facts):
        return expand_wildcards(attach_point(raw), facts)

    assert expand("t:syscalls:sys_*") == [
        "tracepoint:syscalls:sys_enter_openat", "tracepoint:syscalls:sys_exit_openat"]  # fmt: skip
    assert expand("t:*switch*") == ["tracepoint:sched:sched_switch"]
    assert expand("t:sched:sched_switch") == ["tracepoint:sched:sched_switch"]
    assert expand("kprobe:vfs_*") == ["kprobe:vfs_read", "kprobe:vfs_write"]
    assert expand("fexit:vmlinux:tcp_*") == ["fexit:vmlinux:tcp_v4_rcv"]
    assert expand("uprobe:/bin/bash:rl_*") == ["uprobe:/bin/bash:rl_set_prompt"]
    assert expand("usdt:/bin/x:st*") == ["usdt:/bin/x:prov:start", "usdt:/bin/x:prov:stop"]
    assert expand("t:syscalls:*", NoFacts()) == []
    assert expand("profile:hz:99") == ["profile:hz:99"]


# ---------------------------------------------------------------- robustness

HEADS = sorted({a for p in all_providers() for a in p.names} | {"BEGIN", "x=kprobe", "k*", "foo"})
PIECES = [":", "@", "+", "*", "$1", "$x", '"a:b"', "0x10", "0", "99", "1s", "f", "f+arg0",
          "signal", "bpf", "cpp", "hz", "/bin/bash", "rw", "task", "faults", "syscalls",
          "sys_enter_openat", "[a]", "-", "1e6"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(HEADS), st.lists(st.sampled_from(PIECES), max_size=8), st.booleans())
def test_checks_never_raise_and_spans_stay_inside(head, pieces, unsafe):
    text = head + "".join(pieces) + " {}"
    result = parse(text)
    size = len(result.source.data)
    for facts in (NoFacts(), fixture()):
        found = check_probes(result.program.probes, facts, unsafe=unsafe, with_pid=unsafe)
        for d in found:
            assert 0 <= d.span.start <= d.span.end <= size
            assert all(0 <= r.span.start <= r.span.end <= size for r in d.related)
        for ap in (ap for probe in result.program.probes for ap in probe.attach_points):
            assert isinstance(expand_wildcards(ap, facts), list)
