"""Loading, attaching, running and taking down real BPF programs, and the
errors a user sees when the kernel says no."""

from __future__ import annotations

import os
import struct
import time

import pytest
from llvmlite import ir
from test_machine_support import (
    RECORD_SIZE, ObjectBuilder, counters, loaded, nothing_left_behind, requires_bpf,
)  # fmt: skip

from compiler.codegen import bpf_module
from compiler.codegen.bpf_module import I32, I64, PTR
from compiler.runtime import libbpf
from compiler.runtime.errors import ProbeRejected, RuntimeFailure
from compiler.runtime.loader import LoadedProgram, kprobes_available
from compiler.runtime.program import LOST_EVENTS_MAP, RINGBUF_MAP, AttachTarget, CompiledProgram, ProgramInfo
from compiler.runtime.ringbuf import RingBufferReader, lost_events

pytestmark = [*requires_bpf, pytest.mark.usefixtures("nothing_left_behind")]
__all__ = ["nothing_left_behind"]  # the module fixture, imported for pytest

GETPPID_SECTION = "tracepoint/syscalls/sys_enter_getppid"


def getppid_probe(obj: ObjectBuilder, event: str = "sys_enter_getppid", line: int = 1):
    """A tracepoint probe (in getppid's section, which libbpf only uses for
    the program type) attached to syscalls:`event`."""
    name = f"tracepoint:syscalls:{event}"
    return obj.probe("tracepoint", GETPPID_SECTION, name, AttachTarget(f"syscalls:{event}"), line=line)


def read_records(program: LoadedProgram) -> list[tuple[int, int]]:
    records = []
    with RingBufferReader(program.map_fd(RINGBUF_MAP), lambda data: records.append(data)) as reader:
        reader.consume()
    return [struct.unpack("<QQ", r) for r in records]


def test_tracepoint_counts_and_emits_this_process_only() -> None:
    obj = ObjectBuilder()
    body = getppid_probe(obj)
    body.only_this_process()
    body.count(0)
    body.emit(7, body.helper("get_current_pid_tgid", I64))
    body.done()
    with loaded(obj.compiled()) as program:
        program.attach_all()
        for _ in range(25):
            os.getppid()
        program.detach_all()
        os.getppid()  # not counted: detached
        assert counters(program)[0] == 25
        records = read_records(program)
    assert len(records) == 25
    assert {tag for tag, _ in records} == {7}
    assert {value >> 32 for _, value in records} == {os.getpid()}


def test_raw_tracepoint_sees_the_syscall_number() -> None:
    obj = ObjectBuilder()
    body = obj.probe("rawtracepoint", "raw_tp/sys_enter", "rawtracepoint:sys_enter", AttachTarget("sys_enter"))
    body.only_this_process()
    # ctx is u64 args[]: args[1] is the syscall number.
    number = body.b.load(body.b.gep(body.ctx, [I64(8)], source_etype=ir.IntType(8)), typ=I64)
    is_getppid = body.b.icmp_unsigned("==", number, I64(110))  # x86-64 __NR_getppid
    with body.b.if_then(is_getppid):
        body.count(1)
    body.done()
    with loaded(obj.compiled()) as program:
        program.attach_all()
        for _ in range(10):
            os.getppid()
        program.detach_all()
        assert counters(program)[1] == 10


def test_begin_and_end_run_once_in_this_process() -> None:
    obj = ObjectBuilder()
    for kind, tag in (("begin", 1), ("end", 2)):
        body = obj.probe(kind, "raw_tp", kind.upper())
        body.only_this_process()
        body.count(tag)
        body.emit(tag, body.helper("get_current_pid_tgid", I64))
        body.done()
    with loaded(obj.compiled()) as program:
        program.run_begin()
        program.attach_all()  # BEGIN and END are never attached
        program.detach_all()
        program.run_end()
        assert counters(program)[1:3] == [1, 1]
        records = read_records(program)
    assert [tag for tag, _ in records] == [1, 2]
    assert {value >> 32 for _, value in records} == {os.getpid()}


def test_timers_and_software_events_fire() -> None:
    obj = ObjectBuilder()
    for index, (kind, name, target) in enumerate([
        ("interval", "interval:ms:10", AttachTarget(unit="ms", rate=10)),
        ("profile", "profile:hz:200", AttachTarget(unit="hz", rate=200)),
        ("software", "software:cpu-clock:1000000", AttachTarget("cpu-clock", rate=1000000)),
        ("software", "software:faults", AttachTarget("faults")),
    ]):  # fmt: skip
        body = obj.probe(kind, "perf_event", name, target)
        body.count(index)
        body.done()
    with loaded(obj.compiled()) as program:
        program.attach_all()
        deadline = time.monotonic() + 0.3
        pages = []
        while time.monotonic() < deadline:
            pages.append(bytearray(1 << 20))  # page faults, in this process
            pages = pages[-8:]
        program.detach_all()  # seven links: detached by a thread pool
        interval, profile, cpu_clock, faults = counters(program)[:4]
        time.sleep(0.05)
        assert counters(program)[:4] == [interval, profile, cpu_clock, faults]
    # 10 ms over 0.3 s on one CPU: about 30; allow a loaded machine its lag.
    assert 5 <= interval <= 40
    assert profile >= 10
    assert cpu_clock >= 10
    assert faults >= 1


def test_verifier_rejection_names_the_probe_and_quotes_the_verifier() -> None:
    obj = ObjectBuilder()
    table = obj.module.add_map("table", "hash", 4, 8, 16)
    body = obj.probe("begin", "raw_tp", "BEGIN", line=3)
    body.b.store(I32(0), body.key)
    value = body.helper("map_lookup_elem", PTR, table, body.key)
    # No null check: the verifier refuses. (A hash map: for a constant key
    # into an array, recent verifiers know the lookup cannot fail.)
    body.b.ret(body.b.load(value, typ=I64))
    with pytest.raises(ProbeRejected) as caught:
        LoadedProgram(obj.compiled())
    error = caught.value
    assert "invalid mem access" in error.reason
    assert str(error).startswith(
        "the probe at line 3 (BEGIN) was rejected by the BPF verifier: R0 invalid mem access"
    )
    assert error.probe.line == 3
    assert "invalid mem access 'map_value_or_null'" in error.verifier_log


def test_kprobe_attach_says_the_kernel_has_no_kprobes() -> None:
    if kprobes_available():
        pytest.skip("this kernel supports kprobes")
    obj = ObjectBuilder()
    target = AttachTarget("do_sys_openat2")
    body = obj.probe("kprobe", "kprobe/do_sys_openat2", "kprobe:do_sys_openat2", target, line=2)
    body.done()
    with loaded(obj.compiled()) as program:
        with pytest.raises(RuntimeFailure) as caught:
            program.attach_all()
    assert str(caught.value) == (
        "the probe at line 2 (kprobe:do_sys_openat2): kprobes are not supported by this kernel"
        " (no kprobe PMU or kprobe_events)"
    )


def test_a_failed_attach_detaches_the_probes_already_attached() -> None:
    obj = ObjectBuilder()
    body = getppid_probe(obj)
    body.only_this_process()
    body.count(0)
    body.done()
    getppid_probe(obj, "sys_enter_no_such_call", line=9).done()
    with loaded(obj.compiled()) as program:
        with pytest.raises(RuntimeFailure) as caught:
            program.attach_all()
        assert str(caught.value) == (
            "the probe at line 9 (tracepoint:syscalls:sys_enter_no_such_call) could not be attached:"
            " the kernel has no such tracepoint"
        )
        os.getppid()
        assert counters(program)[0] == 0


def test_fentry_load_failure_is_explained() -> None:
    obj = ObjectBuilder()
    obj.probe("fentry", "fentry/vfs_read", "fentry:vfs_read", AttachTarget("vfs_read"), line=4).done()
    try:
        with loaded(obj.compiled()):
            pytest.skip("this kernel loads fentry programs")
    except ProbeRejected as error:
        assert str(error) == (
            "the probe at line 4 (fentry:vfs_read): fentry/fexit programs cannot be loaded here: the kernel"
            " refused with EPERM (function tracing is not permitted)"
        )


def test_an_unreadable_object_is_a_clear_error() -> None:
    with pytest.raises(RuntimeFailure, match="^libbpf cannot open the compiled BPF object"):
        LoadedProgram(CompiledProgram(b"\x7fELF not really", ProgramInfo()))


def test_close_is_idempotent_and_leaves_nothing_attached() -> None:
    obj = ObjectBuilder()
    body = getppid_probe(obj)
    body.done()
    program = LoadedProgram(obj.compiled())
    ids = program.program_ids()
    program.attach_all()
    program.close()
    program.close()
    assert not any(libbpf.program_exists(i) for i in ids)


def test_without_privileges_the_error_says_what_is_needed() -> None:
    obj = ObjectBuilder()
    obj.probe("begin", "raw_tp", "BEGIN").done()
    compiled = obj.compiled()
    libbpf.lib()  # loaded before dropping privileges, as a cached program would be
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        message = "no error"
        try:
            os.setgid(65534)
            os.setuid(65534)  # nobody: every capability is gone
            LoadedProgram(compiled).close()
        except RuntimeFailure as error:
            message = str(error)
        except BaseException as error:  # noqa: BLE001
            message = f"{type(error).__name__}: {error}"
        finally:
            os.write(write_end, message.encode())
            os._exit(0)
    os.close(write_end)
    message = os.read(read_end, 4096).decode()
    os.close(read_end)
    os.waitpid(child, 0)
    assert message == (
        "the kernel refused to load the BPF program (Operation not permitted): bpftrace programs need root,"
        " or the capabilities CAP_BPF and CAP_PERFMON"
    )


def test_ring_buffer_consumer_can_stop_polling_and_errors_come_back() -> None:
    obj = ObjectBuilder()
    body = obj.probe("begin", "raw_tp", "BEGIN")
    for tag in range(5):
        body.emit(tag, I64(tag * 10))
    body.done()
    with loaded(obj.compiled()) as program:
        seen = []
        program.run_begin()
        stop_at_two = lambda data: seen.append(data) or len(seen) == 2  # noqa: E731
        with RingBufferReader(program.map_fd(RINGBUF_MAP), stop_at_two) as reader:
            assert reader.poll(100) == 2
            assert reader.stopped
            assert len(seen) == 2 and all(len(r) == RECORD_SIZE for r in seen)

        def explode(data: bytes) -> None:
            raise ValueError("consumer bug")

        with RingBufferReader(program.map_fd(RINGBUF_MAP), explode, program.map_fd(LOST_EVENTS_MAP)) as reader:
            with pytest.raises(ValueError, match="consumer bug"):
                reader.consume()
            assert reader.lost_events() == 0


def test_string_constants_are_readable_from_rodata() -> None:
    obj = ObjectBuilder()
    text = obj.module.string_constant(b"btls-ok\0")
    body = obj.probe("begin", "raw_tp", "BEGIN")
    body.emit(3, body.b.load(body.b.bitcast(text, PTR), typ=I64))
    body.done()
    with loaded(obj.compiled()) as program:
        program.run_begin()
        records = read_records(program)
    assert [(tag, value.to_bytes(8, "little")) for tag, value in records] == [(3, b"btls-ok\0")]


def test_uprobe_on_libc_sees_this_process() -> None:
    libc = next(
        line.split()[-1] for line in open("/proc/self/maps") if "/libc.so" in line or "/libc-" in line
    )  # fmt: skip
    obj = ObjectBuilder()
    body = obj.probe("uprobe", "uprobe", f"uprobe:{libc}:getppid", AttachTarget(libc, "getppid"))
    body.only_this_process()
    body.count(5)
    body.done()
    with loaded(obj.compiled()) as program:
        program.attach_all()
        for _ in range(3):
            os.getppid()
        program.detach_all()
        assert counters(program)[5] == 3


def test_past_the_stack_guard_the_verifier_refuses_instead_of_llvm_exiting(monkeypatch) -> None:
    # The safety net under BpfModule's stack estimate: LLVM's own 512-byte
    # check (an exit) is lifted, so the kernel reports it.
    monkeypatch.setattr(bpf_module, "STACK_BUDGET", 4096)
    obj = ObjectBuilder()
    body = obj.probe("begin", "raw_tp", "BEGIN", line=2)
    buffer = body.b.bitcast(body.b.alloca(ir.ArrayType(ir.IntType(8), 600)), PTR)
    memset = obj.module.ir.declare_intrinsic("llvm.memset", [PTR, I64])
    body.b.call(memset, [buffer, ir.IntType(8)(1), I64(600), ir.IntType(1)(1)])  # volatile: kept
    body.done()
    refused = r"^the probe at line 2 \(BEGIN\) was rejected by the BPF verifier: .*stack"
    with pytest.raises(ProbeRejected, match=refused):
        LoadedProgram(obj.compiled())


def test_a_counter_in_bss_is_read_like_the_lost_events_map() -> None:
    obj = ObjectBuilder()
    for name in ("first", "dropped"):
        counter = ir.GlobalVariable(obj.module.ir, I64, name)
        counter.initializer, counter.section, counter.align = I64(0), ".bss", 8
    body = obj.probe("begin", "raw_tp", "BEGIN")
    body.b.atomic_rmw("add", counter, I64(3), "monotonic")
    body.done()
    with loaded(obj.compiled()) as program:
        program.run_begin()
        program.run_begin()
        bss = program.map_fd(".bss")  # libbpf's internal map: the section's variables, in order
        assert lost_events(bss, offset=8) == 6
        assert lost_events(bss, offset=0) == 0
