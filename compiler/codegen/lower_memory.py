"""Reading the traced program's memory: struct fields through pointers
(`curtask->mm`, or `.` which reads through a pointer since 0.25), array
elements, and `*pointer`. Mixed into the Lowerer.

BPF cannot dereference a kernel pointer directly; every read is a
probe_read_kernel (or probe_read_user for user memory) into memory of our
own. A C struct is kept by reference (its address) until something needs
its bytes, so `a->b.c->d` reads only the pointers on the way and the last
field.
"""

from __future__ import annotations

from llvmlite import ir

from ..runtime import layout
from ..semantic import types as T
from ..syntax import ast
from .errors import CodegenError, Unsupported
from .values import I32, PTR, Value, byte_ptr, i64, is_scalar, load_scalar


class MemoryReads:
    def read_memory(self, address: ir.Value, t: T.Type, user: bool) -> Value:
        """A value of type `t` read from the traced program's memory."""
        if isinstance(t, T.CRecord):
            return Value(t, scalar=address, user=user)
        size = layout.size_of(t)
        if size <= 0:
            raise Unsupported(f"reading a value of type {t} is not supported by the backend yet")
        destination = self.fn.temp(size)
        helper = "probe_read_user" if user else "probe_read_kernel"
        self.helper(helper, [destination, ir.Constant(I32, size), self.builder.inttoptr(address, PTR)])
        return self.load(destination, t)

    def struct_field(self, node: ast.FieldAccess, base: Value) -> Value:
        """`base.field` where base is a C struct (by reference) or a pointer to one."""
        record = base.type.target if isinstance(base.type, T.Pointer) else base.type
        user = base.type.user if isinstance(base.type, T.Pointer) else base.user
        context = self.unit.analysis.context
        located = context.field_location(record, node.field.text) if context is not None else None
        if located is None:
            raise CodegenError(f"the layout of {record} is not known here", node)
        offset, field = located
        t = self.type_of(node)
        address = self.builder.add(self.as_scalar(base), i64(offset))
        if field.bitfield_bits:
            return self.bitfield(address, field, t, user)
        return self.read_memory(address, t, user)

    def bitfield(self, address: ir.Value, field, t: T.Type, user: bool) -> Value:
        # Read the bytes that hold the bits, then shift and mask them out.
        span = (field.bit_offset + field.bitfield_bits + 7) // 8
        size = 1 if span <= 1 else 2 if span <= 2 else 4 if span <= 4 else 8
        raw = self.as_scalar(self.read_memory(address, T.Int(size * 8, False), user))
        shifted = self.builder.lshr(raw, i64(field.bit_offset))
        return Value(t, scalar=self.builder.and_(shifted, i64((1 << field.bitfield_bits) - 1)))

    def x_Index(self, node: ast.Index) -> Value:
        base = self.expr(node.base)
        t = self.type_of(node)
        element = layout.size_of(t)
        index = self.as_scalar(self.expr(node.index))
        if isinstance(base.type, T.Pointer):
            address = self.builder.add(self.as_scalar(base), self.builder.mul(index, i64(element)))
            return self.read_memory(address, t, base.type.user)
        if isinstance(base.type, (T.Array, T.String)) and base.in_memory:
            length = base.type.length
            constant = _constant(node.index)
            if constant is not None:
                if not 0 <= constant < length:
                    raise CodegenError(f"index {constant} is out of bounds for {base.type}", node.index)
                return self.element_at(base, constant * element, t)
            return self.element_checked(base, index, length, element, t)
        raise Unsupported(f"indexing a value of type {base.type} is not supported by the backend yet", node)

    def element_checked(self, base: Value, index: ir.Value, length: int, element: int, t: T.Type) -> Value:
        """base[index] for an index known only at run time: out of bounds
        reads as zero (the verifier insists the bound is checked)."""
        b = self.builder
        result = self.fn.temp(max(8, element))
        self.fn.zero(result, max(8, element))
        inside = b.icmp_unsigned("<", index, i64(length))
        with b.if_then(inside):
            source = b.gep(base.ptr, [b.mul(index, i64(element))], source_etype=ir.IntType(8))
            self.fn.copy(result, source, element, align=layout.align_of(t))
        return self.load(result, t)

    def dereference(self, node: ast.Unary) -> Value:
        pointer = self.expr(node.operand)
        if not isinstance(pointer.type, T.Pointer):
            raise Unsupported(f"dereferencing a value of type {pointer.type} is not supported by the backend yet", node)
        return self.read_memory(self.as_scalar(pointer), self.type_of(node), pointer.type.user)


def _constant(node):
    if isinstance(node, ast.IntLit):
        return node.value
    return None


__all__ = ["MemoryReads", "is_scalar", "load_scalar", "byte_ptr"]
