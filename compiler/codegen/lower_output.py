"""Calls that talk to user space (printf, print, exit, time, clear, zero)
and the map functions (delete, has_key, len). Each output call becomes an
event record in the ring buffer; the event table says how to read it."""

from __future__ import annotations

from llvmlite import ir

from ..semantic import types as T
from ..syntax import ast
from . import maps as M
from .errors import CodegenError
from .values import PTR, Value, byte_ptr, i64, timestamp_type


class OutputLowering:
    def send(self, event, values: list[Value]) -> None:
        """Build the event's record (id, then each value) and send it."""
        record = self.fn.temp(event.size)
        self.fn.zero(record, event.size)
        self.builder.store(i64(event.id), record)
        for value, t, offset in zip(values, event.args, event.offsets):
            self.store_value(value, byte_ptr(self.builder, record, offset), t)
        self.unit.emit_record(self.fn, record, event.size)

    def send_nodes(self, event, nodes: list) -> None:
        """Like send(), lowering each argument straight into the record."""
        record = self.fn.temp(event.size)
        self.builder.store(i64(event.id), record)
        for node, t, offset in zip(nodes, event.args, event.offsets):
            self.expr_into(node, byte_ptr(self.builder, record, offset), t)
        self.unit.emit_record(self.fn, record, event.size)

    def format_call(self, kind: str, node, args: list) -> Value:
        fmt = args[0]
        if not isinstance(fmt, ast.StrLit):
            raise CodegenError(f"{kind}()'s format must be a string literal", fmt)
        types = tuple(self.event_type(a) for a in args[1:])
        event = self.unit.events.add(kind, types, format=fmt.value.decode("utf-8", "surrogateescape"))
        self.send_nodes(event, args[1:])
        return Value(T.VOID, scalar=i64(0))

    def event_type(self, node) -> T.Type:
        """The type a value has in an event record: the analyser's, but a
        strftime() value also carries its format."""
        if isinstance(node, ast.Call) and node.name.text == "strftime" and isinstance(node.args[0], ast.StrLit):
            return timestamp_type(node.args[0].value)
        if isinstance(node, ast.Identifier) and self.unit.constant(node.name) is not None:
            return T.INT64  # a header constant the analyser could not type
        return self.type_of(node)

    def b_printf(self, node, args) -> Value:
        return self.format_call("printf", node, args)

    def b_system(self, node, args) -> Value:
        return self.format_call("system", node, args)

    def b_cat(self, node, args) -> Value:
        return self.format_call("cat", node, args)

    def b_errorf(self, node, args) -> Value:
        return self.format_call("errorf", node, args)

    def b_warnf(self, node, args) -> Value:
        return self.format_call("warnf", node, args)

    def b_time(self, node, args) -> Value:
        fmt = args[0].value.decode("utf-8", "surrogateescape") if args else "%H:%M:%S\n"
        self.send(self.unit.events.add("time", format=fmt), [])
        return Value(T.VOID, scalar=i64(0))

    def b_exit(self, node, args) -> Value:
        code = self.expr(args[0]) if args else Value(T.INT64, scalar=i64(0))
        self.send(self.unit.events.add("exit", (T.INT64,)), [code])
        # Nothing after exit() runs in this probe.
        self.fn.return_zero()
        self.builder.position_at_end(self.fn.new_block("after.exit"))
        self.builder.unreachable()
        return Value(T.VOID, scalar=i64(0))

    def b_print(self, node, args) -> Value:
        first = args[0]
        if isinstance(first, ast.MapRef):
            top = _literal(args[1]) if len(args) > 1 else 0
            div = _literal(args[2]) if len(args) > 2 else 0
            self.planned_map(first)
            self.send(self.unit.events.add("print_map", map=first.name, top=top or 0, div=div or 0), [])
        else:
            value = self.expr(first)
            self.send(self.unit.events.add("print", (value.type,)), [value])
        return Value(T.VOID, scalar=i64(0))

    def b_clear(self, node, args) -> Value:
        self.planned_map(args[0])
        self.send(self.unit.events.add("clear", map=args[0].name), [])
        return Value(T.VOID, scalar=i64(0))

    def b_zero(self, node, args) -> Value:
        self.planned_map(args[0])
        self.send(self.unit.events.add("zero", map=args[0].name), [])
        return Value(T.VOID, scalar=i64(0))

    # ------------------------------------------------------ map functions

    def b_delete(self, node, args) -> Value:
        if len(args) == 1 and isinstance(args[0], ast.MapAccess):  # the old delete(@m[k])
            ref, key = args[0].map, self.map_key(self.planned_map(args[0].map), args[0])
        else:
            ref = args[0]
            planned = self.planned_map(ref)
            key = self.key_from(planned, args[1]) if len(args) == 2 else M.scalar_key(self.fn)
        result = M.delete(self.fn, self.planned_map(ref), key)
        return Value(T.BOOL, scalar=self.builder.zext(self.builder.icmp_signed("==", result, i64(0)), ir.IntType(64)))

    def b_has_key(self, node, args) -> Value:
        planned = self.planned_map(args[0])
        found = M.lookup(self.fn, planned, self.key_from(planned, args[1]))
        present = self.builder.icmp_unsigned("!=", found, ir.Constant(PTR, None))
        return Value(T.BOOL, scalar=self.builder.zext(present, ir.IntType(64)))

    def key_from(self, planned, node) -> ir.Value:
        """The key bytes of a key written as an argument (delete, has_key)."""
        ptr = self.fn.temp(planned.info.key_size)
        self.keys_into([node], ptr, planned.info.key, planned.info.key_size)
        return ptr


def _literal(node):
    if isinstance(node, ast.IntLit):
        return node.value
    return None
