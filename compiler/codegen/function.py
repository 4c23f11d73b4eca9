"""One BPF program being lowered: its builder, its memory for temporaries,
its variables, and the loops it is inside.

Memory for temporaries (strings, keys, event records...) comes from the
512-byte BPF stack while a small budget lasts, then from the probe's slice
of a per-CPU scratch map, so that no program ever approaches the stack
limit (LLVM kills the process when a program exceeds it). The scratch
lookup is emitted in the entry block only for programs that need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from llvmlite import ir

from ..runtime import layout
from ..semantic import types as T
from .values import I32, I64, I8, PTR, byte_ptr, i64

if TYPE_CHECKING:
    from .unit import Unit

# Bytes of temporaries a program may keep on the stack; the rest of the 512
# bytes is LLVM's, for spills and helper-call arguments.
STACK_BUDGET = 256
# A temporary larger than this always goes to the scratch map.
LARGEST_STACK_TEMP = 128


@dataclass
class Loop:
    continue_block: ir.Block
    break_block: ir.Block


@dataclass
class ProbeTarget:
    """What the body of this program may ask about its attach point."""

    kind: str  # the canonical provider: "begin", "tracepoint", ...
    name: str  # the attach point as the `probe` builtin gives it
    tracepoint: Optional[object] = None  # kernel.ctypes.Tracepoint, for `args`
    user_pointers: bool = False  # pointer arguments point into user memory


@dataclass
class FunctionContext:
    unit: "Unit"
    function: ir.Function
    index: int  # the program's number: its slice of the scratch map
    target: ProbeTarget
    builder: ir.IRBuilder = field(init=False)
    entry_builder: ir.IRBuilder = field(init=False)  # allocas and the scratch lookup
    init_builder: ir.IRBuilder = field(init=False)  # zeroes variables, once the scratch is known
    body: ir.Block = field(init=False)
    stack_used: int = 0
    stack_budget: int = STACK_BUDGET
    scratch_used: int = 0
    variables: dict = field(default_factory=dict)  # VariableSymbol -> pointer to its memory
    loops: list[Loop] = field(default_factory=list)
    _scratch: Optional[ir.Value] = None
    _init: Optional[ir.Block] = None

    def __post_init__(self) -> None:
        entry = self.function.append_basic_block("entry")
        self._init = self.function.append_basic_block("init")
        self.body = self.function.append_basic_block("body")
        self.entry_builder = ir.IRBuilder(entry)
        self.init_builder = ir.IRBuilder(self._init)
        self.builder = ir.IRBuilder(self.body)

    @property
    def ctx(self) -> ir.Value:
        return self.function.args[0]

    # --------------------------------------------------------- locations

    def locate(self, node) -> Optional[ir.DIValue]:
        """Makes what the body builder builds next come from `node` (its
        source location, for the verifier; func_debuginfo.py); returns the
        location it had, to give back with `restore`."""
        previous = self.builder.debug_metadata
        location = self.unit.location(self.function, node)
        if location is not None:
            self.builder.debug_metadata = location
        return previous

    def restore(self, location: Optional[ir.DIValue]) -> None:
        self.builder.debug_metadata = location

    def locate_all(self, node) -> None:
        """Everything this function's builders make is from `node` until
        something more precise says otherwise: the probe, or a loop for the
        callback that holds its body. (The entry block's setup and the
        variables' zeroing belong to no statement.)"""
        location = self.unit.location(self.function, node)
        for builder in (self.entry_builder, self.init_builder, self.builder):
            builder.debug_metadata = location

    # ----------------------------------------------------------- memory

    def temp(self, size: int, align: int = 8) -> ir.Value:
        """Fresh memory for `size` bytes, zeroed by nobody: callers write it."""
        size = max(1, size)
        rounded = (size + 7) // 8 * 8
        if size <= LARGEST_STACK_TEMP and self.stack_used + rounded <= self.stack_budget:
            self.stack_used += rounded
            return self._alloca(rounded)
        offset = self.scratch_used
        self.scratch_used += rounded
        return byte_ptr(self.builder, self.scratch(), offset)

    def _alloca(self, size: int) -> ir.Value:
        slot = self.entry_builder.alloca(ir.ArrayType(I8, size))
        slot.align = 8
        slot.type = PTR  # an opaque pointer: memory of any layout
        return slot

    def temp_for(self, t: T.Type) -> ir.Value:
        return self.temp(layout.size_of(t), layout.align_of(t))

    def scratch(self) -> ir.Value:
        """This program's slice of the per-CPU scratch map (looked up once,
        in the entry block)."""
        if self._scratch is None:
            key = self._alloca(8)
            self.entry_builder.store(ir.Constant(I32, self.index), key)
            lookup = self.unit.module.call_helper(
                self.entry_builder, "map_lookup_elem", PTR, [self.unit.scratch_map, key]
            )
            self._scratch = lookup
        return self._scratch

    def zero(self, ptr: ir.Value, size: int, align: int = 8) -> None:
        self.unit.memset(self.builder, ptr, 0, size, align)

    def copy(self, dst: ir.Value, src: ir.Value, size: int, align: int = 8) -> None:
        self.unit.memcpy(self.builder, dst, src, size, align)

    # --------------------------------------------------------- control

    def new_block(self, name: str) -> ir.Block:
        return self.function.append_basic_block(name)

    def terminated(self) -> bool:
        return self.builder.block.is_terminated

    def return_zero(self) -> None:
        self.builder.ret(i64(0))

    def finish(self) -> None:
        """Close the body and wire the entry block to it."""
        if not self.terminated():
            self.return_zero()
        self.init_builder.branch(self.body)
        if self._scratch is None:
            self.entry_builder.branch(self._init)
            return
        bail = self.function.append_basic_block("no_scratch")
        ir.IRBuilder(bail).ret(i64(0))
        is_null = self.entry_builder.icmp_unsigned("==", self._scratch, ir.Constant(PTR, None))
        self.entry_builder.cbranch(is_null, bail, self._init)

    # -------------------------------------------------------- variables

    def variable_slot(self, symbol, t: T.Type) -> ir.Value:
        """The memory of a scratch variable, made on first use and zeroed at
        the start of the program (bpftrace's variables start as zero)."""
        slot = self.variables.get(symbol)
        if slot is None:
            size = max(8, layout.size_of(t))
            slot = self._variable_memory(size)
            self.variables[symbol] = slot
        return slot

    def _variable_memory(self, size: int) -> ir.Value:
        rounded = (size + 7) // 8 * 8
        if size <= LARGEST_STACK_TEMP and self.stack_used + rounded <= self.stack_budget:
            self.stack_used += rounded
            slot = self._alloca(rounded)
        else:
            offset = self.scratch_used
            self.scratch_used += rounded
            slot = byte_ptr(self.init_builder, self.scratch(), offset)
        self.unit.memset(self.init_builder, slot, 0, rounded)
        return slot


__all__ = ["FunctionContext", "Loop", "ProbeTarget", "I64", "i64"]
