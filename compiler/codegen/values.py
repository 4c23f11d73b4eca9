"""Values while lowering: how a bpftrace value is held in IR.

An integer, bool, pointer or 8-byte special (ksym, timestamp...) is a
*scalar*: an i64 in a register, sign- or zero-extended from its type's width.
Everything else (strings, tuples, records, arrays, buffers, addresses,
usym) lives in *memory*: a pointer to `layout.size_of(type)` bytes laid out
as compiler.runtime.layout says. A scalar goes to memory (truncated to its
width) when it becomes part of a key, a value or an event record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from llvmlite import ir

from ..runtime import layout
from ..semantic import types as T

I8, I16, I32, I64 = ir.IntType(8), ir.IntType(16), ir.IntType(32), ir.IntType(64)
PTR = ir.PointerType()


def i64(value: int) -> ir.Constant:
    return ir.Constant(I64, value & 0xFFFFFFFFFFFFFFFF)


def int_type(size: int) -> ir.IntType:
    return ir.IntType(size * 8)


def is_scalar(t: T.Type) -> bool:
    """Held in a register: integers, bools, pointers, 8-byte specials and
    readable aggregations (read as their integer)."""
    if isinstance(t, (T.Int, T.Bool, T.Pointer)):
        return True
    if isinstance(t, T.Special):
        return layout.size_of(t) == 8
    return isinstance(t, T.Aggregation) and t.readable


def is_signed(t: T.Type) -> bool:
    if isinstance(t, T.Int):
        return t.signed
    if isinstance(t, T.Aggregation):
        return T.as_integer(t) == T.INT64
    return False


@dataclass
class Value:
    """A lowered value: `scalar` (an i64) or `ptr` (its memory), never both
    required; `type` says which."""

    type: T.Type
    scalar: Optional[ir.Value] = None
    ptr: Optional[ir.Value] = None
    # A C struct is handled by reference: `scalar` holds its address, in
    # user memory when `user` (see lower_memory.py).
    user: bool = False

    @property
    def in_memory(self) -> bool:
        return self.ptr is not None and self.scalar is None


def load_scalar(builder: ir.IRBuilder, ptr: ir.Value, t: T.Type) -> ir.Value:
    """Read a scalar of type `t` from memory as an i64."""
    size = layout.size_of(t) if not isinstance(t, T.Aggregation) else 8
    raw = builder.load(ptr, typ=int_type(size), align=size)
    if size == 8:
        return raw
    return builder.sext(raw, I64) if is_signed(t) else builder.zext(raw, I64)


def store_scalar(builder: ir.IRBuilder, value: ir.Value, ptr: ir.Value, t: T.Type) -> None:
    """Write an i64 to memory as a value of type `t` (truncating)."""
    size = layout.size_of(t) if not isinstance(t, T.Aggregation) else 8
    if size == 8:
        builder.store(value, ptr, align=8)
    else:
        builder.store(builder.trunc(value, int_type(size)), ptr, align=size)


def normalise(builder: ir.IRBuilder, value: ir.Value, t: T.Type) -> ir.Value:
    """An i64 brought into the range of `t` (a cast to uint8 keeps the low
    byte, a cast to int8 also sign-extends it)."""
    if isinstance(t, T.Bool):
        return builder.zext(builder.icmp_unsigned("!=", value, i64(0)), I64)
    if not isinstance(t, T.Int) or t.bits == 64:
        return value
    narrow = builder.trunc(value, ir.IntType(t.bits))
    return builder.sext(narrow, I64) if t.signed else builder.zext(narrow, I64)


def byte_ptr(builder: ir.IRBuilder, base: ir.Value, offset: int) -> ir.Value:
    if offset == 0:
        return base
    return builder.gep(base, [i64(offset)], source_etype=I8)


def opaque(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    """`value`, hidden from LLVM's reasoning (an empty inline asm, as
    libbpf's barrier_var). Bounds checked after this are checked on the
    register that is used, where the verifier can see them; otherwise LLVM
    may test one copy of a value and pass another that it reloaded."""
    barrier = ir.InlineAsm(ir.FunctionType(I64, [I64]), "", "=r,0", side_effect=True)
    return builder.call(barrier, [value])


def timestamp_type(fmt: bytes) -> T.Special:
    """A strftime() value: the format travels in the type's name, which the
    runtime's printer reads (output/resolver.py strftime_format)."""
    return T.Special("timestamp:" + fmt.decode("utf-8", "surrogateescape"), 8)
