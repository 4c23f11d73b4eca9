"""Plain values in text mode, against bpftrace 0.17's own output: integers
of every width, strings, tuples, keys and their order, aggregations,
symbols and addresses, print(), empty maps and time()."""

from __future__ import annotations

import socket

import pytest
from test_output_support import (
    VFS_READ, VFS_WRITE, aggregation, assert_golden, keyed, keys, resolver, run, scalar, string,
)  # fmt: skip

from compiler.runtime.decode import AF_INET, AF_INET6, Address, Stats
from compiler.runtime.output import TextOutput, format_time
from compiler.semantic import types as T

STR = T.String(64)


@pytest.fixture
def out(tmp_path) -> TextOutput:
    return TextOutput(resolver=resolver(tmp_path))


def v4(text: str) -> Address:
    return Address(AF_INET, socket.inet_pton(socket.AF_INET, text))


def v6(text: str) -> Address:
    return Address(AF_INET6, socket.inet_pton(socket.AF_INET6, text))


def test_integers_of_every_width_and_sign(out) -> None:
    maps = [
        (scalar("@a", T.INT8), [(None, -1)]),
        (scalar("@b", T.UINT8), [(None, 255)]),
        (scalar("@c", T.INT16), [(None, -300)]),
        (scalar("@d", T.UINT16), [(None, 65535)]),
        (scalar("@e", T.INT32), [(None, -5)]),
        (scalar("@f", T.UINT32), [(None, 4294967295)]),
        (scalar("@g", T.INT64), [(None, -1)]),
        (scalar("@h", T.UINT64), [(None, 2**64 - 1)]),
        (scalar("@i", T.INT64), [(None, 2**63 - 1)]),
        (scalar("@j", T.INT8), [(None, 44)]),
        (scalar("@k", T.INT64), [(None, 0)]),
        (scalar("@l", T.INT64), [(None, -(2**63))]),
    ]
    assert_golden("ints", run(out, maps))


def test_integer_keys_print_as_int64_and_sort_unsigned(out) -> None:
    maps = [
        (keyed("@s", T.INT64, STR), [(-1, b"m1"), (5, b"five"), (0, b"zero"), (-7, b"m7")]),
        (keyed("@u", T.UINT64, STR), [(2**64 - 1, b"max"), (3, b"three")]),
        (keyed("@v", T.INT8, STR), [(-2, b"a"), (4, b"b")]),
        (keyed("@w", T.UINT32, STR), [(4294967295, b"x"), (1, b"y")]),
    ]
    assert_golden("int_keys", run(out, maps))


def test_strings_print_unquoted_and_sort_by_key(out) -> None:
    maps = [
        (keyed("@v", STR, STR), [(b"bb", b"1"), (b"b", b"2"), (b"a", b"3"), (b"", b"4")]),
        (scalar("@s", STR), [(None, b"hello")]),
        (scalar("@e", STR), [(None, b"")]),
        (keyed("@sp", STR, STR), [(b"a b", b"x y")]),
        (scalar("@u", STR), [(None, b"\xc3\xa9\x01\t|")]),
    ]
    assert_golden("strings", run(out, maps))


def test_tuples_nested_and_printed(out) -> None:
    pair = T.Tuple((T.INT64, STR))
    maps = [
        (scalar("@t", T.Tuple((T.INT64, STR, T.INT64))), [(None, (1, b"two", -3))]),
        (scalar("@n", T.Tuple((T.INT8, T.Tuple((STR, T.UINT16)), STR))), [(None, (1, (b"x", 2), b"end"))]),
        (keyed("@k", T.INT64, pair), [(2, (2, b"b")), (1, (1, b"a"))]),
    ]
    before = out.value(T.Tuple((T.INT8, STR)), (-1, b"z")) + out.printf("end\n")
    assert_golden("tuples", run(out, maps, before, probes=2))


def test_multi_keys_drop_parentheses_and_sort_first_part_first(out) -> None:
    maps = [
        (keyed("@t", keys(T.INT64, STR), STR),
         [((2, b"b"), b"x"), ((1, b"b"), b"y"), ((2, b"a"), b"z"), ((1, b"c"), b"w")]),
        (keyed("@u", keys(STR, T.INT64), STR), [((b"b", 1), b"q"), ((b"a", 2), b"r"), ((b"a", 1), b"s")]),
        (keyed("@c", keys(T.INT64, STR), T.INT64), [((1, b"two"), 3), ((2, b"one"), 1), ((3, b"x y"), 2)]),
    ]  # fmt: skip
    assert_golden("multikey", run(out, maps))


def test_aggregations(out) -> None:
    def agg(name, kind, entries, key=None):
        value = aggregation(kind, signed=kind != "count")
        info = scalar(name, value) if key is None else keyed(name, key, value)
        return info, entries

    maps = [
        agg("@n", "count", [(None, 2)]),
        agg("@m", "count", [(1, 1), (2, 2), (3, 3)], T.INT64),
        agg("@sum", "sum", [(None, 12)]),
        agg("@neg", "sum", [(b"a", -5), (b"b", 3), (b"c", -10)], STR),
        agg("@mn", "min", [(None, 3)]),
        agg("@mx", "max", [(None, 9)]),
        agg("@mnk", "min", [(1, 7), (2, -4), (3, 2)], T.INT64),
        agg("@mxk", "max", [(b"x", 50), (b"y", 6)], STR),
        agg("@av", "avg", [(None, Stats(2, 31))]),
        agg("@avn", "avg", [(None, Stats(2, -5))]),
        agg("@avk", "avg", [(1, Stats(1, 30)), (2, Stats(1, -1)), (3, Stats(1, 4))], T.INT64),
        agg("@st", "stats", [(None, Stats(3, 27))]),
        agg("@stk", "stats", [(b"p", Stats(1, 8)), (b"q", Stats(2, -9))], STR),
    ]
    assert_golden("aggregations", run(out, maps))


def test_buffers_addresses_symbols_pointers_and_names(out) -> None:
    maps = [
        (scalar("@b", T.Buffer(4)), [(None, b"ab\x01c")]),
        (keyed("@bk", T.Buffer(3), T.INT64), [(b"\xff z", 1)]),
        (scalar("@i", T.Inet()), [(None, v4("127.0.0.1"))]),
        (scalar("@i6", T.Inet()), [(None, v6("fe80::1"))]),
        (keyed("@ik", T.Inet(), T.INT64), [(v4("127.0.0.2"), 2), (v4("127.0.0.1"), 1)]),
        (keyed("@ki", T.INT64, T.Inet()), [(1, v4("127.0.0.1")), (2, v6("::1"))]),
        (scalar("@ks", T.KSYM), [(None, VFS_READ)]),
        (scalar("@kz", T.KSYM), [(None, 0)]),
        (keyed("@kk", T.INT64, T.KSYM), [(1, VFS_READ), (2, VFS_WRITE + 3), (3, 0)]),
        (scalar("@p", T.Pointer(T.INT8)), [(None, 0x1000)]),
        (scalar("@pn", T.Pointer(T.INT8)), [(None, 2**64 - 1)]),
        (keyed("@pk", T.Pointer(T.INT8), T.INT64), [(0xFFFF000000000000, 2), (0x1000, 1)]),
        (scalar("@u", T.USERNAME), [(None, 0)]),
        (scalar("@pr", string("BEGIN")), [(None, b"BEGIN")]),
        (scalar("@ee", T.STRERROR), [(None, 2)]),
    ]
    assert_golden("specials", run(out, maps))


def test_print_of_plain_values(out) -> None:
    printed = [
        (T.INT64, 123), (T.INT64, -5), (T.UINT64, 2**64 - 1), (STR, b"abc"),
        (T.Tuple((T.INT64, STR)), (1, b"x")), (T.Buffer(4), b"ab\x01c"),
        (T.Inet(), v4("127.0.0.1")), (T.Inet(), v6("fe80::1")),
        (T.KSYM, VFS_READ), (T.KSYM, 0), (T.INT8, -1),
    ]  # fmt: skip
    before = "".join(out.value(t, v) for t, v in printed)
    assert_golden("print_values", run(out, [], before))


def test_empty_maps_print_empty_lines_at_exit(out) -> None:
    maps = [
        (keyed("@a", T.INT64, T.INT64), []),
        (scalar("@b", T.INT64), [(None, 2)]),
        (keyed("@c", STR, aggregation("count", False)), []),
        (keyed("@d", T.INT64, aggregation("stats")), []),
        (keyed("@e", T.INT64, aggregation("hist")), []),
    ]
    assert_golden("empty_maps", run(out, maps))


def test_time_prints_nothing_when_strftime_fails(out) -> None:
    before = "".join(out.time(format_time(fmt)) for fmt in ("%%|", "A%%B\n", "")) + out.printf("<\n")
    assert_golden("time_text", run(out, [], before))
