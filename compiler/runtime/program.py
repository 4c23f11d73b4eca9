"""What a compiled program is, for the runtime: the BPF object and the
description that lets user space attach it and make sense of its maps and
events. Codegen (compiler/codegen) produces a `CompiledProgram`; the runtime
(this package) needs nothing else, so a cached program runs without the
frontend or llvmlite.

The event ABI: every record the BPF side writes to the ring buffer starts
with a u64 event id, and the event's arguments follow at `EventInfo.offsets`
(C struct layout, see layout.py). Map keys and values are laid out the same
way; a hist or lhist map's key is the user's key followed by a u64 bucket
index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Optional

from ..semantic import types as T
from .typecodec import type_from_json, type_to_json

# Names of the maps every program has.
RINGBUF_MAP = "ringbuf"
# A u64 global in .bss counting records the ring buffer had no room for;
# read it from libbpf's ".bss" internal map, at offset 0.
LOST_EVENTS_MAP = "lost_events"
# An array of one u64: the program's start time (bpf_ktime_get_ns), which the
# runtime writes before BEGIN when the program reads `elapsed`.
START_TIME_MAP = "start_time"
# Stack trace maps (BPF_MAP_TYPE_STACK_TRACE) for kstack and ustack values,
# which hold a stack id; the runtime reads the frames from here.
KSTACK_MAP, USTACK_MAP = "kstacks", "ustacks"
STACK_FRAMES = 127  # the most frames a stack keeps (the kernel's default limit)


@dataclass(frozen=True)
class AttachTarget:
    """One place a program attaches, in the terms of its probe kind.

    tracepoint:    target "category:event"
    rawtracepoint: target is the event
    kprobe/kretprobe, fentry/fexit: target is the kernel function, offset
    uprobe/uretprobe: target is the binary path, function the symbol (or
                   address in offset)
    usdt:          target the binary, function "provider:name"
    interval/profile: unit ("s", "ms", "us", "hz"), rate
    software/hardware: target is the event name, rate the sample period
    """

    target: str = ""
    function: str = ""
    offset: int = 0
    unit: str = ""
    rate: int = 0


@dataclass(frozen=True)
class ProbeInfo:
    """One BPF program and where it attaches."""

    kind: str  # begin end tracepoint rawtracepoint interval profile software hardware kprobe ...
    function: str  # the program's symbol in the object
    section: str  # its ELF section; libbpf derives the program type from it
    name: str  # the attach point as the `probe` builtin prints it
    attach: tuple[AttachTarget, ...] = ()
    line: int = 0  # the probe's first source line, for verifier messages


@dataclass(frozen=True)
class AggregationInfo:
    kind: str  # count sum min max avg stats hist lhist
    bits: int = 0  # hist: log2 buckets split 2**bits ways
    min: int = 0  # lhist
    max: int = 0
    step: int = 0


@dataclass(frozen=True)
class MapInfo:
    """A bpftrace map (`@name`) and the BPF map that holds it."""

    name: str  # "@x", or "@" for the anonymous map
    symbol: str  # the BPF map's name in the object
    bpf_type: str  # hash percpu_hash array percpu_array lru_hash percpu_lru_hash
    key: T.Type  # the user's key type; T.VOID for a scalar map
    value: T.Type  # the value type (T.Aggregation for aggregations)
    key_size: int
    value_size: int
    max_entries: int
    aggregation: Optional[AggregationInfo] = None

    @property
    def scalar(self) -> bool:
        return isinstance(self.key, T.Void)

    @property
    def percpu(self) -> bool:
        return self.bpf_type.startswith("percpu")


@dataclass(frozen=True)
class EventInfo:
    """A record kind the BPF side sends to user space."""

    id: int
    kind: str  # printf print clear zero exit time cat system errorf warnf join print_map ...
    format: str = ""  # printf/time/system/cat format, errorf message
    args: tuple[T.Type, ...] = ()
    offsets: tuple[int, ...] = ()  # of each argument, from the start of the record
    size: int = 0  # the whole record, id included
    map: str = ""  # for events about a map (print, clear, zero): its name
    top: int = 0  # print(@m, top, div)
    div: int = 0
    line: int = 0  # errorf/warnf source position
    column: int = 0


@dataclass
class ProgramInfo:
    probes: list[ProbeInfo] = field(default_factory=list)
    maps: list[MapInfo] = field(default_factory=list)
    events: list[EventInfo] = field(default_factory=list)
    source_name: str = "stdin"
    max_strlen: int = 1024
    print_maps_on_exit: bool = True
    stack_mode: str = "bpftrace"
    uses_start_time: bool = False  # the object has START_TIME_MAP
    stack_maps: list[str] = field(default_factory=list)  # which of KSTACK_MAP, USTACK_MAP it has

    def event(self, event_id: int) -> Optional[EventInfo]:
        return self.events[event_id] if 0 <= event_id < len(self.events) else None

    def to_json(self) -> str:
        return json.dumps(_plain(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ProgramInfo:
        raw = json.loads(text)
        probes = [
            ProbeInfo(**{**p, "attach": tuple(AttachTarget(**a) for a in p["attach"])}) for p in raw["probes"]
        ]
        maps = [
            MapInfo(**{
                **m, "key": type_from_json(m["key"]), "value": type_from_json(m["value"]),
                "aggregation": AggregationInfo(**m["aggregation"]) if m["aggregation"] else None,
            })
            for m in raw["maps"]
        ]  # fmt: skip
        events = [
            EventInfo(**{**e, "args": tuple(type_from_json(a) for a in e["args"]), "offsets": tuple(e["offsets"])})
            for e in raw["events"]
        ]
        rest = {k: v for k, v in raw.items() if k not in ("probes", "maps", "events")}
        return cls(probes, maps, events, **rest)


@dataclass
class CompiledProgram:
    """The object file and its description."""

    object: bytes
    info: ProgramInfo
    llvm_ir: str = ""  # kept for `btc --emit llvm`; the runtime never reads it
    # (line, column) of the object's line info -> the source Span it stands
    # for (codegen's Unit.locations): how `btc --verify` places a rejection.
    # Only in memory; a cached program has none.
    locations: dict = field(default_factory=dict, repr=False)


def _plain(value):
    """JSON-ready data: dataclasses as dicts, types tagged (typecodec.py)."""
    if isinstance(value, T.Type):
        return type_to_json(value)
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
