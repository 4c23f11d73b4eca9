"""Expressions to IR: literals, variables, maps, operators, conditionals,
tuples and records, field and element access, casts. Mixed into the
Lowerer (lower.py)."""

from __future__ import annotations

from llvmlite import ir

from ..runtime import layout
from ..semantic import types as T
from ..syntax import ast
from . import maps as M
from .errors import CodegenError, Unsupported
from .values import I8, I64, PTR, Value, byte_ptr, i64, is_scalar, is_signed, normalise

_COMPARE = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class ExpressionLowering:
    def expr(self, node, *, statement: bool = False) -> Value:
        self.node = node
        method = getattr(self, "x_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(f"{type(node).__name__} expressions are not supported by the backend yet", node)
        outer = self.fn.locate(node)
        if type(node).__name__ == "Call":
            value = method(node, statement=statement)
        else:
            value = method(node)
        self.fn.restore(outer)
        return value

    # ---------------------------------------------------------- literals

    def x_IntLit(self, node: ast.IntLit) -> Value:
        return Value(self.type_of(node), scalar=i64(node.value))

    def x_BoolLit(self, node: ast.BoolLit) -> Value:
        return Value(T.BOOL, scalar=i64(int(node.value)))

    def x_StrLit(self, node: ast.StrLit) -> Value:
        return self.string_constant(node.value)

    def string_constant(self, data: bytes) -> Value:
        global_ = self.unit.module.string_constant(data + b"\0")
        return Value(T.String(len(data) + 1), ptr=self.builder.bitcast(global_, PTR))

    def positional_text(self, node: ast.PositionalParam) -> str:
        given = self.unit.options.positional
        return given[node.index - 1] if node.index <= len(given) else ""

    def positional_type(self, node: ast.PositionalParam) -> T.Type:
        """$N is known only now: a number is an integer, anything else a
        string (a missing one is 0 where a number is wanted, as in bpftrace)."""
        text = self.positional_text(node)
        if _is_number(text) or not text:
            return T.INT64
        return T.String(len(text.encode()) + 1)

    def x_PositionalParam(self, node: ast.PositionalParam) -> Value:
        text, t = self.positional_text(node), self.positional_type(node)
        if isinstance(t, T.String):
            return self.string_constant(text.encode())
        return Value(T.INT64, scalar=i64(int(text, 0) if text else 0))

    def x_ParamCount(self, node) -> Value:
        return Value(T.INT64, scalar=i64(len(self.unit.options.positional)))

    def x_Comptime(self, node: ast.Comptime) -> Value:
        return self.expr(node.expr)

    def x_Block(self, node: ast.Block) -> Value:
        value = self.block(node)
        return value if value is not None else Value(T.VOID, scalar=i64(0))

    # --------------------------------------------------- variables, maps

    def x_Variable(self, node: ast.Variable) -> Value:
        symbol = self.unit.symbol_of(node)
        if symbol is None or symbol.type is None:
            raise CodegenError(f"{node.name} has no value here", node)
        slot = self.fn.variable_slot(symbol, symbol.type)
        return self.load(slot, symbol.type)

    def x_MapRef(self, node: ast.MapRef) -> Value:
        return self.read_map(node, None)

    def x_MapAccess(self, node: ast.MapAccess) -> Value:
        return self.read_map(node.map, node)

    def planned_map(self, ref: ast.MapRef):
        planned = self.unit.maps.get(ref.name)
        if planned is None:
            raise Unsupported(f"the type of {ref.name} is not known here (it may come from kernel types"
                              " this machine does not describe)", ref)  # fmt: skip
        return planned

    def map_key(self, planned, access) -> ir.Value:
        """The key bytes of `@m[...]` (a u64 zero for a map without keys)."""
        info = planned.info
        if access is None or info.scalar:
            return M.scalar_key(self.fn) if not info.aggregation or info.aggregation.kind not in ("hist", "lhist") else None
        ptr = self.fn.temp(info.key_size)
        self.keys_into(access.keys, ptr, info.key, info.key_size)
        return ptr

    def fills(self, node, t: T.Type) -> bool:
        """Does writing `node` as a `t` set every byte (so there is nothing
        to zero first)? Scalars do, and comm fills all 16 of its bytes."""
        if is_scalar(t) or isinstance(t, T.Bool):
            return True
        is_comm = (isinstance(node, ast.Identifier) and node.name == "comm") or (
            isinstance(node, ast.Call) and node.name.text == "comm" and not node.args
        )
        return is_comm and isinstance(t, T.String) and t.length == 16

    def keys_into(self, keys: list, ptr: ir.Value, t: T.Type, size: int) -> None:
        """A map key from `@m[k1, k2...]`: zeroed first, because padding and
        the bytes after a string's NUL are part of the key."""
        if len(keys) == 1:
            if not self.fills(keys[0], t):
                self.fn.zero(ptr, size)
            self.expr_into(keys[0], ptr, t)
            return
        self.fn.zero(ptr, size)
        offsets, _ = layout.struct_layout(layout.elements(t))
        for key, offset, element in zip(keys, offsets, layout.elements(t)):
            self.expr_into(key, byte_ptr(self.builder, ptr, offset), element)

    def read_map(self, ref: ast.MapRef, access) -> Value:
        planned = self.planned_map(ref)
        info = planned.info
        if info.aggregation is not None:
            return self.read_aggregation(planned, access)
        key = self.map_key(planned, access)
        found = M.lookup(self.fn, planned, key)
        result = self.fn.temp_for(info.value)
        self.fn.zero(result, layout.size_of(info.value))
        with self.builder.if_then(self.builder.icmp_unsigned("!=", found, ir.Constant(PTR, None))):
            self.fn.copy(result, found, layout.size_of(info.value))
        return self.load(result, info.value)

    def assign_map(self, stmt: ast.Assign, target) -> None:
        ref = target.map if isinstance(target, ast.MapAccess) else target
        access = target if isinstance(target, ast.MapAccess) else None
        planned = self.planned_map(ref)
        if isinstance(stmt.value, ast.Call) and planned.info.aggregation is not None:
            self.aggregate(planned, access, stmt.value)
            return
        info = planned.info
        stored = self.fn.temp(info.value_size)
        if stmt.op == "=":
            self.expr_into(stmt.value, stored, info.value)
        else:
            self.store_value(self.assigned_value(stmt, lambda: self.read_map(ref, access)), stored, info.value)
        key = self.map_key(planned, access)
        M.update(self.fn, planned, key, stored)

    # --------------------------------------------------------- operators

    def x_Binary(self, node: ast.Binary) -> Value:
        if node.op in ("&&", "||"):
            return self.logical(node)
        left, right = self.expr(node.left), self.expr(node.right)
        result = self.type_of(node)
        if node.op in _COMPARE and not (is_scalar(left.type) and is_scalar(right.type)):
            return Value(T.BOOL, scalar=self.compare_memory(node.op, left, right))
        return Value(result, scalar=self.arithmetic(node.op, left, right, node.left, node.right))

    def arithmetic(self, op: str, left: Value, right: Value, left_node, right_node) -> ir.Value:
        b = self.builder
        a, c = self.as_scalar(left), self.as_scalar(right)
        signed = _signed_operation(self.unit.type_of(left_node), self.unit.type_of(right_node))
        if op in _COMPARE:
            compare = b.icmp_signed if signed else b.icmp_unsigned
            return b.zext(compare(_COMPARE[op], a, c), I64)
        if op in ("/", "%"):
            # BPF (cpu v3) has no signed division; bpftrace divides unsigned too.
            # Dividing by zero gives 0 (and x % 0 is x), as BPF does; for LLVM
            # it is undefined, and it would conclude that the divisor, and
            # the map lookup it came from, cannot be zero, dropping a null check.
            zero = b.icmp_unsigned("==", c, i64(0))
            safe = b.select(zero, i64(1), c)
            if op == "/":
                return b.select(zero, i64(0), b.udiv(a, safe))
            return b.select(zero, a, b.urem(a, safe))
        simple = {"+": b.add, "-": b.sub, "*": b.mul, "&": b.and_, "|": b.or_, "^": b.xor, "<<": b.shl}
        if op in simple:
            return simple[op](a, c)
        if op == ">>":
            return b.ashr(a, c) if signed else b.lshr(a, c)
        raise Unsupported(f"operator {op} is not supported by the backend yet")

    def logical(self, node: ast.Binary) -> Value:
        b = self.builder
        left = self.truth(self.expr(node.left))
        start = b.block
        right_block, done = self.fn.new_block("logic.right"), self.fn.new_block("logic.end")
        if node.op == "&&":
            b.cbranch(left, right_block, done)
        else:
            b.cbranch(left, done, right_block)
        b.position_at_end(right_block)
        right = self.truth(self.expr(node.right))
        right_end = b.block
        b.branch(done)
        b.position_at_end(done)
        phi = b.phi(ir.IntType(1))
        phi.add_incoming(ir.Constant(ir.IntType(1), int(node.op == "||")), start)
        phi.add_incoming(right, right_end)
        return Value(T.BOOL, scalar=b.zext(phi, I64))

    def compare_memory(self, op: str, left: Value, right: Value) -> ir.Value:
        """== and != (and orderings) of strings: strcmp semantics over the
        shorter buffer, bytes after the end counting as NUL."""
        if op not in ("==", "!="):
            raise Unsupported(f"operator {op} on {left.type} is not supported by the backend yet")
        b = self.builder
        n = min(layout.size_of(left.type), layout.size_of(right.type))
        equal = self.fn.temp(8)
        b.store(i64(1), equal)
        done = self.fn.new_block("strcmp.end")
        for index in range(n):
            x = b.load(byte_ptr(b, left.ptr, index), typ=I8)
            y = b.load(byte_ptr(b, right.ptr, index), typ=I8)
            differ, same = self.fn.new_block("strcmp.differ"), self.fn.new_block("strcmp.same")
            b.cbranch(b.icmp_unsigned("!=", x, y), differ, same)
            b.position_at_end(differ)
            b.store(i64(0), equal)
            b.branch(done)
            b.position_at_end(same)
            end = self.fn.new_block("strcmp.next")
            b.cbranch(b.icmp_unsigned("==", x, ir.Constant(I8, 0)), done, end)
            b.position_at_end(end)
        b.branch(done)
        b.position_at_end(done)
        result = b.load(equal, typ=I64)
        return result if op == "==" else b.xor(result, i64(1))

    def x_Unary(self, node: ast.Unary) -> Value:
        b = self.builder
        if node.op == "*":
            return self.dereference(node)
        operand = self.as_scalar(self.expr(node.operand))
        if node.op == "!":
            return Value(T.BOOL, scalar=b.zext(b.icmp_unsigned("==", operand, i64(0)), I64))
        if node.op == "~":
            return Value(self.type_of(node), scalar=b.xor(operand, i64(-1)))
        if node.op == "-":
            return Value(self.type_of(node), scalar=b.neg(operand))
        raise Unsupported(f"unary {node.op} is not supported by the backend yet", node)

    def x_IncDec(self, node: ast.IncDec) -> Value:
        target = node.operand
        t = self.type_of(target)
        delta = i64(1 if node.op == "++" else -1)
        if isinstance(target, ast.Variable):
            symbol = self.unit.symbol_of(target)
            slot = self.fn.variable_slot(symbol, symbol.type)
            old = self.as_scalar(self.load(slot, symbol.type))
            new = self.builder.add(old, delta)
            self.store_value(Value(symbol.type, scalar=new), slot, symbol.type)
        elif isinstance(target, (ast.MapRef, ast.MapAccess)):
            ref = target.map if isinstance(target, ast.MapAccess) else target
            access = target if isinstance(target, ast.MapAccess) else None
            planned = self.planned_map(ref)
            old = self.as_scalar(self.read_map(ref, access))
            new = self.builder.add(old, delta)
            key = self.map_key(planned, access)
            M.update(self.fn, planned, key, self.to_memory(Value(planned.info.value, scalar=new), planned.info.value))
        else:
            raise CodegenError("++ and -- need a variable or a map", target)
        return Value(t, scalar=new if node.prefix else old)

    # ------------------------------------------------------ conditionals

    def x_Ternary(self, node: ast.Ternary) -> Value:
        t = self.type_of(node)
        cond = self.expr(node.cond)
        if node.then is None:  # `a ?: b`
            return self.choose(t, self.truth(cond), lambda: cond, lambda: self.expr(node.orelse))
        return self.choose(t, self.truth(cond), lambda: self.expr(node.then), lambda: self.expr(node.orelse))

    def x_If(self, node: ast.If) -> Value:
        t = self.unit.type_of(node)
        cond = self.truth(self.expr(node.cond))
        otherwise = (lambda: self.expr(node.orelse)) if node.orelse is not None else (lambda: None)
        if isinstance(t, (T.Void, T.Unknown)):
            self.choose(T.VOID, cond, lambda: self.block(node.then), otherwise)
            return Value(T.VOID, scalar=i64(0))
        return self.choose(t, cond, lambda: self.block(node.then), otherwise)

    def choose(self, t: T.Type, cond: ir.Value, then, orelse) -> Value:
        """`cond ? then() : orelse()`, each branch lowered in its own block;
        the result goes through memory so both branches can write it."""
        b = self.builder
        result = None if isinstance(t, T.Void) else self.fn.temp_for(t)
        then_block, else_block, done = (self.fn.new_block(n) for n in ("if.then", "if.else", "if.end"))
        b.cbranch(cond, then_block, else_block)
        for block, branch in ((then_block, then), (else_block, orelse)):
            b.position_at_end(block)
            value = branch()
            if not self.fn.terminated():
                if result is not None and value is not None:
                    self.store_value(value, result, t)
                b.branch(done)
        b.position_at_end(done)
        return self.load(result, t) if result is not None else Value(T.VOID, scalar=i64(0))

    # ------------------------------------------------- tuples and records

    def x_Tuple(self, node: ast.Tuple) -> Value:
        return self.tuple_of([self.expr(e) for e in node.elements], self.type_of(node))

    def tuple_of(self, values: list[Value], t: T.Type | None = None) -> Value:
        t = t or T.Tuple(tuple(v.type for v in values))
        offsets, size = layout.struct_layout(layout.elements(t))
        ptr = self.fn.temp(size)
        self.fn.zero(ptr, size)
        for value, offset, element in zip(values, offsets, layout.elements(t)):
            self.store_value(value, byte_ptr(self.builder, ptr, offset), element)
        return Value(t, ptr=ptr)

    def into_Tuple(self, node: ast.Tuple, ptr: ir.Value, t: T.Type) -> bool:
        types = layout.elements(t)
        if not isinstance(t, T.Tuple) or len(types) != len(node.elements):
            return False
        offsets, size = layout.struct_layout(types)
        self.fn.zero(ptr, size, layout.align_of(t))
        for element, offset, element_type in zip(node.elements, offsets, types):
            self.expr_into(element, byte_ptr(self.builder, ptr, offset), element_type)
        return True

    def x_Record(self, node: ast.Record) -> Value:
        return self.tuple_of([self.expr(f.value) for f in node.fields], self.type_of(node))

    def x_TupleAccess(self, node: ast.TupleAccess) -> Value:
        base = self.expr(node.base)
        types = layout.elements(base.type)
        offsets, _ = layout.struct_layout(types)
        return self.element_at(base, offsets[node.index], types[node.index])

    def x_FieldAccess(self, node: ast.FieldAccess) -> Value:
        if isinstance(node.base, ast.Identifier) and node.base.name == "args":
            return self.tracepoint_field(node)
        base = self.expr(node.base)
        if isinstance(base.type, T.Record):
            names = [n for n, _ in base.type.fields]
            offsets, _ = layout.struct_layout(layout.elements(base.type))
            index = names.index(node.field.text)
            return self.element_at(base, offsets[index], base.type.fields[index][1])
        if isinstance(base.type, T.CRecord) or (
            isinstance(base.type, T.Pointer) and isinstance(base.type.target, T.CRecord)
        ):
            return self.struct_field(node, base)
        raise Unsupported(f"fields of {base.type} are not supported by the backend yet", node)

    def tracepoint_field(self, node: ast.FieldAccess) -> Value:
        if self.fn.target.kind == "rawtracepoint":
            raise Unsupported("args in raw tracepoints is not supported by the backend yet", node)
        tracepoint = self.fn.target.tracepoint
        fields = tracepoint.fields if tracepoint is not None else ()
        field = next((f for f in fields if f.name == node.field.text), None)
        if field is None:
            raise CodegenError(f"args.{node.field.text} is not in this tracepoint's format", node)
        t = self.type_of(node)
        ptr = byte_ptr(self.builder, self.fn.ctx, field.offset)
        if "__data_loc" in getattr(field.type, "name", ""):
            # (length << 16 | offset) of data that follows the record.
            loc = self.builder.zext(self.builder.load(ptr, typ=ir.IntType(32)), I64)
            address = self.builder.add(self.builder.ptrtoint(self.fn.ctx, I64), self.builder.and_(loc, i64(0xFFFF)))
            return Value(t, scalar=address)
        if is_scalar(t) or isinstance(t, T.Bool):
            return self.load(ptr, t)
        copy = self.fn.temp_for(t)
        self.fn.copy(copy, ptr, layout.size_of(t), align=field.offset & -field.offset if field.offset else 8)
        return Value(t, ptr=copy)

    # ------------------------------------------------------------- casts

    def x_Cast(self, node: ast.Cast) -> Value:
        t = self.type_of(node)
        value = self.expr(node.operand)
        if isinstance(t, (T.Int, T.Bool)):
            return Value(t, scalar=normalise(self.builder, self.as_scalar(value), t))
        if isinstance(t, T.Pointer):
            return Value(t, scalar=self.as_scalar(value))
        if isinstance(t, T.Array) and is_scalar(value.type):
            ptr = self.fn.temp_for(t)
            self.store_value(Value(T.Int(layout.size_of(t) * 8, False), scalar=self.as_scalar(value)), ptr,
                             T.Int(layout.size_of(t) * 8, False))  # fmt: skip
            return Value(t, ptr=ptr)
        raise Unsupported(f"a cast to {t} is not supported by the backend yet", node)

    def x_Sizeof(self, node: ast.Sizeof) -> Value:
        t = self.unit.type_of(node.arg) if not isinstance(node.arg, ast.TYPE_NODES) else None
        size = layout.size_of(t) if t is not None and not T.mentions_unknown(t) else None
        if size is None:
            raise Unsupported("sizeof of this type is not supported by the backend yet", node)
        return Value(T.UINT64, scalar=i64(size))



def _signed_operation(left: T.Type, right: T.Type) -> bool:
    """bpftrace's rule: a sign-flexible literal takes the other side's sign;
    the operation is signed when either side then is."""
    left, right = T.as_integer(left), T.as_integer(right)
    lsigned, rsigned = is_signed(left), is_signed(right)
    lflex = isinstance(left, T.Int) and left.flexible
    rflex = isinstance(right, T.Int) and right.flexible
    if lflex and not rflex:
        lsigned = rsigned
    elif rflex and not lflex:
        rsigned = lsigned
    return lsigned or rsigned


def _is_number(text: str) -> bool:
    try:
        int(text, 0)
    except ValueError:
        return False
    return True
