"""BpfModule: the object it builds (no kernel needed), its guards against
the ways LLVM ends the process, and the runtime's import hygiene."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from llvmlite import ir

from compiler.codegen.bpf_module import HELPERS, I8, I32, I64, PTR, BpfModule, stack_estimate
from compiler.codegen.errors import CodegenError
from compiler.runtime import libbpf
from compiler.runtime.errors import RuntimeFailure
from compiler.runtime.loader import LoadedProgram
from compiler.runtime.program import CompiledProgram, ProgramInfo

ROOT = Path(__file__).parent.parent.parent
BPF_CALL = 0x85  # BPF_JMP | BPF_CALL


def small_module() -> BpfModule:
    module = BpfModule("unit")
    counts = module.add_map("counts", "percpu_hash", 16, 24, 1024)
    module.add_map("events", "ringbuf", max_entries=1 << 20)
    function = module.add_program("btlst_probe", "tracepoint/syscalls/sys_enter_getppid")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    key = builder.alloca(ir.ArrayType(I8, 16))
    greeting = module.string_constant(b"hello\0")
    assert module.string_constant(b"hello\0") is greeting  # one global per distinct string
    module.call_helper(builder, "get_current_comm", I64, [key, I32(16)])
    module.call_helper(builder, "probe_read_kernel", I64, [key, I32(6), greeting])
    module.call_helper(builder, "map_lookup_elem", PTR, [counts, key])
    module.call_helper(builder, 5, I64, [])  # by id: ktime_get_ns
    builder.ret(I64(0))
    return module


def sections(elf: bytes) -> dict[str, bytes]:
    return {section.name: section.data() for section in ELFFile(io.BytesIO(elf)).iter_sections()}


def test_the_object_has_what_libbpf_needs() -> None:
    found = sections(small_module().compile())
    assert found["license"] == b"GPL\0"
    assert found[".rodata"].startswith(b"hello\0")
    assert ".maps" in found and ".BTF" in found
    assert b"counts" in found[".BTF"] and b"events" in found[".BTF"]
    assert ".eh_frame" not in found  # programs are nounwind
    code = found["tracepoint/syscalls/sys_enter_getppid"]
    calls = [imm for op, _, _, imm in struct.iter_unpack("<BBhi", code) if op == BPF_CALL]
    assert calls == [16, 113, 1, 5]


def test_the_ir_declares_maps_the_btf_way() -> None:
    text = small_module().ir_text()
    assert 'target triple = "bpfel"' in text
    assert '@"counts" = global {ptr, ptr, ptr, ptr} zeroinitializer, section ".maps", align 8, !dbg' in text
    assert '@"events" = global {ptr, ptr} zeroinitializer, section ".maps"' in text  # no key, no value
    assert 'define i64 @"btlst_probe"(ptr %"ctx") nounwind section "tracepoint/syscalls/sys_enter_getppid"' in text
    assert 'call i64 inttoptr (i64 16 to ptr)(' in text
    assert '!{ i32 2, !"Debug Info Version", i32 3 }' in text
    assert "DISubrange(count: 0)" not in text


def test_helper_ids_are_the_kernels() -> None:
    # Spot checks against include/uapi/linux/bpf.h (the whole table was
    # compared with the header when it was written).
    assert HELPERS["map_lookup_elem"] == 1
    assert HELPERS["get_current_pid_tgid"] == 14
    assert HELPERS["probe_read_kernel_str"] == 115
    assert HELPERS["ringbuf_output"] == 130
    assert HELPERS["loop"] == 181
    assert HELPERS["ktime_get_tai_ns"] == 208
    assert len(set(HELPERS.values())) == len(HELPERS)


def test_too_much_stack_is_an_error_not_an_exit() -> None:
    # LLVM would call exit(1) over 512 bytes: if the guard failed, this
    # test process would die, which fails loudly too.
    module = BpfModule("stack")
    function = module.add_program("btlst_big", "raw_tp")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    buffer = builder.alloca(ir.ArrayType(I8, 600))
    builder.store(I8(1), builder.gep(buffer, [I32(0), I32(599)]))
    builder.ret(I64(0))
    with pytest.raises(CodegenError, match=r"program 'btlst_big' uses 600 bytes of BPF stack \(limit 512"):
        module.compile()


def test_stack_just_under_the_budget_compiles() -> None:
    module = BpfModule("stack")
    function = module.add_program("btlst_ok", "raw_tp")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    builder.alloca(ir.LiteralStructType([I8, I64]))  # 16 with padding
    builder.alloca(ir.ArrayType(I8, 450))  # 456 once rounded to 8
    builder.ret(I64(0))
    assert stack_estimate(function) == 472
    assert module.compile().startswith(b"\x7fELF")


def test_an_alloca_outside_the_entry_block_is_refused() -> None:
    # LLVM's BPF backend exits on it ("unsupported dynamic stack allocation").
    module = BpfModule("dynamic")
    function = module.add_program("btlst_dyn", "raw_tp")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    later = function.append_basic_block("later")
    builder.branch(later)
    builder.position_at_end(later)
    builder.alloca(I64)
    builder.ret(I64(0))
    with pytest.raises(CodegenError, match="outside its entry block"):
        module.compile()


@pytest.mark.parametrize(
    "args, message",
    [
        (("m", "queue", 4, 4, 1), "unknown BPF map type 'queue'"),
        (("m", "ringbuf", 0, 0, 5000), "power of two"),
        (("m", "ringbuf", 4, 8, 4096), "no key or value"),
        (("m", "array", 8, 8, 4), "4-byte index"),
        (("m", "hash", 0, 8, 4), "must be positive"),
        (("m", "percpu_hash", 8, 8, 0), "must be positive"),
    ],
)
def test_maps_the_kernel_would_refuse_are_errors(args, message) -> None:
    with pytest.raises(CodegenError, match=message):
        BpfModule("maps").add_map(*args)


def test_unknown_helpers_and_late_maps_are_errors() -> None:
    module = small_module()
    builder = ir.IRBuilder(module.add_program("btlst_more", "raw_tp").append_basic_block("entry"))
    with pytest.raises(CodegenError, match="unknown BPF helper 'no_such_helper'"):
        module.call_helper(builder, "no_such_helper", I64, [])
    builder.ret(I64(0))
    module.compile()
    with pytest.raises(CodegenError, match="after the module was compiled"):
        module.add_map("late", "hash", 4, 4, 4)


def test_ir_llvm_rejects_is_an_error() -> None:
    module = BpfModule("broken")
    function = module.add_program("btlst_broken", "raw_tp")
    ir.IRBuilder(function.append_basic_block("entry"))  # no terminator
    with pytest.raises(CodegenError, match="LLVM rejected the generated IR"):
        module.compile()


def test_a_missing_libbpf_is_a_runtime_failure(monkeypatch) -> None:
    monkeypatch.setattr(libbpf, "LIBRARY", "libbpf-missing.so.0")
    monkeypatch.setattr(libbpf, "_library", None)
    with pytest.raises(RuntimeFailure) as caught:
        LoadedProgram(CompiledProgram(b"", ProgramInfo()))
    message = str(caught.value)
    assert message.startswith("cannot use libbpf (libbpf-missing.so.0): ")
    assert "install it" in message and "\n" not in message


def test_the_runtime_runs_without_llvmlite() -> None:
    code = (
        "import sys\n"
        "import compiler.runtime.loader, compiler.runtime.ringbuf, compiler.runtime.mapread\n"
        "print('llvmlite' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_names_the_kernel_would_refuse_are_errors() -> None:
    module = BpfModule("names")
    module.add_map("counts", "hash", 4, 4, 4)
    with pytest.raises(CodegenError, match="not a valid BPF program or map name"):
        module.add_program("probe:1", "raw_tp")
    with pytest.raises(CodegenError, match="defined twice"):
        module.add_program("counts", "raw_tp")


@pytest.mark.parametrize("operation", ["sdiv", "srem"])
def test_signed_division_is_an_error_not_an_exit(operation) -> None:
    # ISA v3 has no signed division; LLVM's BPF backend exits on it.
    module = BpfModule("division")
    function = module.add_program("btlst_div", "raw_tp")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    now = module.call_helper(builder, "ktime_get_ns", I64, [])
    builder.ret(getattr(builder, operation)(now, I64(7)))
    with pytest.raises(CodegenError, match=f"uses {operation}, which BPF"):
        module.compile()
