"""A BPF object under construction: a thin layer over llvmlite.ir that knows
what libbpf and the kernel expect of one.

    module = BpfModule("script")
    counts = module.add_map("counts", "percpu_array", 4, 8, 1)
    fn = module.add_program("btls_p0", "tracepoint/syscalls/sys_enter_getppid")
    builder = ir.IRBuilder(fn.append_basic_block("entry"))
    pid_tgid = module.call_helper(builder, "get_current_pid_tgid", I64, [])
    ...
    elf = module.compile()

Everything here is plain llvmlite.ir except `compile()`, which imports
llvmlite.binding (LLVM itself) when it is first called.

LLVM ends the process (exit or abort, no exception) on what the BPF
backend cannot do: a stack over 512 bytes, an alloca outside the entry
block, signed division, debug info it does not expect. So this module
checks the IR before handing it over (`check_before_llvm`) and builds only
the debug metadata shapes known to work (map_debuginfo.py for the maps,
func_debuginfo.py for the functions and the source locations of their
instructions). Every alloca must be in the function's entry block.
"""

from __future__ import annotations

import re
from typing import Optional

from llvmlite import ir

from .errors import CodegenError
from .func_debuginfo import FunctionDebugInfo
from .map_debuginfo import MapDebugInfo

TRIPLE = "bpfel"
DATALAYOUT = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"
CPU = "v3"  # BPF ISA v3: 32-bit jumps and atomics; every kernel >= 5.1

I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
PTR = ir.PointerType()

# enum bpf_map_type (include/uapi/linux/bpf.h)
MAP_TYPES = {
    "hash": 1,
    "array": 2,
    "perf_event_array": 4,
    "percpu_hash": 5,
    "percpu_array": 6,
    "stack_trace": 7,
    "lru_hash": 9,
    "percpu_lru_hash": 10,  # BPF_MAP_TYPE_LRU_PERCPU_HASH
    "ringbuf": 27,
}

# enum bpf_func_id (include/uapi/linux/bpf.h, __BPF_FUNC_MAPPER)
HELPERS = {
    "map_lookup_elem": 1,
    "map_update_elem": 2,
    "map_delete_elem": 3,
    "probe_read": 4,
    "ktime_get_ns": 5,
    "trace_printk": 6,
    "get_prandom_u32": 7,
    "get_smp_processor_id": 8,
    "get_current_pid_tgid": 14,
    "get_current_uid_gid": 15,
    "get_current_comm": 16,
    "perf_event_read": 22,
    "perf_event_output": 25,
    "get_stackid": 27,
    "get_current_task": 35,
    "probe_write_user": 36,
    "get_numa_node_id": 42,
    "probe_read_str": 45,
    "override_return": 58,
    "get_stack": 67,
    "get_current_cgroup_id": 80,
    "send_signal": 109,
    "probe_read_user": 112,
    "probe_read_kernel": 113,
    "probe_read_user_str": 114,
    "probe_read_kernel_str": 115,
    "send_signal_thread": 117,
    "jiffies64": 118,
    "get_ns_current_pid_tgid": 120,
    "get_current_ancestor_cgroup_id": 123,
    "ktime_get_boot_ns": 125,
    "ringbuf_output": 130,
    "ringbuf_reserve": 131,
    "ringbuf_submit": 132,
    "ringbuf_discard": 133,
    "get_task_stack": 141,
    "d_path": 147,
    "copy_from_user": 148,
    "get_current_task_btf": 158,
    "ktime_get_coarse_ns": 160,
    "for_each_map_elem": 164,
    "snprintf": 165,
    "get_func_ip": 173,
    "get_attach_cookie": 174,
    "loop": 181,
    "strncmp": 182,
    "get_func_arg": 183,
    "get_func_ret": 184,
    "get_func_arg_cnt": 185,
    "map_lookup_percpu_elem": 195,
    "ktime_get_tai_ns": 208,
}

STACK_LIMIT = 512  # bytes of stack a BPF program may use
# The estimate counts allocas only. LLVM adds its own spill slots on top,
# and going over 512 in the end makes it exit the process, so refuse well
# before: 32 bytes is four spilled registers beyond the allocas. (compile()
# also lifts LLVM's own check, so a spill-heavy program that still passes
# the estimate is refused by the verifier, with an error, not an exit.)
STACK_BUDGET = STACK_LIMIT - 32

_RINGBUF_PAGE = 4096
_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class BpfModule:
    """One BPF object: maps, programs, string constants, the license."""

    def __init__(self, name: str, source_name: Optional[str] = None, source: Optional[str] = None) -> None:
        """`source_name` and `source` are the script's file name and text,
        for the line info the verifier quotes (func_debuginfo.py)."""
        self.name = name
        self.ir = ir.Module(name=name)
        self.ir.triple = TRIPLE
        self.ir.data_layout = DATALAYOUT
        self._debug = MapDebugInfo(self.ir, source_name or f"{name}.bt", source)
        self._functions = FunctionDebugInfo(self.ir, self._debug.file)
        self._subprograms: dict[str, ir.DIValue] = {}
        self._strings: dict[bytes, ir.GlobalVariable] = {}
        self._unit = None  # the debug compile unit, once finished
        self._finished = False
        self._add_license("GPL")  # GPL-only helpers (probe_read, ...) need it

    # -- declarations ------------------------------------------------------

    def add_map(
        self, symbol: str, bpf_type: str, key_size: int = 0, value_size: int = 0, max_entries: int = 0,
    ) -> ir.GlobalVariable:  # fmt: skip
        """A BTF-defined map. Sizes are in bytes; a ringbuf has no key or
        value and `max_entries` is its size in bytes."""
        if self._finished:
            raise CodegenError(f"map '{symbol}' added after the module was compiled")
        self._check_symbol(symbol)
        if bpf_type not in MAP_TYPES:
            raise CodegenError(f"map '{symbol}': unknown BPF map type '{bpf_type}'")
        _check_map_shape(symbol, bpf_type, key_size, value_size, max_entries)
        # libbpf takes a missing max_entries as 0 (perf_event_array: one per CPU);
        # a zero-length array in the debug info would crash LLVM.
        numbers = [("type", MAP_TYPES[bpf_type])]
        if max_entries:
            numbers.append(("max_entries", max_entries))
        sizes = [(name, size) for name, size in (("key", key_size), ("value", value_size)) if size]
        layout = ir.LiteralStructType([PTR] * (len(numbers) + len(sizes)))
        variable = ir.GlobalVariable(self.ir, layout, symbol)
        variable.initializer = layout(None)  # zeroinitializer
        variable.section = ".maps"
        variable.align = 8
        variable.set_metadata("dbg", self._debug.map_variable(symbol, numbers, sizes))
        return variable

    def add_program(self, symbol: str, section: str, line: int = 1) -> ir.Function:
        """`i64 symbol(ptr ctx)` in ELF section `section` (libbpf derives the
        program type from it: "tracepoint/cat/event", "raw_tp", "perf_event", ...).
        `line` is its probe's first source line."""
        self._check_symbol(symbol)
        function = ir.Function(self.ir, ir.FunctionType(I64, [PTR]), symbol)
        function.section = section
        # Without nounwind LLVM emits .eh_frame, which libbpf warns about.
        function.attributes.add("nounwind")
        function.args[0].name = "ctx"
        self._subprograms[symbol] = self._functions.describe(function, line)
        return function

    def add_callback(self, symbol: str, parameters: int = 4, line: int = 1) -> ir.Function:
        """A static `i64 symbol(ptr, ...)` to pass to a helper that calls
        back (bpf_for_each_map_elem: map, key, value, context)."""
        self._check_symbol(symbol)
        function = ir.Function(self.ir, ir.FunctionType(I64, [PTR] * parameters), symbol)
        function.linkage = "internal"
        function.attributes.add("nounwind")
        function.attributes.add("noinline")
        self._subprograms[symbol] = self._functions.describe(function, line, static=True)
        return function

    def location(self, function: ir.Function, line: int, column: int) -> ir.DIValue:
        """The `!dbg` for instructions of `function` made from source line
        `line`, byte column `column` (both from 1): an IRBuilder attaches it
        to what it builds while it is the builder's `debug_metadata`."""
        return self._functions.location(self._subprograms[function.name], line, column)

    def string_constant(self, data: bytes) -> ir.GlobalVariable:
        """A private constant byte array in .rodata (libbpf makes .rodata an
        internal read-only map). Give the terminating NUL yourself. The same
        bytes give the same global."""
        if data in self._strings:
            return self._strings[data]
        array = ir.ArrayType(I8, max(1, len(data)))
        variable = ir.GlobalVariable(self.ir, array, f"str.{len(self._strings)}")
        variable.initializer = array(bytearray(data or b"\0"))
        variable.global_constant = True
        variable.linkage = "private"
        # Named explicitly: LLVM would pick .rodata.str1.1 for mergeable strings.
        variable.section = ".rodata"
        variable.align = 8  # so that it can be copied a word at a time
        self._strings[data] = variable
        return variable

    def call_helper(self, builder: ir.IRBuilder, helper: int | str, return_type: ir.Type, args: list[ir.Value]):
        """Calls BPF helper `helper` (its id, or a name of HELPERS):
        `call <ret> inttoptr (i64 <id> to ptr)(args...)`, which LLVM lowers
        to the `call <id>` instruction. At most 5 arguments."""
        if isinstance(helper, str):
            if helper not in HELPERS:
                raise CodegenError(f"unknown BPF helper '{helper}'")
            helper = HELPERS[helper]
        if len(args) > 5:
            raise CodegenError(f"BPF helper {helper} called with {len(args)} arguments (at most 5)")
        function_type = ir.FunctionType(return_type, [arg.type for arg in args])
        return builder.call(_HelperAddress(helper, function_type), args)

    # -- output --------------------------------------------------------------

    def ir_text(self) -> str:
        """The module as LLVM IR text. Completes the debug info, so no map
        can be added afterwards."""
        if not self._finished:
            self._unit = self._debug.finish(producer="btls", needed=self._functions.has_functions)
            self._finished = True
        text = str(self.ir)
        if self._unit is not None and self._functions.has_functions:
            text = self._functions.complete(text, self._unit.get_reference())
        return text

    def check_before_llvm(self) -> None:
        """Raises CodegenError for what LLVM's BPF backend would end the
        process for: allocas that come near the 512-byte stack (see
        STACK_BUDGET) or that it takes as dynamic, and signed division,
        which ISA v3 lacks ("unsupported signed division")."""
        for function in self.ir.functions:
            for block in function.blocks:
                for instruction in block.instructions:
                    if instruction.opname in ("sdiv", "srem"):
                        raise CodegenError(
                            f"internal error: program '{function.name}' uses {instruction.opname}, which BPF"
                            f" (ISA {CPU}) does not have; divide unsigned values"
                        )
            used = stack_estimate(function)
            if used > STACK_BUDGET:
                raise CodegenError(
                    f"program '{function.name}' uses {used} bytes of BPF stack (limit {STACK_LIMIT},"
                    f" and the compiler keeps {STACK_LIMIT - STACK_BUDGET} for LLVM's own use);"
                    " move large values to a map"
                )

    def compile(self, opt_level: int = 2) -> bytes:
        """The ELF object: parse, verify, optimise (new pass manager), emit."""
        self.check_before_llvm()
        text = self.ir_text()
        llvm = _llvm()
        try:
            module = llvm.parse_assembly(text)
            module.verify()
        except RuntimeError as error:
            raise CodegenError(f"LLVM rejected the generated IR: {str(error).strip()}") from None
        machine = _target_machine(opt_level)
        if opt_level > 0:
            tuning = llvm.PipelineTuningOptions(speed_level=opt_level)
            builder = llvm.create_pass_builder(machine, tuning)
            builder.getModulePassManager().run(module, builder)
        return bytes(machine.emit_object(module))

    # -- internals -------------------------------------------------------------

    def _check_symbol(self, symbol: str) -> None:
        # The kernel refuses program and map names with other characters
        # (libbpf passes them on), and two globals cannot share a name.
        if not _SYMBOL.fullmatch(symbol):
            raise CodegenError(f"internal error: '{symbol}' is not a valid BPF program or map name")
        if symbol in self.ir.globals:
            raise CodegenError(f"internal error: '{symbol}' is defined twice in the BPF object")

    def _add_license(self, text: str) -> None:
        data = bytearray(text.encode() + b"\0")
        variable = ir.GlobalVariable(self.ir, ir.ArrayType(I8, len(data)), "_license")
        variable.initializer = ir.ArrayType(I8, len(data))(data)
        variable.section = "license"
        variable.align = 1


class _HelperAddress(ir.FormattedConstant):
    """The constant `inttoptr (i64 ID to ptr)`, callable: llvmlite's call
    instruction takes the callee's function type from `function_type`."""

    def __init__(self, helper_id: int, function_type: ir.FunctionType) -> None:
        super().__init__(PTR, f"inttoptr (i64 {int(helper_id)} to ptr)")
        self.function_type = function_type


def _check_map_shape(symbol: str, bpf_type: str, key_size: int, value_size: int, max_entries: int) -> None:
    """The map sizes the kernel (or LLVM's debug info) would refuse."""
    if bpf_type == "ringbuf":
        if key_size or value_size:
            raise CodegenError(f"map '{symbol}': a ringbuf has no key or value")
        if max_entries < _RINGBUF_PAGE or max_entries & (max_entries - 1):
            raise CodegenError(
                f"map '{symbol}': a ringbuf's size must be a power of two and at least {_RINGBUF_PAGE}"
                f" bytes, not {max_entries}"
            )
        return
    if bpf_type == "perf_event_array":
        if (key_size, value_size) != (4, 4) or max_entries < 0:
            raise CodegenError(f"map '{symbol}': a perf_event_array has 4-byte keys and values")
        return
    if key_size <= 0 or value_size <= 0 or max_entries <= 0:
        raise CodegenError(
            f"map '{symbol}': key size, value size and max entries must be positive"
            f" (got {key_size}, {value_size}, {max_entries})"
        )
    if bpf_type.endswith("array") and key_size != 4:
        raise CodegenError(f"map '{symbol}': an array's key is a 4-byte index, not {key_size} bytes")


def stack_estimate(function: ir.Function) -> int:
    """The bytes of stack `function`'s allocas take, each rounded up to 8
    (the most LLVM gives them, before optimisations merge or drop some).
    Raises CodegenError for an alloca LLVM would take as dynamic (outside
    the entry block, or of variable size): the BPF backend exits the
    process on those ("unsupported dynamic stack allocation")."""
    total = 0
    for position, block in enumerate(function.blocks):
        for instruction in block.instructions:
            if not isinstance(instruction, ir.AllocaInstr):
                continue
            if position != 0:
                raise CodegenError(
                    f"internal error: program '{function.name}' allocates stack outside its entry block"
                )
            count = 1
            if instruction.operands:  # alloca T, i32 N
                size = instruction.operands[0]
                if not isinstance(size, ir.Constant) or not isinstance(size.constant, int):
                    raise CodegenError(f"program '{function.name}': a stack allocation of variable size")
                count = size.constant
            total += _round_up(type_size(instruction.allocated_type) * count, 8)
    return total


def type_size(t: ir.Type) -> int:
    """The allocation size of `t` under the BPF data layout."""
    return _round_up(_raw_size(t), type_align(t))


def type_align(t: ir.Type) -> int:
    if isinstance(t, ir.IntType):
        return min(16, _power_of_two_bytes(t.width))
    if isinstance(t, ir.ArrayType):
        return type_align(t.element)
    if isinstance(t, ir.BaseStructType):
        return 1 if t.packed else max((type_align(e) for e in t.elements), default=1)
    return 8  # pointers, and anything else 64-bit


def _raw_size(t: ir.Type) -> int:
    if isinstance(t, ir.IntType):
        return _power_of_two_bytes(t.width)
    if isinstance(t, ir.PointerType):
        return 8
    if isinstance(t, ir.ArrayType):
        return type_size(t.element) * t.count
    if isinstance(t, ir.BaseStructType):
        offset = 0
        for element in t.elements:
            if not t.packed:
                offset = _round_up(offset, type_align(element))
            offset += type_size(element)
        return offset
    raise CodegenError(f"no BPF stack size known for type {t}")


def _power_of_two_bytes(bits: int) -> int:
    size = 1
    while size * 8 < bits:
        size *= 2
    return size


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


# -- LLVM (llvmlite.binding), loaded on first compile -----------------------

_machines: dict[int, object] = {}
_llvm_ready = False


def _llvm():
    global _llvm_ready
    from llvmlite import binding as llvm

    if not _llvm_ready:
        _llvm_ready = True
        llvm.initialize_all_targets()
        llvm.initialize_all_asmprinters()
        # LLVM's own stack check reports through a diagnostic that exits the
        # process. check_before_llvm() is the real guard; past it, let the kernel's
        # verifier refuse the program with an error we can report. (An option
        # this LLVM does not know is ignored with a message, not an exit.)
        llvm.set_option("btls", "-bpf-stack-size=1048576")
    return llvm


def _target_machine(opt_level: int):
    if opt_level not in _machines:
        target = _llvm().Target.from_triple(TRIPLE)
        _machines[opt_level] = target.create_target_machine(cpu=CPU, opt=opt_level, reloc="static")
    return _machines[opt_level]
