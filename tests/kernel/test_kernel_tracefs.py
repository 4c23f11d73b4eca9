"""compiler.kernel.tracefs: format files from fixtures/tracefs (written for
these tests, laid out like the kernel's), and the live tracefs if mounted."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from compiler.kernel import tracefs
from compiler.kernel.ctypes import (
    CArray, CEnumRef, CField, CInt, CPointer, CRecordRef, CUnsupported, CVoid,
)  # fmt: skip
from compiler.kernel.live import LiveFacts

FIXTURE = str(Path(__file__).parent / "fixtures" / "tracefs")
CHAR = CInt(1, True, "char", is_char=True)


def fields(category, event, resolve=None) -> dict[str, CField]:
    tp = tracefs.read_tracepoint(FIXTURE, category, event, resolve)
    assert tp is not None and (tp.category, tp.event) == (category, event)
    return {f.name: f for f in tp.fields}


def test_syscall_fields_take_size_and_sign_from_the_file() -> None:
    got = fields("syscalls", "sys_enter_openat")
    assert list(got) == ["common_type", "common_flags", "common_preempt_count", "common_pid",
                         "__syscall_nr", "dfd", "filename", "flags", "mode"]  # fmt: skip
    assert got["common_pid"] == CField("common_pid", CInt(4, True, "int"), 4)
    assert got["__syscall_nr"].type == CInt(4, True, "int")
    # `int dfd` stored in 8 unsigned bytes is a uint64, as bpftrace reads it.
    assert got["dfd"] == CField("dfd", CInt(8, False, "uint64"), 16)
    assert got["filename"] == CField("filename", CPointer(CHAR), 24)
    # An unknown typedef without a resolver: size and sign from the file.
    assert got["mode"].type == CInt(8, False, "umode_t")
    assert fields("syscalls", "sys_exit_openat")["ret"].type == CInt(8, True, "long")


def test_common_fields_are_marked() -> None:
    tp = tracefs.read_tracepoint(FIXTURE, "syscalls", "sys_exit_openat")
    assert [f.name for f in tp.fields if not tracefs.is_common(f)] == ["__syscall_nr", "ret"]


def test_data_loc_fields_are_four_byte_ints() -> None:
    got = fields("sched", "sched_process_exec")
    assert got["filename"] == CField("filename", CInt(4, False, "__data_loc char[]"), 8)
    assert got["pid"].type == CInt(4, True, "pid_t")


def test_every_kind_of_declaration() -> None:
    got = fields("demo", "every_kind")
    assert got["comm"].type == CArray(CHAR, 16)
    assert got["saddr"].type == CArray(CInt(1, False, "__u8"), 4)
    assert got["skaddr"].type == CPointer(CVoid())
    assert got["skb"].type == CPointer(CRecordRef("struct", "sk_buff"))
    assert got["argv"].type == CPointer(CPointer(CHAR))
    assert got["iocbpp"].type == CPointer(CPointer(CRecordRef("struct", "iocb")))
    assert got["idx"].type == CEnumRef("zone_type", 4)
    assert got["ok"].type == CInt(1, False, "bool", is_bool=True)
    assert got["gfp_flags"].type == CInt(4, False, "gfp_t")
    assert got["opaque"].type == CInt(2, True, "mystery_t")
    assert got["caller"].type == CArray(CInt(8, False, "unsigned long"), 4)
    assert got["percpu"].type == CPointer(CVoid())
    assert got["tight"].type == CPointer(CVoid())
    assert got["blob"].type == CInt(4, False, "__data_loc u8[]")
    assert got["buf"] == CField("buf", CArray(CInt(4, False, "u32"), 0), 132)


def test_a_resolver_names_kernel_typedefs() -> None:
    known = {"umode_t": CInt(2, False, "umode_t"), "gfp_t": CInt(4, False, "gfp_t"),
             "mystery_t": CRecordRef("struct", "mystery")}  # fmt: skip

    def resolve(name):
        if name == "explode":
            raise RuntimeError
        return known.get(name)

    got = fields("syscalls", "sys_enter_openat", resolve)
    assert got["mode"].type == CInt(8, False, "uint64")  # 2 bytes declared, 8 stored
    every = fields("demo", "every_kind", resolve)
    assert every["gfp_flags"].type == CInt(4, False, "gfp_t")
    assert every["opaque"].type == CRecordRef("struct", "mystery")
    assert tracefs.parse_type("explode *", 8, False, resolve) == CPointer(CUnsupported("explode"))


def test_old_formats_without_signed_and_junk_lines() -> None:
    got = fields("demo", "old_kernel")
    assert list(got) == ["common_type", "common_pid", "count"]
    assert got["count"].type == CInt(4, False, "unsigned int")


def test_declarations_are_what_bpftrace_lv_prints() -> None:
    text = tracefs.read_format(FIXTURE, "syscalls", "sys_enter_openat")
    assert tracefs.declarations(text) == [
        "int __syscall_nr", "int dfd", "const char * filename", "int flags", "umode_t mode"]  # fmt: skip
    assert tracefs.declarations("") == []


def test_missing_or_hostile_names_give_none() -> None:
    assert tracefs.read_tracepoint(FIXTURE, "syscalls", "sys_enter_nothing") is None
    assert tracefs.read_tracepoint(FIXTURE, "..", "fixtures") is None
    assert tracefs.read_tracepoint(FIXTURE, "syscalls/../sched", "sched_process_exec") is None
    assert tracefs.read_tracepoint(FIXTURE, "", "x") is None
    assert tracefs.parse_format("name: x\nformat:\n\nprint fmt: \"\"\n", "a", "x") is None


def test_listing_from_available_events_or_the_directories(tmp_path) -> None:
    expected = [("demo", "every_kind"), ("demo", "old_kernel"), ("sched", "sched_process_exec"),
                ("syscalls", "sys_enter_openat"), ("syscalls", "sys_exit_openat")]  # fmt: skip
    assert tracefs.list_tracepoints(FIXTURE) == expected
    copy = tmp_path / "tracing"
    shutil.copytree(FIXTURE, copy)
    (copy / "available_events").unlink()
    (copy / "events" / "enable").write_text("0\n")  # files beside categories are skipped
    (copy / "events" / "demo" / "filter").write_text("none\n")
    assert tracefs.list_tracepoints(str(copy)) == expected
    assert tracefs.list_tracepoints(str(tmp_path / "absent")) == []


def test_mount_refuses_a_missing_mount_point(tmp_path) -> None:
    assert tracefs.mount_tracefs(str(tmp_path / "absent")) is False


def test_live_facts_over_the_fixture(tmp_path) -> None:
    facts = LiveFacts(btf_path=str(tmp_path / "no-btf"), tracefs_root=FIXTURE, mount=False)
    assert facts.has_tracepoints and not facts.has_types
    assert ("syscalls", "sys_enter_openat") in facts.tracepoints()
    tp = facts.tracepoint("syscalls", "sys_enter_openat")
    assert tp.fields[-1].name == "mode"
    assert facts.tracepoint("syscalls", "nope") is None
    assert facts.tracepoint_declarations("sched", "sched_process_exec")[0] == "__data_loc char[] filename"
    empty = LiveFacts(btf_path=str(tmp_path / "no-btf"), tracefs_root=str(tmp_path), mount=False)
    assert not empty.has_tracepoints and list(empty.tracepoints()) == []


# -- the live tracefs ---------------------------------------------------------

LIVE = tracefs.find_tracefs()
needs_tracefs = pytest.mark.skipif(
    LIVE is None
    or not os.access(os.path.join(LIVE, "events", "syscalls", "sys_enter_openat", "format"), os.R_OK),
    reason="no readable tracefs with syscall tracepoints",
)


@needs_tracefs
def test_live_sys_enter_openat() -> None:
    assert ("syscalls", "sys_enter_openat") in tracefs.list_tracepoints(LIVE)
    tp = tracefs.read_tracepoint(LIVE, "syscalls", "sys_enter_openat")
    by_name = {f.name: f for f in tp.fields}
    assert by_name["filename"].type == CPointer(CHAR)
    assert by_name["common_pid"].type == CInt(4, True, "int")
    assert isinstance(by_name["flags"].type, CInt)
    assert "const char * filename" in tracefs.declarations(tracefs.read_format(LIVE, "syscalls", "sys_enter_openat"))


@needs_tracefs
def test_live_facts_resolve_typedefs_through_btf(tmp_path) -> None:
    facts = LiveFacts(cache_dir=str(tmp_path), mount=False)
    tp = facts.tracepoint("sched", "sched_switch")
    if tp is None:
        pytest.skip("no sched_switch tracepoint")
    by_name = {f.name: f for f in tp.fields}
    assert by_name["prev_comm"].type == CArray(CHAR, 16)
    assert by_name["prev_pid"].type == CInt(4, True, "pid_t")
