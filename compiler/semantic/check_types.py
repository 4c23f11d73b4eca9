"""Types written in the script: casts, `sizeof`, `offsetof`, `typeinfo`,
and the type names of declarations (`let $x: uint32`, fn parameters). Mixed
into the Checker (checker.py), whose state and helpers it uses.
"""

from __future__ import annotations

from ..syntax import ast
from . import types as T
from .context import Missing


class TypeChecks:
    def e_Cast(self, node: ast.Cast):
        target = self.resolve_type(node.type)
        source = self.expr(node.operand)
        if T.is_unknown(target) or T.is_unknown(source):
            return target
        source = T.as_integer(source)
        if isinstance(target, T.Int) and target.enum and isinstance(source, T.Int):
            self.check_enum_value(target, node)
            return target
        if isinstance(target, (T.Int, T.Bool)) and isinstance(source, (T.Int, T.Bool, T.Pointer)):
            return target
        if isinstance(target, T.Pointer) and isinstance(source, (T.Int, T.Pointer)):
            return target
        if isinstance(target, T.Array) and isinstance(source, (T.Int, T.Array, T.String)):
            if target.length == 0 and target.element.size:
                return T.Array(target.element, source.size // target.element.size)
            if target.size != source.size:
                self.report("cast", f'Cannot cast from "{source}" to "{target}"', node.span)
            return target
        if isinstance(target, T.Int) and isinstance(source, T.Array) and source.size == target.size:
            return target
        if isinstance(target, T.String) and isinstance(source, T.String):
            if target.length and source.length > target.length:
                self.report("cast", f'Cannot cast from "{source}" to "{target}"', node.span)
            return target
        if isinstance(source, T.CRecord):
            self.report("cast", f'Cannot cast from C type "{source}"', node.span)
        else:
            self.report("cast", f'Cannot cast from "{source}" to "{target}"', node.span)
        return target

    def check_enum_value(self, target: T.Int, node: ast.Cast) -> None:
        value = self.constant(node.operand)
        enum = self.facts.enum(target.enum)
        if enum is None or value is None:
            return
        if value not in {v for _, v in enum.values}:
            self.report(
                "cast", f"Enum: {target.enum} doesn't contain a variant value of {value}", node.operand.span
            )

    def e_Sizeof(self, node: ast.Sizeof):
        self.type_or_expr(node.arg)
        return T.UINT64

    def e_Offsetof(self, node: ast.Offsetof):
        base = self.type_or_expr(node.arg)
        if isinstance(base, T.Pointer):
            base = base.target
        current = base
        for name in node.fields:
            if T.is_unknown(current):
                break
            if not isinstance(current, (T.CRecord, T.Record)):
                self.report("offsetof", f"'{current}' is not a C type.", node.arg.span)
                break
            current = self.field_type(current, name.text, _FieldSite(name))
        return T.UINT64

    def e_Typeinfo(self, node: ast.Typeinfo):
        self.type_or_expr(node.arg)
        return T.Record((("btf_id", T.UINT64), ("base_ty", T.String(64)), ("full_ty", T.String(64))))

    def type_or_expr(self, arg) -> T.Type:
        if isinstance(arg, ast.TYPE_NODES):
            return self.resolve_type(arg)
        if isinstance(arg, ast.Identifier) and self.is_type_name(arg.name):
            return self.resolve_type(ast.NamedType(arg.span, arg.name))
        return self.expr(arg)

    def is_type_name(self, name: str) -> bool:
        return not isinstance(self.ctx.named_type(name), Missing) and not T.is_unknown(self.ctx.named_type(name))

    def resolve_type(self, node) -> T.Type:
        """A written type (`uint64`, `struct task *`, `string[16]`)."""
        if isinstance(node, ast.NamedType):
            found = self.ctx.named_type(node.name)
            if isinstance(found, Missing):
                self.report("unknown-type", f'Cannot resolve unknown type "{node.name}"', node.span)
                return T.UNKNOWN
            return found
        if isinstance(node, ast.RecordType):
            if node.kind == "enum":
                enum = self.facts.enum(node.name.text)
                if enum is None and self.facts.has_types and not self.has_includes:
                    self.report("unknown-type", f"Unknown enum: {node.name.text}", node.span)
                    return T.UNKNOWN
                return T.Int((enum.size if enum else 8) * 8, False, enum=node.name.text)
            found = self.ctx.record_exists(node.kind, node.name.text)
            if isinstance(found, Missing):
                self.report("unknown-type", f"Unknown struct/union: '{node.kind} {node.name.text}'", node.span)
                return T.UNKNOWN
            return found
        if isinstance(node, ast.PointerType):
            return T.Pointer(self.resolve_type(node.target))
        if isinstance(node, ast.ArrayType):
            element = self.resolve_type(node.element)
            size = node.size or 0
            if isinstance(element, T.String):
                return T.String(size)
            if isinstance(element, T.Buffer):
                return T.Buffer(size)
            if isinstance(element, T.Inet):
                return T.Inet(size or 20)
            return T.Array(element, size)
        if isinstance(node, ast.TypeofType):
            return self.type_or_expr(node.arg)
        if isinstance(node, ast.Node):
            return self.expr(node)
        return T.UNKNOWN


class _FieldSite:
    """Lets field_type() report at a Name of an offsetof() path."""

    def __init__(self, name: ast.Name) -> None:
        self.field = name
        self.span = name.span
