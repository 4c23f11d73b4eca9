"""Bytes from BPF maps and ring-buffer records, turned into Python values.

`decode()` reads one value of a type at an offset, following layout.py
exactly (the BPF side wrote it that way). The value model:

    Int            int, signed or not per the type
    Bool           bool
    String         bytes, up to the first NUL
    Buffer         bytes, the first `length` bytes (length clamped to the type)
    Inet           Address (family and address bytes)
    Pointer        int (unsigned)
    Array          list of element values
    Tuple          tuple of element values
    Record         list of (field name, value) pairs
    CRecord        bytes (the raw struct; we know no fields here)
    Special        int (u64: address, stack id, nsecs, uid...); usym and
                   ustack are a tuple (address or stack id, pid)
    Aggregation    in a map, one CPU's slot is not a value: see aggregate();
                   elsewhere (an event argument) a readable one is the
                   integer the kernel read

`aggregate()` combines the per-CPU slots of one aggregation map entry, and
`read_map()` turns a map's raw entries into (key, value) pairs, grouping a
histogram's buckets under their user key.
"""

from __future__ import annotations

import operator
import struct
import sys
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Iterable, Optional, Union

from ..semantic import types as T
from . import layout
from .program import MapInfo

Bytes = Union[bytes, bytearray, memoryview]

AF_INET = 2
AF_INET6 = 10

# struct formats for integers, by (bits, signed); little-endian like the BPF
# targets we run on.
_INT_FORMATS = {
    (8, True): struct.Struct("<b"), (8, False): struct.Struct("<B"),
    (16, True): struct.Struct("<h"), (16, False): struct.Struct("<H"),
    (32, True): struct.Struct("<i"), (32, False): struct.Struct("<I"),
    (64, True): struct.Struct("<q"), (64, False): struct.Struct("<Q"),
}  # fmt: skip
_U32 = _INT_FORMATS[(32, False)]
_U64 = _INT_FORMATS[(64, False)]
_S64 = _INT_FORMATS[(64, True)]
_U64_PAIR = struct.Struct("<QQ")

_U64_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Address:
    """An inet value: `family` is AF_INET (2) or AF_INET6 (10); `data` holds
    the 4 or 16 address bytes (empty for an unknown family)."""

    family: int
    data: bytes

    def __str__(self) -> str:
        # bpftrace prints nothing for a family it does not know. (socket is
        # imported here: it costs every start a few milliseconds.)
        import socket

        if self.family == AF_INET:
            return socket.inet_ntop(socket.AF_INET, self.data[:4])
        if self.family == AF_INET6:
            return socket.inet_ntop(socket.AF_INET6, self.data[:16])
        return ""


@dataclass(frozen=True)
class Stats:
    """An avg() or stats() entry: how many values, and their total. The
    average divides as C does (towards zero), signed or not per the map."""

    count: int
    total: int
    signed: bool = True

    @property
    def average(self) -> int:
        if self.count == 0:
            return 0
        if self.signed:
            quotient = abs(self.total) // abs(self.count)
            return quotient if (self.total < 0) == (self.count < 0) else -quotient
        return (self.total & _U64_MASK) // (self.count & _U64_MASK)


def decode(t: T.Type, data: Bytes, offset: int = 0):
    """The value of type `t` stored at `data[offset:]`."""
    if isinstance(t, T.Int):
        return _INT_FORMATS[(t.bits, t.signed)].unpack_from(data, offset)[0]
    if isinstance(t, T.Bool):
        return data[offset] != 0
    if isinstance(t, T.String):
        raw = bytes(data[offset:offset + t.length])
        end = raw.find(b"\0")
        return raw if end < 0 else raw[:end]
    if isinstance(t, T.Buffer):
        length = min(_U32.unpack_from(data, offset)[0], t.length)
        return bytes(data[offset + 4:offset + 4 + length])
    if isinstance(t, T.Inet):
        return _decode_inet(data, offset)
    if isinstance(t, T.Pointer):
        return _U64.unpack_from(data, offset)[0]
    if isinstance(t, T.Array):
        step = layout.size_of(t.element)
        return [decode(t.element, data, offset + i * step) for i in range(t.length)]
    if isinstance(t, T.Tuple):
        offsets, _ = layout.struct_layout(list(t.elements), offset)
        return tuple(decode(e, data, o) for e, o in zip(t.elements, offsets))
    if isinstance(t, T.Record):
        offsets, _ = layout.struct_layout([ft for _, ft in t.fields], offset)
        return [(name, decode(ft, data, o)) for (name, ft), o in zip(t.fields, offsets)]
    if isinstance(t, T.CRecord):
        return bytes(data[offset:offset + t.byte_size])
    if isinstance(t, T.Special):
        if layout.size_of(t) == 16:
            return _U64_PAIR.unpack_from(data, offset)
        return _U64.unpack_from(data, offset)[0]
    if isinstance(t, T.Aggregation) and t.readable:
        # A count/sum/min/max/avg read as an integer in the kernel (0.21+).
        return decode(T.as_integer(t), data, offset)
    raise TypeError(f"cannot decode a value of type {t}")


def _decode_inet(data: Bytes, offset: int) -> Address:
    family = _U32.unpack_from(data, offset)[0]
    size = 4 if family == AF_INET else 16 if family == AF_INET6 else 0
    return Address(family, bytes(data[offset + 4:offset + 4 + size]))


# ------------------------------------------------------------ aggregations


def aggregate(info: MapInfo, per_cpu_values: list[Bytes]):
    """One aggregation entry's value from its per-CPU slots (a single slot
    for a map that is not per-CPU):

        count, sum, one hist/lhist bucket   the total over CPUs (an int)
        min, max                            over the CPUs that saw a value
                                            (their "set" flag); 0 if none
        avg, stats                          Stats(count, total)
    """
    kind = info.aggregation.kind if info.aggregation else _kind_of(info.value)
    signed = info.value.signed if isinstance(info.value, T.Aggregation) else True
    if kind in ("count", "hist", "lhist"):
        return sum(_U64.unpack_from(slot)[0] for slot in per_cpu_values) & _U64_MASK
    if kind == "sum":
        return _wrap(sum(_U64.unpack_from(slot)[0] for slot in per_cpu_values), signed)
    if kind in ("min", "max"):
        return _min_max(kind, per_cpu_values, signed)
    if kind in ("avg", "stats"):
        count = total = 0
        for slot in per_cpu_values:
            slot_count, slot_total = _U64_PAIR.unpack_from(slot)
            count += slot_count
            total += slot_total
        return Stats(count & _U64_MASK, _wrap(total, signed), signed)
    raise ValueError(f"unknown aggregation kind: {kind}")


def _kind_of(t: T.Type) -> str:
    if isinstance(t, T.Aggregation):
        return t.kind
    raise ValueError(f"not an aggregation map: {t}")


def _min_max(kind: str, per_cpu_values: list[Bytes], signed: bool) -> int:
    value_format = _S64 if signed else _U64
    seen = [
        value_format.unpack_from(slot)[0]
        for slot in per_cpu_values
        if _U64.unpack_from(slot, 8)[0] != 0
    ]
    if not seen:
        return 0
    return min(seen) if kind == "min" else max(seen)


def _wrap(value: int, signed: bool) -> int:
    """A sum over CPUs, wrapped to 64 bits as the C code adding them would."""
    value &= _U64_MASK
    if signed and value >> 63:
        value -= 1 << 64
    return value


# ---------------------------------------------------------------- whole maps

RawEntry = tuple[Bytes, list[Bytes]]  # key bytes, then one value per CPU


def read_map(info: MapInfo, raw_entries: Iterable[RawEntry]) -> list[tuple[object, object]]:
    """A map's (key, value) pairs from its raw entries, in the order read.

    The key is None for a scalar map. An aggregation's per-CPU values are
    combined (aggregate()); a hist or lhist map, whose BPF key is the user's
    key followed by a u64 bucket index, becomes one entry per user key with
    a {bucket index: count} dict as its value. Other values are decoded from
    the first (only) slot.
    """
    fast = _read_fast(info, raw_entries) if hasattr(raw_entries, "keys") else None
    if fast is not None:
        return fast
    if hasattr(raw_entries, "entries"):
        raw_entries = raw_entries.entries()
    kind = info.aggregation.kind if info.aggregation else None
    if kind in ("hist", "lhist"):
        return _read_histograms(info, raw_entries)
    # Decoders chosen once per map, not per entry: a map may hold 100k keys.
    key_of = _key_decoder(info)
    if kind in ("count", "sum"):
        signed = info.value.signed if isinstance(info.value, T.Aggregation) else True
        first = _U64.unpack_from

        def value_of(values):
            total = 0
            for slot in values:
                total += first(slot)[0]
            return total & _U64_MASK if kind == "count" else _wrap(total, signed)
    elif kind is not None:
        def value_of(values):
            return aggregate(info, values)
    else:
        value_type = info.value

        def value_of(values):
            return decode(value_type, values[0])
    return [(key_of(key_bytes), value_of(values)) for key_bytes, values in raw_entries]


def read_map_chunks(info: MapInfo, chunks: Iterable) -> list[tuple[object, object]]:
    """read_map() of a map read a batch at a time (mapread.read_chunks):
    a common big map is decoded, and its key-to-value dict built, batch by
    batch while the kernel reads the next; any other map once it is whole."""
    chunks = iter(chunks)
    first = next(chunks)
    entries = _read_fast(info, first)
    if entries is None:
        return read_map(info, type(first).joined([first, *chunks]))  # mapread.RawMap
    entries.by_key = entries.as_dict()
    for chunk in chunks:
        more = _read_fast(info, chunk)
        entries.keys += more.keys
        entries.values += more.values
        entries.by_key.update(zip(more.keys, more.values))
    return entries


def _read_fast(info: MapInfo, raw) -> Optional[list]:
    """The common big maps, a whole buffer at a time (no Python code runs
    per entry): integer keys, with count/sum values (one u64 per CPU) or
    64-bit integer values. None for any other shape."""
    kind = info.aggregation.kind if info.aggregation else None
    if info.scalar or not isinstance(info.key, T.Int) or raw.shape.key_size != info.key.bits // 8:
        return None
    shape = raw.shape
    if kind in ("count", "sum") and shape.stride == 8 and shape.value_size == 8:
        slots = _ints(raw.values, 64, False)
        totals = _add_slots(slots, shape.slots)
        signed = kind == "sum" and (info.value.signed if isinstance(info.value, T.Aggregation) else True)
        # The sum over CPUs wraps to 64 bits as the C code adding them would;
        # only a total that needs it pays for a call.
        if totals and max(totals) > (_S64_MAX if signed else _U64_MASK):
            totals = [_wrap(t, signed) for t in totals]
        values = totals
    elif kind is None and isinstance(info.value, T.Int) and info.value.bits == 64 and shape.slots == 1:
        values = _ints(raw.values, 64, info.value.signed)
    else:
        return None
    return IntEntries(_ints(raw.keys, info.key.bits, info.key.signed), values)


class IntEntries(Sequence):
    """The (key, value) entries of a big integer map as two lists, so that
    no tuple is made per entry unless someone asks for it (the printing of
    such a map, output/maps.py, builds a dict from `as_dict()` instead)."""

    def __init__(self, keys: list[int], values: list[int]) -> None:
        self.keys, self.values = keys, values
        self.by_key: Optional[dict[int, int]] = None  # as_dict(), when built while reading

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self):
        return zip(self.keys, self.values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(zip(self.keys[index], self.values[index]))
        return self.keys[index], self.values[index]

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def as_dict(self) -> dict[int, int]:
        if self.by_key is not None:
            return self.by_key
        return dict(zip(self.keys, self.values))


# memoryview.cast() codes of the integer types, in the host's byte order;
# BPF runs little-endian here, so the cast is used only on such hosts.
_CAST_CODES = {
    (8, True): "b", (8, False): "B", (16, True): "h", (16, False): "H",
    (32, True): "i", (32, False): "I", (64, True): "q", (64, False): "Q",
}  # fmt: skip
_S64_MAX = (1 << 63) - 1


def _ints(data: bytes, bits: int, signed: bool) -> list[int]:
    """Every little-endian integer of the buffer."""
    if sys.byteorder == "little" and struct.calcsize(_CAST_CODES[(bits, signed)]) == bits // 8:
        return memoryview(data).cast(_CAST_CODES[(bits, signed)]).tolist()
    return [v for (v,) in struct.iter_unpack(_INT_FORMATS[(bits, signed)].format, data)]


def _add_slots(slots: list[int], per_entry: int) -> list[int]:
    """The sums of each run of `per_entry` consecutive values."""
    if per_entry == 1:
        return slots
    if per_entry == 2:
        return list(map(operator.add, slots[0::2], slots[1::2]))
    return list(map(sum, zip(*(slots[i::per_entry] for i in range(per_entry)))))


def _key_decoder(info: MapInfo):
    if info.scalar:
        return lambda key_bytes: None
    if isinstance(info.key, T.Int):
        unpack = _INT_FORMATS[(info.key.bits, info.key.signed)].unpack_from
        return lambda key_bytes: unpack(key_bytes)[0]
    key_type = info.key
    return lambda key_bytes: decode(key_type, key_bytes)


def _read_histograms(info: MapInfo, raw_entries: Iterable[RawEntry]) -> list[tuple[object, dict]]:
    # The bucket index is the key's last 8 bytes (codegen may pad the user key).
    user_key_size = info.key_size - 8
    buckets_by_key: dict[bytes, dict[int, int]] = {}
    for key_bytes, values in raw_entries:
        key_bytes = bytes(key_bytes)
        user_key = key_bytes[:user_key_size]
        bucket = _U64.unpack_from(key_bytes, user_key_size)[0]
        count = aggregate(info, values)
        buckets = buckets_by_key.setdefault(user_key, {})
        buckets[bucket] = buckets.get(bucket, 0) + count
    return [(_decode_key(info, key), buckets) for key, buckets in buckets_by_key.items()]


def _decode_key(info: MapInfo, key_bytes: Bytes) -> Optional[object]:
    if info.scalar:
        return None
    return decode(info.key, key_bytes)
