"""The builtins table: every entry well formed, the reference page up to
date, and the return-type rules behaving as bpftrace's type resolver does."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from compiler.docs import REGENERATE, render_reference
from compiler.semantic import types as T
from compiler.semantic.builtins import (
    ASYNC, COMPILE_TIME, DEPRECATED, MAP_FIRST, STATEMENT, UNSAFE, UNSTABLE,
    Arg, CallInfo, _MODULES, all_builtins, lookup,
)  # fmt: skip
from compiler.semantic.analysis import analyse
from compiler.syntax import ast, parse
from compiler.kernel.facts import NoFacts

ROOT = Path(__file__).parent.parent
EXAMPLE = re.compile(r"^```(?:bpftrace)?\n.+?\n```$", re.MULTILINE | re.DOTALL)
PROVIDERS = set(
    "begin end self test bench kprobe kretprobe uprobe uretprobe usdt tracepoint rawtracepoint "
    "fentry fexit profile interval software hardware watchpoint asyncwatchpoint iter".split()
)
WORDS = set(
    "int string pointer array map mapentry variable tuple record inet buffer ksym usym stack "
    "timestamp enum any ident type".split()
)
ENTRIES = all_builtins()


# ------------------------------------------------------------ the table


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_entry_has_docs_with_an_example(entry) -> None:
    assert entry.doc.strip(), f"{entry.name} has no docs"
    assert EXAMPLE.search(entry.doc), f"{entry.name}'s docs have no fenced example"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_signature_has_a_return_type_or_rule(entry) -> None:
    assert entry.signatures, f"{entry.name} has no signature"
    for sig in entry.signatures:
        assert isinstance(sig.returns, T.Type) or callable(sig.returns), sig.label(entry.name)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entries_use_known_words(entry) -> None:
    assert entry.kind in ("variable", "function")
    assert entry.flags <= {ASYNC, COMPILE_TIME, DEPRECATED, MAP_FIRST, STATEMENT, UNSAFE, UNSTABLE,
                           "aggregation"}
    assert entry.providers is None or entry.providers <= PROVIDERS
    assert not entry.provider_hint or entry.providers is not None
    for sig in entry.signatures:
        for param in (*sig.params, *([sig.variadic] if sig.variadic else [])):
            for word in param.accepts:
                assert re.sub(r"\[\d+\]\Z", "", word) in WORDS, f"{entry.name}: {word}"
            assert not param.choices or "ident" in param.accepts


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_examples_parse(entry) -> None:
    for example in EXAMPLE.findall(entry.doc):
        code = example.strip("`").removeprefix("bpftrace").strip("\n")
        assert parse(code).diagnostics == [], f"{entry.name}'s example: {code}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_examples_check_without_errors(entry) -> None:
    # Without kernel facts: the fields and probes they use are unknown, not wrong.
    for example in EXAMPLE.findall(entry.doc):
        code = example.strip("`").removeprefix("bpftrace").strip("\n")
        config = "config = { unstable_tseries = enable; unstable_dw_ustack = enable }\n"
        if ("tseries" in code or "dw_ustack" in code) and "config" not in code:
            code = config + code
        errors = [str(d) for d in analyse(code, NoFacts(), unsafe=True).diagnostics if d.is_error]
        assert errors == [], f"{entry.name}'s example: {code}"


def test_names_and_aliases_are_unique() -> None:
    names = Counter(n for m in _MODULES for e in m.BUILTINS for n in (e.name, *e.aliases))
    assert [n for n, c in names.items() if c > 1] == []


def test_signatures_of_one_entry_differ() -> None:
    for entry in ENTRIES:
        shapes = [
            (tuple(p.accepts for p in s.params), s.variadic is not None) for s in entry.signatures
        ]
        assert len(shapes) == len(set(shapes)), entry.name


def test_numbered_arguments_share_one_entry() -> None:
    assert lookup("arg3") is lookup("argN") is lookup("arg0")
    assert lookup("arg3").kind == "variable"
    assert lookup("sarg1") is lookup("sargN")
    assert lookup("sargN").has(DEPRECATED)
    assert lookup("arg") is None and lookup("argx") is None and lookup("nosuch") is None


def test_everything_in_the_language_notes_is_declared() -> None:
    expected = """pid tid uid gid nsecs elapsed jiffies numaid cpu ncpus comm pcomm ppid leader_comm
    leader_tid curtask rand cgroup username usermode probe probetype func retval argN sargN args
    ctx kstack ustack cpid has_cpid config clear zero delete has_key find len print printf
    errorf warnf fail debugf time cat system join exit signal signal_thread override unwatch
    assert static_assert str buf path strncmp strcontains strstr strlen strcap str_concat memcmp
    strerror syscall_name signal_name ntop pton macaddr ksym usym kaddr uaddr percpu_kaddr reg
    kptr uptr cgroupid cgroup_path bswap skboutput socket_cookie strftime getopt kfunc_exist
    kfunc_allowed is_str is_ptr is_array is_integer is_unsigned_integer is_literal is_err
    container_of write_user dw_ustack count sum min max avg stats hist lhist tseries""".split()
    assert [n for n in expected if lookup(n) is None] == []
    assert {e.name for e in ENTRIES} == set(expected)
    for syntax in ("sizeof", "offsetof", "typeof", "typeinfo"):
        assert lookup(syntax) is None


def test_flags_where_bpftrace_sets_them() -> None:
    for name in ("system", "override", "signal", "signal_thread", "write_user"):
        assert lookup(name).has(UNSAFE), name
    for name in ("printf", "print", "time", "cat", "system", "join", "exit", "clear", "zero",
                 "ksym", "usym", "strftime", "cgroup_path", "errorf", "warnf"):
        assert lookup(name).has(ASYNC), name
    for name in ("kaddr", "uaddr", "pton", "cgroupid", "getopt", "fail", "static_assert"):
        assert lookup(name).has(COMPILE_TIME), name
    for name in ("clear", "zero", "has_key", "find"):
        assert lookup(name).has(MAP_FIRST), name
    assert not lookup("delete").has(MAP_FIRST)  # delete(@m[k]) is still accepted
    assert lookup("dw_ustack").has(UNSTABLE)
    assert lookup("override").providers == {"kprobe"}
    assert lookup("retval").providers == {"kretprobe", "uretprobe", "fexit"}


def test_arities() -> None:
    assert (lookup("printf").min_args, lookup("printf").max_args) == (1, 128)
    assert (lookup("debugf").min_args, lookup("debugf").max_args) == (1, 4)
    assert (lookup("print").min_args, lookup("print").max_args) == (1, 3)
    assert (lookup("ntop").min_args, lookup("ntop").max_args) == (1, 2)
    assert (lookup("kstack").min_args, lookup("kstack").max_args) == (0, 2)
    assert (lookup("delete").min_args, lookup("delete").max_args) == (1, 2)
    assert (lookup("getopt").min_args, lookup("getopt").max_args) == (1, 3)
    assert lookup("printf").signatures[0].params[0].literal


def test_docs_say_when_newer_builtins_arrived() -> None:
    for module in _MODULES:
        if module.__name__.endswith(".aggregations"):
            continue
        for entry in module.BUILTINS:
            if entry.since and entry.since > "0.26":
                assert "not yet in a release" in entry.doc, entry.name
            elif entry.since:
                assert entry.since in entry.doc, entry.name


def test_reference_page_is_up_to_date() -> None:
    page = ROOT / "docs" / "builtins.md"
    current = page.read_text(encoding="utf-8") if page.exists() else ""
    assert current == render_reference(), f"docs/builtins.md is stale; regenerate it: {REGENERATE}"


def test_reference_page_has_a_section_per_builtin() -> None:
    page = render_reference()
    for entry in ENTRIES:
        assert f"\n### {entry.name}\n" in page
    assert "- `comm(int pid)` → `string[64]`" in page
    assert "- `pid` → `uint32`" in page


# ------------------------------------------------------------ the rules


def lit(value) -> Arg:
    if isinstance(value, bytes):
        return Arg(None, T.String(len(value) + 1), value)
    if isinstance(value, bool):
        return Arg(None, T.BOOL, value)
    return Arg(None, T.literal_type(abs(value), value < 0), value)


def val(t: T.Type) -> Arg:
    return Arg(None, t)


def ident(name: str) -> Arg:
    return Arg(None, T.UNKNOWN, name=name)


def result(name: str, *args: Arg, provider: str | None = "kprobe", max_strlen: int = 1024):
    """What a call's type is, choosing the signature by arity."""
    entry = lookup(name)
    sig = next(
        s for s in entry.signatures
        if s.min_args <= len(args) <= s.most_args and (len(args) == s.min_args or s.variadic)
    )  # fmt: skip
    if isinstance(sig.returns, T.Type):
        return sig.returns
    return sig.returns(CallInfo(args, provider, max_strlen))


PTR = val(T.Pointer(T.INT8))
U8 = T.UINT8


def test_str() -> None:
    assert result("str", PTR, lit(8)) == T.String(9)  # len bytes read, len + 1 with the NUL
    assert result("str", PTR) == T.String(1024)
    assert result("str", PTR, max_strlen=64) == T.String(64)
    assert result("str", PTR, lit(5000)) == T.String(1024)  # cut to max_strlen
    assert result("str", PTR, val(T.UINT32)) == T.String(1024)
    assert result("str", PTR, lit(-1)) == "str() cannot use negative length (-1)"


def test_buf() -> None:
    assert result("buf", val(T.Array(U8, 16))) == T.Buffer(16)
    assert result("buf", PTR, lit(8)) == T.Buffer(8)
    assert result("buf", PTR, lit(5000)) == T.Buffer(1020)
    assert result("buf", PTR) == "buf() expects a length argument for non-array type int8 *"
    assert result("buf", PTR, lit(-2)) == "buf() cannot use negative length (-2)"


def test_ntop() -> None:
    assert result("ntop", lit(2), lit(1)) == T.Inet()
    assert result("ntop", val(T.UINT32)) == T.Inet()
    assert result("ntop", val(T.Array(U8, 4))) == T.Inet()
    assert result("ntop", lit(10), val(T.Array(T.UINT32, 4))) == T.Inet()
    assert result("ntop", val(T.Array(U8, 6))) == "ntop() argument must be 4 or 16 bytes in size"
    sig = lookup("ntop").signatures[0]
    # Any array (the rule checks its size); strings only as char[4]/char[16].
    assert sig.params[0].accepts == ("int", "array", "string[4]", "string[16]")


def test_pton() -> None:
    assert result("pton", lit(b"127.0.0.1")) == T.Array(U8, 4)
    assert result("pton", lit(b"fe80::1")) == T.Array(U8, 16)
    assert result("pton", lit(b"localhost")).startswith("pton() expects an string argument")
    assert result("pton", lit(b"1.2.3")) == "pton() expects a valid IPv4/IPv6 address, got 1.2.3"


def test_macaddr() -> None:
    assert result("macaddr", val(T.Array(U8, 6))) == T.MACADDR
    assert result("macaddr", val(T.Array(U8, 8))) == T.MACADDR
    assert result("macaddr", PTR) == T.MACADDR
    assert result("macaddr", val(T.Array(U8, 4))) == (
        "macaddr() argument must be at least 6 bytes in size"
    )
    assert result("macaddr", lit(b"aabbccddeeff")) == (
        "macaddr() does not support literal string arguments"
    )


def test_task_variables() -> None:
    assert result("comm") == T.String(16)
    assert result("comm", lit(1)) == T.String(64)
    assert result("pid") == T.UINT32 and result("pid", ident("init")) == T.UINT32
    assert result("ppid") == T.INT32
    assert result("curtask") == T.Pointer(T.CRecord("struct", "task_struct"))
    assert result("cpu") == T.UINT64 and result("usermode") == T.UINT8


def test_probe_dependent_variables() -> None:
    assert result("func", provider="kprobe") == T.KSYM
    assert result("func", provider="uretprobe") == T.USYM
    assert result("retval", provider="kretprobe") == T.UINT64
    assert result("retval", provider="fexit") == T.UNKNOWN
    assert result("ctx", provider="kprobe") == T.Pointer(T.CRecord("struct", "pt_regs"))
    assert result("ctx", provider="profile") == T.Pointer(
        T.CRecord("struct", "bpf_perf_event_data")
    )
    assert result("ctx", provider="iter") == T.UNKNOWN
    assert result("args", provider="tracepoint") == T.UNKNOWN


def test_stacks() -> None:
    assert result("kstack") == T.KSTACK
    assert result("kstack", ident("perf")) == T.KSTACK
    assert result("kstack", lit(5)) == T.KSTACK
    assert result("ustack", ident("build_id"), lit(3)) == T.USTACK
    build_id = "'build_id' stack mode can only be used for ustack"
    assert result("kstack", ident("build_id")) == build_id
    assert result("kstack", lit(3), lit(4)) == "Expected stack mode as first argument"
    assert result("ustack", val(T.UINT64)) == "ustack: invalid limit value"
    assert result("kstack", lit(2000)) == (
        "kstack([int limit]): limit shouldn't exceed 1024, 2000 given"
    )
    assert result("kstack", ident("build_id"), lit(3)) == build_id


def test_integer_rules() -> None:
    assert result("bswap", val(T.UINT16)) == T.UINT16
    assert result("bswap", val(T.INT32)) == T.UINT32
    assert result("bswap", val(T.BOOL)) == "bswap() only supports integer arguments (bool provided)"
    assert result("strncmp", val(T.String(16)), lit(b"bash"), lit(4)) == T.UINT64
    assert result("strncmp", val(T.String(16)), lit(b"bash"), lit(-4)) == (
        "Builtin strncmp requires a non-negative literal"
    )


def test_getopt() -> None:
    assert result("getopt", lit(b"verbose")) == T.BOOL
    assert result("getopt", lit(b"verbose"), lit(False)) == T.BOOL
    assert result("getopt", lit(b"n"), lit(10)) == T.UINT64
    assert result("getopt", lit(b"n"), lit(-10)) == T.INT64
    assert result("getopt", lit(b"s"), lit(b"x"), lit(b"a string")) == T.String(1024)


def test_strftime() -> None:
    assert result("strftime", lit(b"%H"), val(T.UINT64)) == T.TIMESTAMP
    negative = "strftime() does not accept negative timestamps"
    assert result("strftime", lit(b"%H"), lit(-1)) == negative
    program = parse('begin { strftime("%H", nsecs(monotonic)); strftime("%H", nsecs(tai)); }')
    calls = [n for n in ast.walk(program.program) if isinstance(n, ast.Call)]
    monotonic, tai = (c.args[1] for c in calls if c.name.text == "strftime")
    assert result("strftime", lit(b"%H"), Arg(monotonic, T.UINT64)) == (
        "strftime() can not take a monotonic timestamp"
    )
    assert result("strftime", lit(b"%H"), Arg(tai, T.UINT64)) == T.TIMESTAMP


def test_pointer_rules() -> None:
    sock = T.Pointer(T.CRecord("struct", "sock"))
    assert result("kptr", val(T.Pointer(T.INT8, user=True))) == T.Pointer(T.INT8, user=False)
    assert result("uptr", PTR) == T.Pointer(T.INT8, user=True)
    assert result("uptr", val(T.UINT64)) == T.UINT64
    assert result("socket_cookie", val(sock)) == T.UINT64
    assert result("socket_cookie", val(T.Pointer(T.CRecord("struct", "file")))) == (
        "socket_cookie() only supports 'struct sock *' as the argument ('struct file *' provided)"
    )
    assert result("path", val(T.Pointer(T.CRecord("struct", "path")))) == T.String(1024)
    assert result("path", PTR, lit(64)) == T.String(64)
    assert result("path", val(T.UINT64)) == (
        "path() only supports pointer or C type argument (uint64 provided)"
    )
    assert result("uaddr", lit(b"ps1_prompt")) == T.Pointer(T.UNKNOWN, user=True)
    assert result("uaddr", lit(b"a b")).startswith("uaddr() expects a string that is a valid")
    tcp_sock = T.CRecord("struct", "tcp_sock")
    assert result("container_of", val(sock), val(tcp_sock), ident("sk")) == T.Pointer(tcp_sock)


def test_signals() -> None:
    assert result("signal", lit(b"SIGKILL")) == T.VOID
    assert result("signal", lit(b"kill")) == T.VOID
    assert result("signal_thread", lit(9)) == T.VOID
    assert result("signal", lit(b"SIGNOPE")) == "Invalid string for signal: SIGNOPE"
    assert result("signal", lit(65)) == (
        "signal() accepts a string literal or an integer between 1 and 64 (inclusive)"
    )
    assert result("signal", val(T.String(16))) == "signal() accepts a string literal or an integer"
    assert result("signal", val(T.UINT32)) == T.VOID


def test_print() -> None:
    program = parse("begin { print(@m, 2, 1); print(@m[1], 2); print(1, 2); }").program
    calls = [n for n in ast.walk(program) if isinstance(n, ast.Call)]
    whole, entry, value = ([Arg(a, T.UNKNOWN) for a in c.args] for c in calls)
    assert result("print", *whole) == T.VOID
    assert result("print", *entry) == "Non-map print() only takes 1 argument, 2 found"
    assert result("print", *value) == "Non-map print() only takes 1 argument, 2 found"
    assert result("print", val(T.UINT64)) == T.VOID
    assert [len(s.params) for s in lookup("print").signatures] == [1, 2, 3, 1]


def test_fixed_types() -> None:
    assert result("delete", val(T.UINT64), lit(1)) == T.BOOL
    assert result("len", val(T.KSTACK)) == T.INT64
    assert result("cgroup_path", val(T.UINT64)) == T.CGROUP_PATH
    assert result("strerror", lit(2)) == T.String(64)
    assert result("printf", lit(b"%d %d"), lit(1), lit(2)) == T.VOID
