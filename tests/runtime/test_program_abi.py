"""The compiled-program description survives the on-disk cache, and the
memory layout follows C's rules."""

from __future__ import annotations

from compiler.runtime import layout
from compiler.runtime.program import (
    AggregationInfo, AttachTarget, EventInfo, MapInfo, ProbeInfo, ProgramInfo,
)  # fmt: skip
from compiler.semantic import types as T


def test_program_info_round_trips_through_json() -> None:
    info = ProgramInfo(
        probes=[ProbeInfo("tracepoint", "p0", "tracepoint/syscalls/sys_enter_openat",
                          "tracepoint:syscalls:sys_enter_openat",
                          (AttachTarget("syscalls:sys_enter_openat"),), line=3)],
        maps=[MapInfo("@h", "AT_h", "percpu_hash", T.String(16), T.Aggregation("hist"), 24, 8, 4096,
                      AggregationInfo("hist", bits=0))],
        events=[EventInfo(0, "printf", "%s %d\n", (T.String(16), T.INT64), (8, 24), 32)],
        source_name="x.bt",
    )  # fmt: skip
    again = ProgramInfo.from_json(info.to_json())
    assert again == info
    assert again.maps[0].value == T.Aggregation("hist")
    assert again.event(0).args == (T.String(16), T.INT64)


def test_struct_layout_aligns_like_c() -> None:
    offsets, size = layout.struct_layout([T.UINT8, T.UINT64, T.String(3), T.UINT32])
    assert offsets == [0, 8, 16, 20] and size == 24
    assert layout.size_of(T.Tuple((T.INT8, T.String(16), T.INT64))) == 32
    assert layout.size_of(T.Record((("a", T.INT32), ("b", T.INT8)))) == 8


def test_event_records_start_with_the_id() -> None:
    offsets, size = layout.record_layout([T.INT32, T.String(16), T.UINT64])
    assert offsets == [8, 12, 32] and size == 40


def test_aggregation_values() -> None:
    assert layout.size_of(T.Aggregation("count")) == 8
    assert layout.size_of(T.Aggregation("avg")) == 16
    assert layout.size_of(T.USYM) == 16 and layout.size_of(T.KSYM) == 8
