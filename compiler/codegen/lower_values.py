"""Moving lowered values around: reading one as an i64, writing one into
memory of a (possibly wider) type, and zero values. Mixed into the Lowerer
(lower.py), whose `fn` and `builder` it uses."""

from __future__ import annotations

from llvmlite import ir

from ..runtime import layout
from ..semantic import types as T
from .errors import CodegenError
from .values import I8, I64, Value, byte_ptr, i64, is_scalar, load_scalar, normalise, store_scalar


class ValueMoves:
    @property
    def builder(self) -> ir.IRBuilder:
        return self.fn.builder

    def as_scalar(self, value: Value) -> ir.Value:
        if value.scalar is not None:
            return value.scalar
        if value.ptr is not None and is_scalar(value.type):
            return load_scalar(self.builder, value.ptr, value.type)
        raise CodegenError(f"a value of type {value.type} cannot be used as a number here")

    def to_memory(self, value: Value, t: T.Type | None = None) -> ir.Value:
        """The value in memory laid out as `t` (default: its own type)."""
        t = t or value.type
        if value.in_memory and t == value.type:
            return value.ptr
        ptr = self.fn.temp_for(t)
        self.store_value(value, ptr, t)
        return ptr

    def expr_into(self, node, ptr: ir.Value, t: T.Type) -> None:
        """Lower `node` straight into memory of type `t`: calls that produce
        bytes (comm, str, tuples...) write there instead of into a temporary
        that is then copied."""
        writer = getattr(self, "into_" + type(node).__name__, None)
        if writer is None or not writer(node, ptr, t):
            self.store_value(self.expr(node), ptr, t)

    def store_value(self, value: Value, ptr: ir.Value, t: T.Type) -> None:
        """Write `value` into memory of type `t` (a string may be shorter
        than its slot, a tuple's integers narrower: they are widened)."""
        if is_scalar(t) or isinstance(t, T.Bool):
            scalar = self.as_scalar(value)
            store_scalar(self.builder, normalise(self.builder, scalar, t) if isinstance(t, T.Bool) else scalar, ptr, t)
            return
        if isinstance(t, (T.Tuple, T.Record)) and isinstance(value.type, (T.Tuple, T.Record)):
            self._store_elements(value, ptr, t)
            return
        if isinstance(value.type, T.CRecord) and value.scalar is not None:
            # A struct held by reference: its bytes come from the traced memory.
            size = min(layout.size_of(t), layout.size_of(value.type))
            helper = "probe_read_user" if value.user else "probe_read_kernel"
            self.helper(helper, [ptr, ir.Constant(ir.IntType(32), size), self.builder.inttoptr(value.scalar, ir.PointerType())])
            return
        if not value.in_memory:
            raise CodegenError(f"a value of type {value.type} cannot be stored as {t}")
        size, source_size = layout.size_of(t), layout.size_of(value.type)
        copied = min(size, source_size)
        align = min(layout.align_of(t), layout.align_of(value.type))
        self.fn.copy(ptr, value.ptr, copied, align)
        if copied < size:
            self.fn.zero(byte_ptr(self.builder, ptr, copied), size - copied, _alignment(align, copied))

    def _store_elements(self, value: Value, ptr: ir.Value, t: T.Type) -> None:
        source_types, target_types = layout.elements(value.type), layout.elements(t)
        source_offsets, _ = layout.struct_layout(source_types)
        target_offsets, size = layout.struct_layout(target_types)
        self.fn.zero(ptr, size, layout.align_of(t))  # padding too, so equal keys are equal bytes
        for st, so, tt, to in zip(source_types, source_offsets, target_types, target_offsets):
            element = self.element_at(value, so, st)
            self.store_value(element, byte_ptr(self.builder, ptr, to), tt)

    def element_at(self, value: Value, offset: int, t: T.Type) -> Value:
        """The part of an in-memory value at `offset`, of type `t`."""
        ptr = byte_ptr(self.builder, value.ptr, offset)
        if is_scalar(t) or isinstance(t, T.Bool):
            return Value(t, scalar=load_scalar(self.builder, ptr, t) if not isinstance(t, T.Bool)
                         else self.builder.zext(self.builder.load(ptr, typ=I8), I64))  # fmt: skip
        return Value(t, ptr=ptr)

    def load(self, ptr: ir.Value, t: T.Type) -> Value:
        """A value of type `t` read from memory (scalars into a register)."""
        return self.element_at(Value(t, ptr=ptr), 0, t)

    def zero_value(self, t: T.Type) -> Value:
        if is_scalar(t) or isinstance(t, T.Bool):
            return Value(t, scalar=i64(0))
        ptr = self.fn.temp_for(t)
        self.fn.zero(ptr, layout.size_of(t))
        return Value(t, ptr=ptr)

    def int_value(self, t: T.Type, scalar: ir.Value) -> Value:
        return Value(t, scalar=scalar)

    def truth(self, value: Value) -> ir.Value:
        """An i1: is the value non-zero (ints, bools, pointers)?"""
        return self.builder.icmp_unsigned("!=", self.as_scalar(value), i64(0))


def _alignment(align: int, offset: int) -> int:
    """What `align`-aligned memory is aligned to `offset` bytes further on."""
    while align > 1 and offset % align:
        align //= 2
    return align
