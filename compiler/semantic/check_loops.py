"""Loops and jumps: while, unroll, for over ranges and maps, break,
continue and return (a part of the Checker, checker.py)."""

from __future__ import annotations

from typing import Optional

from ..diagnostics import Related
from ..syntax import ast
from . import types as T
from .scopes import Scope


class LoopChecks:
    def stmt_While(self, stmt: ast.While) -> None:
        self.check_condition(stmt.cond)
        self.loop_body(stmt.body)

    def stmt_Unroll(self, stmt: ast.Unroll) -> None:
        count = self.expr(stmt.count)
        value = self.constant(stmt.count)
        if value is None:
            if not T.is_unknown(count):
                self.report("unroll", "unroll() count must be an integer literal", stmt.count.span)
        elif value < 1:
            self.report("unroll", "unroll minimum value is 1", stmt.count.span)
        elif value > 100:
            self.report("unroll", "unroll maximum value is 100", stmt.count.span)
        self.unrolled += 1
        try:
            self.loop_body(stmt.body)
        finally:
            self.unrolled -= 1

    def stmt_For(self, stmt: ast.For) -> None:
        if isinstance(stmt.iterable, ast.Range):
            element = self.range_type(stmt.iterable)
        else:
            element = self.map_iteration_type(stmt.iterable)
        existing = self.scope.lookup(stmt.var.name) if self.scope else None
        if existing is not None:
            self.report(
                "shadowing", f"Loop declaration shadows existing variable: {stmt.var.name}", stmt.var.span,
                related=[Related(existing.origin, "the variable is declared here")] if existing.origin else (),
            )  # fmt: skip
        outer = self.scope
        self.scope = Scope(stmt, outer)
        symbol = self.symbols.variable(stmt, stmt.var.name)
        symbol.assigned, symbol.origin, symbol.loop = True, stmt.var.span, True
        self.symbols.widen(symbol, element)
        self.add_name(symbol, stmt.var.span, use=False)
        self.scope.variables[stmt.var.name] = symbol
        self.references[stmt.var] = symbol
        self.record(stmt.var, element)
        over_map = not isinstance(stmt.iterable, ast.Range)
        self.map_loops += over_map
        try:
            self.loop_body(stmt.body)
        finally:
            self.scope = outer
            self.map_loops -= over_map

    def loop_body(self, body: ast.Block) -> None:
        self.loops += 1
        try:
            self.walk_block(body)
        finally:
            self.loops -= 1

    def stmt_Jump(self, stmt: ast.Jump) -> None:
        if stmt.kind in ("break", "continue"):
            if not self.loops:
                self.report("control-flow", f"'{stmt.kind}' outside of a loop", stmt.span)
            return
        value = self.expr(stmt.value) if stmt.value is not None else None
        if self.function is not None:
            self.check_return(stmt, value)
            return
        if value is None:
            return
        if not (T.is_unknown(value) or T.is_integer(value)):
            self.report("return", f"Probe return values can only be integers. Found {value}", stmt.value.span)

    def check_return(self, stmt: ast.Jump, value: Optional[T.Type]) -> None:
        fn = self.function
        declared = self.resolve_type(fn.return_type)
        got = value if value is not None else T.VOID
        if T.is_unknown(declared) or T.is_unknown(got):
            return
        if isinstance(declared, T.Void) and isinstance(got, T.Void):
            return
        joined = T.join(declared, T.as_integer(got)) if not isinstance(got, T.Void) else None
        if joined is None or (joined != declared and not isinstance(declared, T.Int)):
            self.report(
                "return", f"Function {fn.name.text} is of type {declared}, cannot return {got}",
                stmt.value.span if stmt.value is not None else stmt.span,
            )  # fmt: skip
