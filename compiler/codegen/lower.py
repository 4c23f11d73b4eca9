"""Lowering one probe's body to IR: statements here, expressions in
lower_expressions.py, calls in lower_calls.py and its siblings.

`Lowerer(fn).probe(probe)` fills the program `fn` was made for. Every
expression becomes a `Value` (values.py); the analyser's types say how.
A construct the backend cannot yet lower raises CodegenError, which
compile.py turns into a diagnostic at the node being lowered.
"""

from __future__ import annotations

from typing import Optional


from ..semantic import types as T
from ..syntax import ast
from .errors import CodegenError, Unsupported
from .function import FunctionContext, Loop
from .lower_calls import CallLowering
from .lower_expressions import ExpressionLowering
from .lower_loops import LoopLowering
from .lower_memory import MemoryReads
from .lower_values import ValueMoves
from .values import Value, i64


class Lowerer(CallLowering, ExpressionLowering, LoopLowering, MemoryReads, ValueMoves):
    def __init__(self, fn: FunctionContext) -> None:
        self.fn = fn
        self.unit = fn.unit
        self.node: Optional[ast.Node] = None  # the node being lowered, for errors
        self.inlining: list = []  # the fns being inlined, innermost last
        self.returns: list = []  # for each: (result memory, its type, the block after the call)

    def type_of(self, node) -> T.Type:
        if isinstance(node, ast.PositionalParam):
            return self.positional_type(node)
        t = self.unit.type_of(node)
        if T.mentions_unknown(t):
            raise CodegenError("the type of this expression is not known (kernel facts may be missing)", node)
        return t

    # ------------------------------------------------------------- probe

    def probe(self, probe: ast.Probe) -> None:
        self.fn.locate_all(_header(probe))
        if probe.predicate is not None:
            passes = self.truth(self.expr(probe.predicate))
            with self.builder.if_then(self.builder.not_(passes)):
                self.fn.return_zero()
        self.block(probe.body)
        self.fn.finish()

    def block(self, block: ast.Block) -> Optional[Value]:
        for stmt in block.stmts:
            if self.fn.terminated():
                return None  # unreachable code (the analyser warned)
            self.statement(stmt)
        if block.value is not None and not self.fn.terminated():
            return self.expr(block.value)
        return None

    def statement(self, stmt) -> None:
        self.node = stmt
        method = getattr(self, "s_" + type(stmt).__name__, None)
        if method is None:
            raise Unsupported(f"{type(stmt).__name__} statements are not supported by the backend yet", stmt)
        outer = self.fn.locate(stmt)
        method(stmt)
        self.fn.restore(outer)

    # -------------------------------------------------------- statements

    def s_ExprStmt(self, stmt: ast.ExprStmt) -> None:
        self.expr(stmt.expr, statement=True)

    def s_Discard(self, stmt: ast.Discard) -> None:
        self.expr(stmt.value)

    def s_Import(self, stmt) -> None:
        pass

    def s_VarDecl(self, stmt: ast.VarDecl) -> None:
        symbol = self.unit.symbol_of(stmt.var)
        if symbol is None or symbol.type is None:
            return
        slot = self.fn.variable_slot(symbol, symbol.type)
        if stmt.value is not None:
            self.store_value(self.expr(stmt.value), slot, symbol.type)

    def s_Assign(self, stmt: ast.Assign) -> None:
        target = stmt.target
        if isinstance(target, ast.Variable):
            symbol = self.unit.symbol_of(target)
            slot = self.fn.variable_slot(symbol, symbol.type)
            value = self.assigned_value(stmt, lambda: self.load(slot, symbol.type))
            self.store_value(value, slot, symbol.type)
        elif isinstance(target, (ast.MapRef, ast.MapAccess)):
            self.assign_map(stmt, target)
        else:
            raise Unsupported("this assignment target is not supported by the backend yet", target)

    def assigned_value(self, stmt: ast.Assign, current) -> Value:
        """The value an assignment stores: the right side, or for `x op= y`
        the current value combined with it."""
        if stmt.op == "=":
            return self.expr(stmt.value)
        left = current()
        right = self.expr(stmt.value)
        result = self.type_of(stmt.target)
        scalar = self.arithmetic(stmt.op[:-1], left, right, stmt.target, stmt.value)
        return Value(result, scalar=scalar)

    def s_While(self, stmt: ast.While) -> None:
        check, body, after = self.fn.new_block("while.check"), self.fn.new_block("while.body"), self.fn.new_block("while.end")
        self.builder.branch(check)
        self.builder.position_at_end(check)
        self.builder.cbranch(self.truth(self.expr(stmt.cond)), body, after)
        self.builder.position_at_end(body)
        self.loop_body(stmt.body, Loop(check, after))
        if not self.fn.terminated():
            self.builder.branch(check)
        self.builder.position_at_end(after)

    def s_Unroll(self, stmt: ast.Unroll) -> None:
        count = stmt.count.value if isinstance(stmt.count, ast.IntLit) else 0
        after = self.fn.new_block("unroll.end")
        for _ in range(count):
            nxt = self.fn.new_block("unroll.next")
            self.loop_body(stmt.body, Loop(nxt, after))
            if not self.fn.terminated():
                self.builder.branch(nxt)
            self.builder.position_at_end(nxt)
        self.builder.branch(after)
        self.builder.position_at_end(after)

    def s_For(self, stmt: ast.For) -> None:
        if not isinstance(stmt.iterable, ast.Range):
            self.for_over_map(stmt)
            return
        symbol = self.unit.symbol_of(stmt.var)
        slot = self.fn.variable_slot(symbol, symbol.type)
        start = self.as_scalar(self.expr(stmt.iterable.start))
        end = self.as_scalar(self.expr(stmt.iterable.end))
        self.store_value(Value(symbol.type, scalar=start), slot, symbol.type)
        signed = T.as_integer(symbol.type) != T.UINT64 and getattr(symbol.type, "signed", True)
        check, body, step, after = (self.fn.new_block(n) for n in ("for.check", "for.body", "for.step", "for.end"))
        self.builder.branch(check)
        self.builder.position_at_end(check)
        current = self.as_scalar(self.load(slot, symbol.type))
        compare = self.builder.icmp_signed if signed else self.builder.icmp_unsigned
        self.builder.cbranch(compare("<", current, end), body, after)
        self.builder.position_at_end(body)
        self.loop_body(stmt.body, Loop(step, after))
        if not self.fn.terminated():
            self.builder.branch(step)
        self.builder.position_at_end(step)
        current = self.as_scalar(self.load(slot, symbol.type))
        self.store_value(Value(symbol.type, scalar=self.builder.add(current, i64(1))), slot, symbol.type)
        self.builder.branch(check)
        self.builder.position_at_end(after)

    def loop_body(self, body: ast.Block, loop: Loop) -> None:
        self.fn.loops.append(loop)
        try:
            self.block(body)
        finally:
            self.fn.loops.pop()

    def s_Jump(self, stmt: ast.Jump) -> None:
        if stmt.kind == "return" and self.returns:  # from an inlined fn
            result, result_type, done = self.returns[-1]
            if stmt.value is not None:
                value = self.expr(stmt.value)
                if result is not None:
                    self.store_value(value, result, result_type)
            self.builder.branch(done)
        elif stmt.kind == "return":
            if stmt.value is not None:
                self.expr(stmt.value)
            self.fn.return_zero()
        elif stmt.kind == "break":
            self.builder.branch(self.fn.loops[-1].break_block)
        else:
            self.builder.branch(self.fn.loops[-1].continue_block)
        # Anything after a jump in the same block is unreachable; give it a
        # block of its own so that the builder stays usable.
        self.builder.position_at_end(self.fn.new_block("after.jump"))
        self.builder.unreachable()


class _Header:
    """A probe's attach points as a node with a span (its location)."""

    def __init__(self, span) -> None:
        self.span = span


def _header(probe: ast.Probe) -> _Header:
    from ..source import Span

    end = probe.attach_points[-1].span.end if probe.attach_points else probe.span.start
    return _Header(Span(probe.span.start, max(end, probe.span.start)))
