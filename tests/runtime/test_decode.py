"""decode(), aggregate() and read_map() against bytes packed with struct
the way layout.py says the BPF side writes them."""

from __future__ import annotations

import socket
import struct

import pytest

from compiler.runtime import layout
from compiler.runtime.decode import AF_INET, AF_INET6, Address, Stats, aggregate, decode, read_map
from compiler.runtime.program import AggregationInfo, MapInfo
from compiler.semantic import types as T


@pytest.mark.parametrize(
    ("t", "fmt", "value"),
    [
        (T.INT8, "<b", -2), (T.UINT8, "<B", 254), (T.INT16, "<h", -300), (T.UINT16, "<H", 65000),
        (T.INT32, "<i", -70000), (T.UINT32, "<I", 4294967295), (T.INT64, "<q", -(2**63)),
        (T.UINT64, "<Q", 2**64 - 1),
    ],
)  # fmt: skip
def test_integers_keep_their_sign_and_width(t, fmt, value) -> None:
    data = b"\xaa" * 3 + struct.pack(fmt, value) + b"\xbb"
    assert decode(t, data, 3) == value


def test_bool_and_pointer() -> None:
    assert decode(T.BOOL, b"\x00\x01", 1) is True
    assert decode(T.BOOL, b"\x00") is False
    assert decode(T.Pointer(T.INT8), struct.pack("<Q", 0xFFFF800012345678)) == 0xFFFF800012345678


def test_strings_end_at_the_first_nul_or_the_capacity() -> None:
    assert decode(T.String(8), b"abc\0zzzz") == b"abc"
    assert decode(T.String(4), b"abcdefgh") == b"abcd"
    assert decode(T.String(4), memoryview(b"xxab\0\0"), 2) == b"ab"


def test_buffers_clamp_their_length() -> None:
    assert decode(T.Buffer(8), struct.pack("<I", 3) + b"ab\x01" + b"\0" * 5) == b"ab\x01"
    assert decode(T.Buffer(2), struct.pack("<I", 100) + b"abcd") == b"ab"


def test_inet_addresses() -> None:
    v4 = decode(T.Inet(), struct.pack("<I", AF_INET) + socket.inet_aton("10.1.2.3") + b"\0" * 12)
    assert v4 == Address(AF_INET, socket.inet_aton("10.1.2.3")) and str(v4) == "10.1.2.3"
    v6 = decode(T.Inet(), struct.pack("<I", AF_INET6) + socket.inet_pton(socket.AF_INET6, "fe80::1"))
    assert str(v6) == "fe80::1"
    assert str(decode(T.Inet(), struct.pack("<I", 99) + b"\0" * 16)) == ""


def test_arrays_tuples_and_records_follow_c_layout() -> None:
    assert decode(T.Array(T.INT32, 3), struct.pack("<iii", 1, -2, 3)) == [1, -2, 3]
    pair = T.Tuple((T.INT8, T.String(16), T.INT64))
    offsets, size = layout.struct_layout(list(pair.elements))
    assert (offsets, size) == ([0, 1, 24], 32)
    data = bytearray(size)
    struct.pack_into("<b", data, 0, -1)
    data[1:4] = b"hi\0"
    struct.pack_into("<q", data, 24, 1 << 40)
    assert decode(pair, bytes(data)) == (-1, b"hi", 1 << 40)
    record = T.Record((("a", T.INT32), ("b", T.INT8)))
    assert decode(record, struct.pack("<ib3x", 7, -1)) == [("a", 7), ("b", -1)]


def test_nested_tuples() -> None:
    inner = T.Tuple((T.INT16, T.INT64))
    outer = T.Tuple((T.INT8, inner))
    data = struct.pack("<b7xh6xq", 1, -2, 3)
    assert layout.size_of(outer) == len(data)
    assert decode(outer, data) == (1, (-2, 3))


def test_specials_are_u64_and_user_ones_carry_the_pid() -> None:
    assert decode(T.KSYM, struct.pack("<Q", 0xFFFFFFFF81000000)) == 0xFFFFFFFF81000000
    assert decode(T.USYM, struct.pack("<QQ", 0x401000, 1234)) == (0x401000, 1234)
    assert decode(T.USTACK, struct.pack("<QQ", 7, 99)) == (7, 99)


# --------------------------------------------------------------- aggregates


def agg_map(kind: str, key: T.Type = T.VOID, signed: bool = True, **args) -> MapInfo:
    value = T.Aggregation(kind, signed)
    key_size = 8 if isinstance(key, T.Void) else layout.size_of(key)
    if kind in ("hist", "lhist"):
        key_size = (0 if isinstance(key, T.Void) else layout.size_of(key)) + 8
    size = layout.AGGREGATION_VALUE_SIZE[kind]
    return MapInfo("@m", "m", "percpu_hash", key, value, key_size, size, 4096, AggregationInfo(kind, **args))


def u64(*values: int) -> list[bytes]:
    return [struct.pack("<Q", v & (2**64 - 1)) for v in values]


def test_count_and_sum_add_up_the_cpus() -> None:
    assert aggregate(agg_map("count", signed=False), u64(3, 0, 4)) == 7
    assert aggregate(agg_map("sum"), u64(5, -7)) == -2
    assert aggregate(agg_map("sum", signed=False), u64(5, 7)) == 12


def test_min_and_max_only_count_cpus_that_saw_a_value() -> None:
    slots = [struct.pack("<qQ", 0, 0), struct.pack("<qQ", -4, 1), struct.pack("<qQ", 9, 1)]
    assert aggregate(agg_map("min"), slots) == -4
    assert aggregate(agg_map("max"), slots) == 9
    assert aggregate(agg_map("max"), [struct.pack("<qQ", 0, 0)]) == 0
    unsigned = [struct.pack("<QQ", 2**64 - 1, 1), struct.pack("<QQ", 1, 1)]
    assert aggregate(agg_map("max", signed=False), unsigned) == 2**64 - 1


def test_avg_and_stats_divide_towards_zero() -> None:
    slots = [struct.pack("<Qq", 1, -7), struct.pack("<Qq", 1, 2)]
    value = aggregate(agg_map("avg"), slots)
    assert value == Stats(2, -5) and value.average == -2
    assert aggregate(agg_map("stats"), slots).average == -2
    assert Stats(0, 0).average == 0
    assert Stats(2, 2**64 - 2, signed=False).average == 2**63 - 1


def test_read_map_groups_histogram_buckets_by_user_key() -> None:
    info = agg_map("hist", key=T.String(4))
    raw = [
        (b"ab\0\0" + struct.pack("<Q", 3), u64(1, 1)),
        (b"cd\0\0" + struct.pack("<Q", 5), u64(0, 4)),
        (b"ab\0\0" + struct.pack("<Q", 4), u64(2, 0)),
    ]
    assert sorted(read_map(info, raw)) == [(b"ab", {3: 2, 4: 2}), (b"cd", {5: 4})]


def test_read_map_scalar_and_plain_values() -> None:
    count = agg_map("count", signed=False)
    assert read_map(count, [(struct.pack("<Q", 0), u64(2, 3))]) == [(None, 5)]
    plain = MapInfo("@s", "s", "hash", T.INT64, T.String(8), 8, 8, 10)
    raw = [(struct.pack("<q", -1), [b"hello\0\0\0"])]
    assert read_map(plain, raw) == [(-1, b"hello")]
    scalar_hist = agg_map("hist")
    assert read_map(scalar_hist, [(struct.pack("<Q", 2), u64(1))]) == [(None, {2: 1})]


def test_a_readable_aggregation_in_an_event_is_its_integer() -> None:
    assert decode(T.Aggregation("count"), struct.pack("<Q", 5)) == 5
    assert decode(T.Aggregation("sum"), struct.pack("<q", -5)) == -5
    with pytest.raises(TypeError):
        decode(T.Aggregation("hist"), b"\0" * 8)


def test_decoding_and_printing_need_neither_the_frontend_nor_llvmlite() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "import compiler.runtime.decode, compiler.runtime.output, compiler.runtime.symbols\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('llvmlite', 'lark', 'pygls')\n"
        "             or m.startswith(('compiler.syntax', 'compiler.semantic.'))))\n"
    )
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['compiler.semantic.types']"
