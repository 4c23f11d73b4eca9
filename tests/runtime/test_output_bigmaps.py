"""Big integer maps take a faster road from the kernel's buffers to text
(decode.IntEntries, output/maps.py's _int_order and _fast_text): it must
print exactly what the general road prints."""

from __future__ import annotations

import random
import struct
from types import SimpleNamespace

import pytest
from test_output_support import aggregation, keyed

from compiler.runtime.decode import IntEntries, read_map, read_map_chunks
from compiler.runtime.mapread import RawMap
from compiler.runtime.output import TextOutput
from compiler.runtime.output.maps import ordered_entries
from compiler.runtime.program import AggregationInfo
from compiler.semantic import types as T

U64_MASK = (1 << 64) - 1


def count_map(key: T.Type = T.UINT64, kind: str = "count"):
    return keyed("@", key, aggregation(kind, signed=kind != "count"), AggregationInfo(kind))


def raw_map(entries: list[tuple[int, list[int]]], key_format: str = "<Q") -> RawMap:
    """A per-CPU u64 map as the kernel hands it over: keys in one buffer,
    each key's CPU slots (8 bytes apart) in the other."""
    slots = len(entries[0][1])
    shape = SimpleNamespace(key_size=struct.calcsize(key_format), value_size=8, stride=8, slots=slots,
                            buffer_size=8 * slots)  # fmt: skip
    keys = b"".join(struct.pack(key_format, k) for k, _ in entries)
    values = b"".join(struct.pack(f"<{slots}Q", *(v & U64_MASK for v in cpus)) for _, cpus in entries)
    return RawMap(shape, keys, values, len(entries))


def expected_text(name: str, entries, top: int = 0, as_int64: bool = False) -> str:
    """The general rule, written out: ascending by value, ties by key."""
    ordered = sorted(entries, key=lambda e: (e[1], e[0]))
    if top:
        ordered = ordered[-top:]
    if as_int64:
        ordered = [(k - (1 << 64) if k >> 63 else k, v) for k, v in ordered]
    return "".join(f"{name}[{k}]: {v}\n" for k, v in ordered)


@pytest.mark.parametrize("spread", [1, 3, 1000])  # dense keys are found by walking their range
@pytest.mark.parametrize("size", [5, 63, 64, 3000])
def test_counts_print_by_value_then_key(spread, size) -> None:
    rng = random.Random(size * spread)
    chosen = rng.sample(range(size * spread), size)
    entries = [(k, [rng.randrange(4), rng.randrange(3)]) for k in chosen]
    decoded = read_map(count_map(), raw_map(entries))
    assert isinstance(decoded, IntEntries)
    totals = [(k, sum(cpus)) for k, cpus in entries]
    out = TextOutput()
    assert out.map(count_map(), decoded) == expected_text("@", totals)
    assert out.map(count_map(), decoded, top=7) == expected_text("@", totals, top=7)
    # The same entries as plain pairs take the same road and give the same text.
    assert out.map(count_map(), list(decoded)) == out.map(count_map(), decoded)


def test_signed_keys_and_negative_sums() -> None:
    info = count_map(T.INT32, kind="sum")
    entries = [(-5, [3, -10]), (7, [1, 1]), (-1, [0, 0]), (2, [-(1 << 63), -1])]
    decoded = read_map(info, raw_map(entries, "<i"))
    # A sum over CPUs wraps to 64 bits, as the C code adding them would.
    assert list(decoded) == [(-5, -7), (7, 2), (-1, 0), (2, (1 << 63) - 1)]
    assert TextOutput().map(info, decoded) == "@[-5]: -7\n@[-1]: 0\n@[7]: 2\n@[2]: 9223372036854775807\n"


def test_unsigned_keys_past_int64_print_as_0_17_does() -> None:
    entries = [((1 << 64) - 1, [1]), (3, [1]), (1 << 63, [2])]
    decoded = read_map(count_map(), raw_map(entries))
    totals = [(k, sum(cpus)) for k, cpus in entries]
    assert TextOutput().map(count_map(), decoded) == expected_text("@", totals, as_int64=True)


def test_div_and_other_kinds_take_the_general_road() -> None:
    decoded = read_map(count_map(), raw_map([(1, [10]), (2, [30])]))
    assert TextOutput().map(count_map(), decoded, div=10) == "@[1]: 1\n@[2]: 3\n"
    plain = keyed("@p", T.INT64, T.INT64)
    assert ordered_entries(plain, [(2, 5), (1, 5), (3, -1)], TextOutput().style) == [(3, -1), (1, 5), (2, 5)]


def test_int_entries_behave_as_a_list_of_pairs() -> None:
    entries = IntEntries([3, 1, 2], [30, 10, 20])
    assert len(entries) == 3 and bool(entries)
    assert list(entries) == [(3, 30), (1, 10), (2, 20)]
    assert entries[1] == (1, 10) and entries[1:] == [(1, 10), (2, 20)]
    assert entries == [(3, 30), (1, 10), (2, 20)]
    assert entries.as_dict() == {3: 30, 1: 10, 2: 20}
    assert not IntEntries([], [])


def split(raw: RawMap, sizes: list[int]) -> list[RawMap]:
    """The map as the kernel's batches would hand it over."""
    shape, chunks, start = raw.shape, [], 0
    for size in sizes:
        end = start + size
        chunks.append(RawMap(shape, raw.keys[start * shape.key_size : end * shape.key_size],
                             raw.values[start * shape.buffer_size : end * shape.buffer_size], size))  # fmt: skip
        start = end
    return chunks


@pytest.mark.parametrize("sizes", [[10], [4, 0, 6], [1] * 10, [7, 3, 0]])
def test_a_map_read_in_batches_prints_as_the_whole_map(sizes) -> None:
    entries = [(k * 7 % 10, [k, 2 * k]) for k in range(10)]
    whole = read_map(count_map(), raw_map(entries))
    chunked = read_map_chunks(count_map(), split(raw_map(entries), sizes))
    assert isinstance(chunked, IntEntries) and chunked.by_key == whole.as_dict()
    assert list(chunked) == list(whole)
    assert TextOutput().map(count_map(), chunked) == TextOutput().map(count_map(), whole)


def test_a_map_without_the_fast_road_is_joined_before_decoding() -> None:
    info = count_map(kind="avg")  # an avg's value is a (sum, count) pair: the general road
    shape = SimpleNamespace(key_size=8, value_size=16, stride=16, slots=1, buffer_size=16)
    raw = RawMap(shape, struct.pack("<QQ", 1, 2), struct.pack("<qQqQ", 10, 2, 9, 3), 2)
    chunked = read_map_chunks(info, split(raw, [1, 1]))
    assert chunked == read_map(info, raw) and [key for key, _ in chunked] == [1, 2]
    assert TextOutput().map(info, chunked) == TextOutput().map(info, read_map(info, raw))
