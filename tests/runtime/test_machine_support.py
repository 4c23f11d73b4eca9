"""What the machine-layer tests share: small BPF objects built with
BpfModule, and loading them so that nothing stays behind.

Probes here fire for every process on the machine (other tracers run on
it too), so the programs compare the current tgid with this test's pid,
baked in as a constant, before they count or emit anything.

Every test program's name starts with PREFIX, and `loaded()` checks, after
closing, that the kernel no longer has any program it loaded; the BPF test
modules also ask bpftool at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time

import pytest
from llvmlite import ir

from compiler.codegen.bpf_module import I32, I64, PTR, BpfModule
from compiler.runtime import libbpf
from compiler.runtime.loader import LoadedProgram
from compiler.runtime.program import (
    LOST_EVENTS_MAP, RINGBUF_MAP, AttachTarget, CompiledProgram, ProbeInfo, ProgramInfo,
)  # fmt: skip

PREFIX = "btlst_"  # test programs' names (the kernel keeps 15 characters)
RECORD_SIZE = 16  # records: u64 tag, u64 value

# Tests that load programs: root only.
requires_bpf = [
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root"),
]

# Every program id any test loaded, for the bpftool check at the end.
LOADED_IDS: set[int] = set()


class ObjectBuilder:
    """A test BPF object: the ring buffer and lost-events maps every
    program has, a per-CPU array `counts` of 8 counters, and probes."""

    def __init__(self, name: str = "btlst") -> None:
        self.module = BpfModule(name)
        self.ringbuf = self.module.add_map(RINGBUF_MAP, "ringbuf", max_entries=1 << 16)
        self.lost_events = self.module.add_map(LOST_EVENTS_MAP, "percpu_array", 4, 8, 1)
        self.counts = self.module.add_map("counts", "percpu_array", 4, 8, 8)
        self.probes: list[ProbeInfo] = []

    def probe(self, kind: str, section: str, name: str, *targets: AttachTarget, line: int = 1) -> ProbeBody:
        symbol = f"{PREFIX}{len(self.probes)}_{kind[:4]}"
        function = self.module.add_program(symbol, section)
        self.probes.append(ProbeInfo(kind, symbol, section, name, tuple(targets), line=line))
        return ProbeBody(self, function)

    def compiled(self) -> CompiledProgram:
        return CompiledProgram(self.module.compile(), ProgramInfo(probes=list(self.probes)))


class ProbeBody:
    """Builds one program's body. All stack slots are made in the entry
    block (LLVM takes an alloca anywhere else as dynamic)."""

    def __init__(self, owner: ObjectBuilder, function: ir.Function) -> None:
        self.owner = owner
        self.function = function
        self.ctx = function.args[0]
        self.b = ir.IRBuilder(function.append_basic_block("entry"))
        self.key = self.b.alloca(I32, name="key")
        self.record = self.b.alloca(I64, 2, name="record")

    def helper(self, name: str, returns: ir.Type, *args: ir.Value) -> ir.Value:
        return self.owner.module.call_helper(self.b, name, returns, list(args))

    def only_this_process(self) -> None:
        """Returns 0 at once unless the current tgid is the test's pid."""
        tgid = self.b.lshr(self.helper("get_current_pid_tgid", I64), I64(32))
        mine = self.b.icmp_unsigned("==", tgid, I64(os.getpid()))
        work, skip = self.function.append_basic_block("mine"), self.function.append_basic_block("others")
        self.b.cbranch(mine, work, skip)
        self.b.position_at_end(skip)
        self.b.ret(I64(0))
        self.b.position_at_end(work)

    def count(self, index: int, amount: ir.Value = I64(1)) -> None:
        """counts[index] += amount on this CPU."""
        self.b.store(I32(index), self.key)
        slot = self.helper("map_lookup_elem", PTR, self.owner.counts, self.key)
        with self.b.if_then(self.b.icmp_unsigned("!=", slot, ir.Constant(PTR, None))):
            self.b.store(self.b.add(self.b.load(slot, typ=I64), amount), slot)

    def emit(self, tag: int, value: ir.Value) -> None:
        """Writes the record (tag, value) to the ring buffer; counts a drop."""
        self.b.store(I64(tag), self.record)
        self.b.store(value, self.b.gep(self.record, [I32(1)]))
        written = self.helper("ringbuf_output", I64, self.owner.ringbuf, self.record, I64(RECORD_SIZE), I64(0))
        with self.b.if_then(self.b.icmp_signed("<", written, I64(0))):
            self.b.store(I32(0), self.key)
            slot = self.helper("map_lookup_elem", PTR, self.owner.lost_events, self.key)
            with self.b.if_then(self.b.icmp_unsigned("!=", slot, ir.Constant(PTR, None))):
                self.b.store(self.b.add(self.b.load(slot, typ=I64), I64(1)), slot)

    def done(self) -> None:
        self.b.ret(I64(0))


def counters(program: LoadedProgram) -> list[int]:
    """The `counts` array, summed over CPUs."""
    from compiler.runtime.mapread import read_entries

    entries = read_entries(program.map_fd("counts"), 4, 8, True, 8)
    return [sum(int.from_bytes(v, "little") for v in values) for _, values in entries]


@contextlib.contextmanager
def loaded(compiled: CompiledProgram):
    """LoadedProgram, closed on the way out; then the kernel must have
    none of its programs left."""
    program = LoadedProgram(compiled, name="btlst")
    ids = []
    try:
        ids = program.program_ids()
        LOADED_IDS.update(ids)
        yield program
    finally:
        program.close()
        assert_programs_gone(ids)


def assert_programs_gone(ids, timeout: float = 2.0) -> None:
    # Freeing a program after its last reference is immediate for most
    # attach types; allow a moment for ones released from a work queue.
    deadline = time.monotonic() + timeout
    while True:
        left = [i for i in ids if libbpf.program_exists(i)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert left == [], f"BPF programs still in the kernel after close: {left}"


def bpftool_leftovers() -> list[str]:
    """Programs bpftool lists that a test loaded (by id) or that carry the
    test prefix and are held by this process."""
    if shutil.which("bpftool") is None:
        return []
    run = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True, timeout=20)
    listed = json.loads(run.stdout or "[]")
    return [f"{p.get('id')} {p.get('name')}" for p in listed if p.get("id") in LOADED_IDS]


@pytest.fixture(scope="module")
def nothing_left_behind():
    """Module teardown: bpftool lists none of the programs the tests loaded."""
    yield
    assert bpftool_leftovers() == []
