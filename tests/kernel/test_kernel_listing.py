"""compiler.kernel.listing: `-l` patterns and formats over FixtureFacts (and
the fixture tracefs through LiveFacts, for the raw -lv declarations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.kernel.ctypes import (
    CArray, CField, CFunction, CInt, CPointer, CRecordRef, CUnsupported, CVoid, Tracepoint,
)  # fmt: skip
from compiler.kernel.facts import FixtureFacts
from compiler.kernel.listing import declaration, list_probes, provider_name
from compiler.kernel.live import LiveFacts

CHAR = CInt(1, True, "char", is_char=True)
COMMON = (CField("common_type", CInt(2, False, "unsigned short"), 0),
          CField("common_pid", CInt(4, True, "int"), 4))  # fmt: skip


def tp(category, event, *fields):
    return Tracepoint(category, event, COMMON + tuple(fields))


@pytest.fixture
def facts() -> FixtureFacts:
    task = CPointer(CRecordRef("struct", "task_struct"))
    return FixtureFacts(
        tracepoint_formats={
            ("syscalls", "sys_enter_openat"): tp(
                "syscalls", "sys_enter_openat",
                CField("dfd", CInt(8, False, "uint64"), 16),
                CField("filename", CPointer(CHAR), 24)),
            ("syscalls", "sys_exit_openat"): tp("syscalls", "sys_exit_openat",
                                                CField("ret", CInt(8, True, "long"), 16)),
            ("syscalls", "sys_enter_read"): tp("syscalls", "sys_enter_read"),
            ("sched", "sched_switch"): tp(
                "sched", "sched_switch", CField("prev_comm", CArray(CHAR, 16), 8)),
        },
        functions={
            "vfs_read": CFunction("vfs_read", CInt(8, True, "ssize_t"), (
                ("file", CPointer(CRecordRef("struct", "file"))), ("buf", CPointer(CHAR)),
                ("count", CInt(8, False, "size_t")))),
            "vfs_write": CFunction("vfs_write", CInt(8, True, "ssize_t"), ()),
            "do_fast.part.0": CFunction("do_fast.part.0", CVoid(), ()),
            "__probestub_sched_switch": CFunction("__probestub_sched_switch", CVoid(), (
                ("__data", CPointer(CVoid())), ("preempt", CInt(1, False, "bool", is_bool=True)),
                ("prev", task))),
            "__traceiter_sched_switch": CFunction("__traceiter_sched_switch", CInt(4, True, "int"), ()),
            "with_float": CFunction("with_float", CVoid(), (
                ("x", CUnsupported("double")), ("n", CInt(4, True, "int")))),
        },
        binaries={"/opt/app": ["main", "handle_request", "handle_reply"]},
        usdt={"/opt/app": [("app", "request__start"), ("app", "request__done"), ("db", "query")]},
    )  # fmt: skip


def test_tracepoints_with_aliases_and_wildcards(facts) -> None:
    want = ["tracepoint:syscalls:sys_enter_openat", "tracepoint:syscalls:sys_exit_openat"]
    assert list_probes(facts, "t:syscalls:*open*") == want
    assert list_probes(facts, "tracepoint:syscalls:sys_e?it_openat") == want[1:]
    assert list_probes(facts, "T:syscalls:sys_[e]nter_*") == [
        "tracepoint:syscalls:sys_enter_openat", "tracepoint:syscalls:sys_enter_read"]  # fmt: skip
    # Two parts: any category.
    assert list_probes(facts, "tracepoint:*switch") == ["tracepoint:sched:sched_switch"]
    assert list_probes(facts, "tracepoint:syscalls:nothing") == []


def test_verbose_tracepoints_list_fields_without_common_ones(facts) -> None:
    assert list_probes(facts, "t:syscalls:sys_enter_openat", verbose=True) == [
        "tracepoint:syscalls:sys_enter_openat", "    uint64 dfd", "    char * filename"]  # fmt: skip
    assert list_probes(facts, "t:sched:*", verbose=True) == [
        "tracepoint:sched:sched_switch", "    char prev_comm[16]"]  # fmt: skip


def test_verbose_tracepoints_from_format_files() -> None:
    fixture = str(Path(__file__).parent / "fixtures" / "tracefs")
    live = LiveFacts(btf_path="/nonexistent", tracefs_root=fixture, mount=False)
    assert list_probes(live, "tracepoint:syscalls:sys_enter_openat", verbose=True) == [
        "tracepoint:syscalls:sys_enter_openat",
        "    int __syscall_nr", "    int dfd", "    const char * filename", "    int flags",
        "    umode_t mode",
    ]  # fmt: skip


def test_kernel_functions(facts) -> None:
    assert list_probes(facts, "kprobe:vfs_*") == ["kprobe:vfs_read", "kprobe:vfs_write"]
    assert list_probes(facts, "k:vmlinux:vfs_r*") == ["kprobe:vmlinux:vfs_read"]
    assert list_probes(facts, "fentry:vfs_read") == ["fentry:vmlinux:vfs_read"]
    assert list_probes(facts, "kfunc:vmlinux:vfs_read") == ["fentry:vmlinux:vfs_read"]
    assert list_probes(facts, "k:do_fast*") == []  # .part. clones are hidden


def test_verbose_functions(facts) -> None:
    assert list_probes(facts, "f:vfs_read", verbose=True) == [
        "fentry:vmlinux:vfs_read", "    struct file * file", "    char * buf", "    size_t count"]  # fmt: skip
    assert list_probes(facts, "k:vfs_read", verbose=True) == [
        "kprobe:vfs_read", "    struct file * arg0", "    char * arg1", "    size_t arg2"]  # fmt: skip
    assert list_probes(facts, "k:with_float", verbose=True) == ["kprobe:with_float", "    int arg0"]


def test_raw_tracepoints_come_from_their_stubs(facts) -> None:
    assert list_probes(facts, "rt:*") == ["rawtracepoint:vmlinux:sched_switch"]
    assert list_probes(facts, "rawtracepoint:sched_switch", verbose=True) == [
        "rawtracepoint:vmlinux:sched_switch", "    bool preempt", "    struct task_struct * prev"]  # fmt: skip


def test_software_and_hardware_events_with_aliases(facts) -> None:
    software = list_probes(facts, "software:*")
    assert "software:cpu-clock:" in software and "software:cpu:" in software
    assert software == sorted(software) and len(software) == 14
    assert list_probes(facts, "s:page*") == ["software:page-faults:"]
    assert list_probes(facts, "h:*cycles") == [
        "hardware:bus-cycles:", "hardware:cpu-cycles:", "hardware:cycles:", "hardware:ref-cycles:"]  # fmt: skip


def test_a_bare_pattern_searches_every_kernel_provider(facts) -> None:
    assert list_probes(facts, "*read*") == [
        "fentry:vmlinux:vfs_read", "kprobe:vfs_read", "tracepoint:syscalls:sys_enter_read"]  # fmt: skip
    everything = list_probes(facts, None)
    providers = [line.split(":")[0] for line in everything]
    assert providers == sorted(providers)  # grouped by provider, alphabetically
    assert set(providers) == {"fentry", "hardware", "kprobe", "rawtracepoint", "software", "tracepoint"}
    assert list_probes(facts, "") == everything
    assert list_probes(facts, "*:*") == everything


def test_wildcard_providers_and_comma_lists(facts) -> None:
    assert list_probes(facts, "*probe:vfs_write") == ["kprobe:vfs_write"]
    assert list_probes(facts, "t:sched:*, s:cs") == ["tracepoint:sched:sched_switch", "software:cs:"]


def test_user_space_probes_need_a_target(facts) -> None:
    assert list_probes(facts, "uprobe:/opt/app:handle_*") == [
        "uprobe:/opt/app:handle_reply", "uprobe:/opt/app:handle_request"]  # fmt: skip
    assert list_probes(facts, "u:/opt/app:main") == ["uprobe:/opt/app:main"]
    assert list_probes(facts, "usdt:/opt/app:app:*") == [
        "usdt:/opt/app:app:request__done", "usdt:/opt/app:app:request__start"]  # fmt: skip
    assert list_probes(facts, "U:/opt/app:query") == ["usdt:/opt/app:db:query"]
    assert list_probes(facts, "uprobe:*") == []
    assert list_probes(facts, "*:/opt/app:*") == []  # not a real file, so no user space


def test_unlisted_and_unknown_providers(facts) -> None:
    assert list_probes(facts, "begin:*") == []
    assert list_probes(facts, "interval:*") == []
    assert list_probes(facts, "nonsense:*") == []


def test_provider_names() -> None:
    assert provider_name("t") == "tracepoint" and provider_name("T") == "tracepoint"
    assert provider_name("U") == "usdt" and provider_name("u") == "uprobe"
    assert provider_name("KFUNC") == "fentry" and provider_name("rt") == "rawtracepoint"
    assert provider_name("nope") is None


def test_declarations() -> None:
    assert declaration(CPointer(CPointer(CHAR)), "argv") == "char ** argv"
    assert declaration(CArray(CInt(1, False, "u8"), 4), "addr") == "u8 addr[4]"
    assert declaration(CInt(4, True), "x") == "int32 x"
    assert declaration(CPointer(CRecordRef("union", "")), "u") == "union {...} * u"
