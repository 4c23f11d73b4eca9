"""`-f json` output, against bpftrace 0.17's own: maps of every kind,
histograms (with 0.17's 32-bit bucket bounds), print(), printf and time
messages, and 0.17's escaping."""

from __future__ import annotations

import socket

import pytest
from test_output_support import (
    VFS_READ, aggregation, assert_golden, hist_map, hist_of, keyed, keys, lhist_map, lhist_of, resolver, run,
    scalar, string,
)  # fmt: skip

from compiler.runtime.decode import AF_INET, AF_INET6, Address, Stats
from compiler.runtime.output import JsonOutput, compile_format, format_time
from compiler.semantic import types as T

STR = T.String(64)
LOCALHOST = Address(AF_INET, socket.inet_pton(socket.AF_INET, "127.0.0.1"))


@pytest.fixture
def out(tmp_path) -> JsonOutput:
    return JsonOutput(resolver=resolver(tmp_path))


def agg(name: str, kind: str, entries, key=None):
    value = aggregation(kind, signed=kind != "count")
    return (scalar(name, value) if key is None else keyed(name, key, value)), entries


def test_maps_of_every_kind(out) -> None:
    maps = [
        (scalar("@a", T.INT64), [(None, 1)]),
        (scalar("@neg", T.INT64), [(None, -5)]),
        (keyed("@b", STR, T.INT64), [(b"y", 3), (b"x", 2)]),
        (keyed("@c", keys(T.INT64, STR), T.INT64), [((1, b"k"), 4), ((2, b"a b"), 5)]),
        (scalar("@str", STR), [(None, b"abc")]),
        (keyed("@esc", STR, STR), [(b'a"b\n\\', b"x\ty")]),
        (keyed("@hi", STR, STR), [(b"\xc3\xa9", b"\xc3\xa9\x01\x7f")]),
        (scalar("@tup", T.Tuple((T.INT64, STR, T.INT8))), [(None, (1, b"t", -2))]),
        (keyed("@nest", T.INT64, T.Tuple((T.INT64, T.Tuple((STR, T.INT64))))), [(1, (1, (b"x", 2)))]),
        agg("@n", "count", [(None, 1)]),
        agg("@m", "count", [(2, 2), (1, 1)], T.INT64),
        agg("@sum", "sum", [(None, -3)]),
        agg("@mn", "min", [(None, 3)]),
        agg("@mx", "max", [(b"q", 9)], STR),
        agg("@av", "avg", [(None, Stats(1, 4))]),
        agg("@av2", "avg", [(1, Stats(1, 3)), (2, Stats(1, 5))], T.INT64),
        agg("@st", "stats", [(None, Stats(1, 5))]),
        agg("@st2", "stats", [(1, Stats(1, 3)), (2, Stats(1, -3))], T.INT64),
        (keyed("@k", T.INT64, T.KSYM), [(1, 0), (2, VFS_READ)]),
        (keyed("@i", T.INT64, T.Inet()), [(1, LOCALHOST)]),
        (keyed("@ik", T.Inet(), T.INT64), [(LOCALHOST, 1)]),
        (scalar("@bf", T.Buffer(2)), [(None, b"a\x02")]),
        (scalar("@p", T.Pointer(T.INT8)), [(None, 0x1000)]),
        (keyed("@pk", T.Pointer(T.INT8), T.INT64), [(0x10, 1)]),
        (scalar("@u", T.USERNAME), [(None, 0)]),
        (scalar("@pr", string("BEGIN")), [(None, b"BEGIN")]),
        (scalar("@ee", T.STRERROR), [(None, 2)]),
    ]
    assert_golden("json_maps", run(out, maps))


def test_histograms(out) -> None:
    maps = [
        hist_map("@h", [(None, hist_of(-1, 0, 1, 2, 1000))]),
        hist_map("@big", [(None, hist_of(1 << 29, 1 << 30, 1 << 31))]),
        hist_map("@k", [(b"a", hist_of(3)), (b"b", hist_of(5, 5))], STR),
        lhist_map("@l", 0, 100, 10, [(None, lhist_of(0, 100, 10, -5, 500, 42))]),
        lhist_map("@lk", 0, 10, 1, [(1, lhist_of(0, 10, 1, 5)), (2, lhist_of(0, 10, 1, 3, 4))], T.INT64),
        hist_map("@one", [(None, hist_of(7))]),
    ]
    assert_golden("json_hist", run(out, maps))


def test_print_printf_and_time_messages(out) -> None:
    x = (keyed("@x", T.INT64, T.INT64), [(1, 2), (2, 3), (3, 1)])
    y = (scalar("@y", T.INT64), [(None, 7)])
    av = agg("@av", "avg", [(1, Stats(1, 10)), (2, Stats(1, 20)), (3, Stats(1, 30))], T.INT64)
    st = agg("@st", "stats", [(1, Stats(1, 10)), (2, Stats(1, 20))], T.INT64)
    h = hist_map("@h", [(1, hist_of(10)), (2, hist_of(10, 100))], T.INT64)
    lh = lhist_map("@l", 0, 10, 1, [(1, lhist_of(0, 10, 1, 5))], T.INT64)
    calls = [(x, 0, 0), (x, 2, 2), (y, 0, 3), (av, 2, 0), (av, 0, 3), (st, 1, 2), (h, 1, 2), (lh, 1, 2)]
    printed = [out.map(info, entries, top, div) for (info, entries), top, div in calls]
    printed += [
        out.printf('a"b\\c\x01\n'),
        out.printf(compile_format("%d %s\n", [T.INT64, STR], out.printer)([5, b"x\ty"])),
        out.printf("\udcc3\udca9\x7f\x1f|\r\n"),
        out.printf(compile_format("100%%", [], out.printer)([])),
    ]
    values = [
        (T.INT64, 5), (STR, b's"q'), (T.Tuple((T.INT64, STR)), (1, b"a")), (T.Inet(), LOCALHOST),
        (T.Buffer(2), b"a\x02"), (T.INT64, -3), (T.KSYM, VFS_READ), (T.INT8, -1),
        (T.Tuple((T.INT16, T.Tuple((STR, T.UINT8)))), (1, (b"x", 2))),
    ]  # fmt: skip
    printed += [out.value(t, v) for t, v in values]
    printed.append(out.time(format_time("%%|")))
    cleared = [(info, []) for info, _ in (x, y, av, st, h, lh)]
    assert_golden("json_print", run(out, cleared, "".join(printed)))


def test_ipv6_and_lost_events(out) -> None:
    link_local = Address(AF_INET6, socket.inet_pton(socket.AF_INET6, "fe80::1"))
    assert out.value(T.Inet(), link_local) == '{"type": "value", "data": "fe80::1"}\n'
    assert out.lost_events(3) == '{"type": "lost_events", "data": {"events": 3}}\n'
