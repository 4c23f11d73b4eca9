"""How values are laid out in BPF memory: map keys and values, and event
records. Codegen writes values this way and the runtime reads them back,
so both use these functions and nothing else.

The rules are C's: each value is aligned to its alignment, a tuple or record
is a struct of its elements, padded to its largest alignment.

    int N        N/8 bytes, aligned to N/8
    bool         1 byte
    string[N]    N bytes (NUL-terminated when shorter)
    buffer[N]    u32 length, then N bytes
    inet         u32 address family, then 4 or 16 address bytes
    pointer      8 bytes
    T[N]         N elements of T
    ksym, kstack, timestamp, ... (Special)   u64
    usym, ustack u64 address or stack id, then u64 pid
    aggregation  see AGGREGATION_VALUE_SIZE: one slot of a per-CPU map
"""

from __future__ import annotations

from ..semantic import types as T

# The per-CPU value of an aggregation map, for one key (or one bucket).
#   count, sum, hist and lhist buckets: a 64-bit total
#   min, max: the value, then a u64 "set" flag (0 until the first update)
#   avg, stats: a u64 count, then a 64-bit total
AGGREGATION_VALUE_SIZE = {"count": 8, "sum": 8, "hist": 8, "lhist": 8, "min": 16, "max": 16, "avg": 16, "stats": 16}

# Special types stored as an address (or stack id) plus the pid it belongs to.
_WITH_PID = ("usym_t", "ustack")


def size_of(t: T.Type) -> int:
    if isinstance(t, T.Bool):
        return 1
    if isinstance(t, T.Int):
        return t.bits // 8
    if isinstance(t, T.String):
        return t.length
    if isinstance(t, T.Buffer):
        return 4 + t.length
    if isinstance(t, T.Inet):
        return t.length
    if isinstance(t, T.Pointer):
        return 8
    if isinstance(t, T.Array):
        return size_of(t.element) * t.length
    if isinstance(t, T.CRecord):
        return t.byte_size
    if isinstance(t, (T.Tuple, T.Record)):
        return struct_layout(elements(t))[1]
    if isinstance(t, T.Special):
        return 16 if t.name in _WITH_PID else 8
    if isinstance(t, T.Aggregation):
        return AGGREGATION_VALUE_SIZE.get(t.kind, 8)
    return 0  # void, unknown


def align_of(t: T.Type) -> int:
    if isinstance(t, T.Int):
        return t.bits // 8
    if isinstance(t, (T.Bool, T.String)):
        return 1
    if isinstance(t, (T.Buffer, T.Inet)):
        return 4
    if isinstance(t, T.Array):
        return align_of(t.element)
    if isinstance(t, (T.Tuple, T.Record)):
        return max((align_of(e) for e in elements(t)), default=1)
    if isinstance(t, T.CRecord):
        for align in (8, 4, 2):
            if t.byte_size % align == 0:
                return align
        return 1
    return 8  # pointers, specials, aggregations


def elements(t: T.Type) -> list[T.Type]:
    """A tuple's elements, or a record's field types, in order."""
    if isinstance(t, T.Tuple):
        return list(t.elements)
    if isinstance(t, T.Record):
        return [ft for _, ft in t.fields]
    return []


def struct_layout(types: list[T.Type], start: int = 0) -> tuple[list[int], int]:
    """The offsets of `types` laid out as a C struct beginning at `start`,
    and the end of the struct (padded to its alignment)."""
    offsets = []
    offset = start
    largest = 1
    for t in types:
        align = max(1, align_of(t))
        largest = max(largest, align)
        offset = _round_up(offset, align)
        offsets.append(offset)
        offset += size_of(t)
    return offsets, _round_up(offset, largest)


def record_layout(types: list[T.Type]) -> tuple[list[int], int]:
    """An event record: a u64 event id, then the arguments."""
    offsets, end = struct_layout([T.UINT64, *types])
    return offsets[1:], _round_up(end, 8)


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align
