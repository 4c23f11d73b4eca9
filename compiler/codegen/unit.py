"""What all programs of one compilation share: the BPF module, the maps,
the event table, the internal maps (ring buffer, lost-event counter,
scratch memory) and the compiler's options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from llvmlite import ir

from ..runtime import layout
from ..runtime.program import (
    KSTACK_MAP, LOST_EVENTS_MAP, RINGBUF_MAP, STACK_FRAMES, START_TIME_MAP, USTACK_MAP, EventInfo, MapInfo,
)  # fmt: skip
from ..semantic import types as T
from ..source import Span
from .bpf_module import BpfModule
from .func_debuginfo import MAX_COLUMN
from .values import I8, I64, i64

# Room for about 400k printf records: a burst from a busy probe must fit
# while user space catches up (the ring, unlike bpftrace's perf buffer, does
# not slow the traced program down by waking the reader for every event).
RINGBUF_BYTES = 16 << 20
# Each program's slice of the per-CPU scratch map (see function.py).
SCRATCH_SLICE = 32 << 10
SCRATCH_MAP = "scratch"


@dataclass
class Options:
    max_strlen: int = 1024
    max_map_keys: int = 4096
    positional: tuple[str, ...] = ()  # $1, $2, ... as given on the command line
    unsafe: bool = False
    cpid: int = 0


@dataclass
class PlannedMap:
    info: MapInfo
    global_: ir.GlobalVariable


class EventTable:
    """Every kind of record a program sends, numbered in order of use."""

    def __init__(self) -> None:
        self.events: list[EventInfo] = []

    def add(self, kind: str, args: tuple[T.Type, ...] = (), **fields) -> EventInfo:
        stored = tuple(record_type(t) for t in args)
        offsets, size = layout.record_layout(list(stored))
        event = EventInfo(len(self.events), kind, args=stored, offsets=tuple(offsets), size=size, **fields)
        self.events.append(event)
        return event


# Constants of the C headers bpftrace scripts include most (linux/socket.h,
# fcntl.h, signal.h); clang reads them for bpftrace, we know these few.
HEADER_CONSTANTS = {
    "AF_UNSPEC": 0, "AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16,
    "AF_PACKET": 17, "O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_CREAT": 0o100, "O_TRUNC": 0o1000,
    "O_APPEND": 0o2000, "SIGINT": 2, "SIGKILL": 9, "SIGTERM": 15, "SIGUSR1": 10, "SIGUSR2": 12,
}  # fmt: skip


def _script_defines(program) -> dict[str, int]:
    """`#define NAME <integer>` lines of the script."""
    import re

    from ..syntax.literals import parse_int

    found = {}
    for item in program.items:
        if type(item).__name__ != "CPreprocessor":
            continue
        match = re.match(r"#\s*define\s+([A-Za-z_]\w*)\s+(\S+)\s*$", item.text.strip())
        if match:
            value, problems = parse_int(match.group(2).strip("()"))
            if not problems:
                found[match.group(1)] = value
    return found


# The size of a string whose length the analyser leaves open (the `probe`
# builtin's name, a `let $s: string`).
UNSIZED_STRING = 128


def record_type(t: T.Type) -> T.Type:
    """How a value is stored in a record or map: integers as 64 bits (as
    bpftrace does), bools as one byte, unsized strings at UNSIZED_STRING,
    the rest as they are."""
    if isinstance(t, T.Int):
        return T.Int(64, t.signed, t.enum)
    if isinstance(t, T.Aggregation):
        return T.as_integer(t)
    if isinstance(t, T.String) and t.length == 0:
        return T.String(UNSIZED_STRING)
    if isinstance(t, T.Tuple):
        return T.Tuple(tuple(_sized(e) for e in t.elements))
    if isinstance(t, T.Record):
        return T.Record(tuple((n, _sized(e)) for n, e in t.fields))
    return t


def _sized(t: T.Type) -> T.Type:
    return T.String(UNSIZED_STRING) if isinstance(t, T.String) and t.length == 0 else t


@dataclass
class Unit:
    module: BpfModule
    analysis: object  # semantic.analysis.Analysis
    facts: object  # kernel.facts.KernelFacts
    options: Options
    maps: dict[str, PlannedMap] = field(default_factory=dict)
    events: EventTable = field(default_factory=EventTable)
    program_count: int = 0
    _scratch_map: Optional[ir.GlobalVariable] = None
    _start_time_map: Optional[ir.GlobalVariable] = None
    _counting_callback: Optional[ir.Function] = None
    _stack_maps: dict = field(default_factory=dict)
    _defines: Optional[dict] = None
    _callbacks: int = 0
    # (line, column) of an instruction's location -> the source it stands
    # for: of the nodes that start there, the one reaching furthest on
    # that line (a statement rather than its first operand). The verifier's
    # failing instruction is mapped back through it (cli_verify.py).
    locations: dict[tuple[int, int], Span] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ringbuf = self.module.add_map(RINGBUF_MAP, "ringbuf", 0, 0, RINGBUF_BYTES)
        # A u64 in .bss (libbpf's internal global-data map): an atomic add
        # to it costs a program three instructions, a map lookup ten.
        self.lost_events = ir.GlobalVariable(self.module.ir, I64, LOST_EVENTS_MAP)
        self.lost_events.initializer = ir.Constant(I64, 0)
        self.lost_events.section = ".bss"
        self.lost_events.align = 8

    def type_of(self, node) -> T.Type:
        return self.analysis.types.get(node, T.UNKNOWN)

    def location(self, function: ir.Function, node) -> Optional[ir.DIValue]:
        """The `!dbg` of `function`'s instructions made from `node` (its
        first line and column), recorded in `locations`."""
        span = getattr(node, "span", None)
        if span is None:
            return None
        lines = self.analysis.source.lines
        line, column = lines.line_col(span.start)
        column = min(column, MAX_COLUMN)  # what BTF keeps: ten bits
        # A node over several lines is its first (a loop is its header).
        end = min(span.end, lines.line_span(line - 1).end)
        shown = Span(span.start, max(end, span.start))
        known = self.locations.get((line, column))
        if known is None or shown.end > known.end:
            self.locations[(line, column)] = shown
        return self.module.location(function, line, column)

    def symbol_of(self, node):
        return self.analysis.references.get(node)

    @property
    def scratch_map(self) -> ir.GlobalVariable:
        if self._scratch_map is None:
            # One slice per program; the count is final before any lowering.
            entries = max(1, self.program_count)
            self._scratch_map = self.module.add_map(SCRATCH_MAP, "percpu_array", 4, SCRATCH_SLICE, entries)
        return self._scratch_map

    @property
    def start_time_map(self) -> ir.GlobalVariable:
        if self._start_time_map is None:
            self._start_time_map = self.module.add_map(START_TIME_MAP, "array", 4, 8, 1)
        return self._start_time_map

    def stack_map(self, user: bool) -> ir.GlobalVariable:
        name = USTACK_MAP if user else KSTACK_MAP
        if name not in self._stack_maps:
            self._stack_maps[name] = self.module.add_map(name, "stack_trace", 4, 8 * STACK_FRAMES, 4096)
        return self._stack_maps[name]

    @property
    def stack_map_names(self) -> list[str]:
        return sorted(self._stack_maps)

    def functions(self) -> dict:
        """The program's `fn` definitions by name."""
        return {item.name.text: item for item in self.analysis.program.items if type(item).__name__ == "Function"}

    def constant(self, name: str) -> Optional[int]:
        """The value of a bare name that is a constant: the script's own
        `#define NAME 42`, a kernel enumerator, or (when the script includes
        C headers, which we do not read) one of the header constants scripts
        commonly use."""
        if self._defines is None:
            self._defines = _script_defines(self.analysis.program)
        if name in self._defines:
            return self._defines[name]
        found = self.facts.enumerator(name) if hasattr(self.facts, "enumerator") else None
        if found is not None:
            return found[1]
        if any(type(item).__name__ == "CPreprocessor" for item in self.analysis.program.items):
            return HEADER_CONSTANTS.get(name)
        return None

    def next_callback(self) -> int:
        self._callbacks += 1
        return self._callbacks

    def counting_callback(self) -> ir.Function:
        """A callback for bpf_for_each_map_elem that counts keys into the
        u64 its context points to (len(@map))."""
        if self._counting_callback is None:
            function = self.module.add_callback("btls_count_keys")
            builder = ir.IRBuilder(function.append_basic_block("entry"))
            counter = function.args[3]
            builder.store(builder.add(builder.load(counter, typ=I64), i64(1)), counter)
            builder.ret(i64(0))
            self._counting_callback = function
        return self._counting_callback

    # --------------------------------------------------- memory helpers

    def memset(self, builder: ir.IRBuilder, ptr: ir.Value, byte: int, size: int, align: int = 8) -> None:
        """Fill `size` bytes; `align` is what `ptr` is known to be aligned to
        (a wider access than that is split into bytes by the BPF backend)."""
        store = _store_for(size, align)
        offset = 0
        for width in _widths(size, align):
            value = ir.Constant(ir.IntType(width * 8), int.from_bytes(bytes([byte]) * width, "little"))
            store(builder, value, _at(builder, ptr, offset), width)
            offset += width

    def memcpy(self, builder: ir.IRBuilder, dst: ir.Value, src: ir.Value, size: int, align: int = 8) -> None:
        """Copy `size` bytes; both pointers are aligned to `align`."""
        store = _store_for(size, align)
        offset = 0
        for width in _widths(size, align):
            value = builder.load(_at(builder, src, offset), typ=ir.IntType(width * 8), align=width)
            store(builder, value, _at(builder, dst, offset), width)
            offset += width

    # -------------------------------------------------------- events

    def emit_record(self, fn, record: ir.Value, size: int) -> None:
        """Send a record to the ring buffer; count it as lost if it does not
        fit."""
        builder = fn.builder
        result = self.module.call_helper(
            builder, "ringbuf_output", I64, [self.ringbuf, record, i64(size), i64(0)]
        )
        failed = builder.icmp_signed("<", result, i64(0))
        with builder.if_then(failed, likely=False):
            builder.atomic_rmw("add", self.lost_events, i64(1), "monotonic")


# LLVM's optimiser merges runs of stores into calls of memset/memcpy, and the
# BPF backend, unable to lower a long one, ends the whole process. Volatile
# stores are never merged; small runs stay plain so LLVM may still combine
# them into wider stores.
MERGEABLE_BYTES = 64


class _VolatileStore(ir.StoreInstr):
    def descr(self, buf) -> None:
        value, ptr = self.operands
        buf.append(f"store volatile {value.type} {value.get_reference()}, {ptr.type} {ptr.get_reference()},"
                   f" align {self.align or 1}\n")  # fmt: skip


def _plain_store(builder: ir.IRBuilder, value: ir.Value, ptr: ir.Value, align: int) -> None:
    builder.store(value, ptr, align=align)


def _volatile_store(builder: ir.IRBuilder, value: ir.Value, ptr: ir.Value, align: int) -> None:
    store = _VolatileStore(builder.block, value, ptr)
    store.align = align
    builder._insert(store)


def _store_for(size: int, align: int):
    # Under-aligned runs are volatile too: LLVM would merge two byte stores
    # into a 2-byte store at an odd stack offset, which the verifier refuses.
    return _plain_store if size <= MERGEABLE_BYTES and align >= min(size, 8) else _volatile_store


def _widths(size: int, align: int) -> list[int]:
    """The access widths that cover `size` bytes from an `align`-aligned
    start: the widest each offset allows."""
    widths, offset = [], 0
    while offset < size:
        width = 8
        while width > 1 and (width > align or offset % width or offset + width > size):
            width //= 2
        widths.append(width)
        offset += width
    return widths


def _at(builder: ir.IRBuilder, ptr: ir.Value, offset: int) -> ir.Value:
    return ptr if offset == 0 else builder.gep(ptr, [i64(offset)], source_etype=I8)
