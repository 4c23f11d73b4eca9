"""Variables and maps: declaring, assigning, reading, and the type each
one settles on. Mixed into the Checker (checker.py), whose state it uses.

Messages follow bpftrace's wording, e.g. "Type mismatch for @m: trying to
assign value of type 'string[4]' when map already has a type 'uint64'",
with a related span at the assignment that first fixed the type.
"""

from __future__ import annotations

from typing import Optional

from ..diagnostics import Edit, Fix, Related
from ..source import Span
from ..syntax import ast
from . import types as T
from .macros import check_hygiene
from .scopes import MapSymbol, VariableSymbol

_AGGREGATE_EXAMPLES = {
    "count": "count()", "sum": "sum(retval)", "min": "min(retval)", "max": "max(retval)",
    "avg": "avg(retval)", "hist": "hist(retval)", "lhist": "lhist(rand %10, 0, 10, 1)",
    "tseries": "tseries(rand %10, 10s, 1)", "stats": "stats(arg2)",
}  # fmt: skip


class SymbolChecks:
    # -------------------------------------------------------------- names

    def note(self, symbol, node, kind: Optional[str] = "use", depth: Optional[int] = None) -> None:
        """Record that `node` (a `$var` or `@map` as written) names `symbol`,
        as a "use", a "definition" or neither (None).

        In a macro body, a name bound to a parameter is the parameter's own
        symbol: the body's spans are recorded there, never on the caller's
        symbol (navigation would otherwise land inside the macro). The
        caller's symbol gets the same kind of use at the call's argument,
        which may itself be a parameter of an enclosing expansion."""
        depth = len(self.frames) if depth is None else depth
        binding = self.frames[depth - 1].bindings.get(node.name) if depth else None
        if binding is None:
            self.record_name(symbol, node, kind)
            return
        param, arg = binding
        self.record_name(param, node, kind)
        if arg is not None:
            self.note(symbol, arg, kind, depth - 1)

    def record_name(self, symbol, node, kind: Optional[str]) -> None:
        self.references[node] = symbol
        if kind == "use":
            self.add_name(symbol, node.span, use=True)
        elif kind == "definition":
            self.add_name(symbol, node.span, use=False)

    def add_name(self, symbol, span, use: bool) -> None:
        """A use or definition of the symbol, kept in the walk's log too
        (reuse.py replays a probe's share of it after an edit elsewhere)."""
        (symbol.uses if use else symbol.definitions).append(span)
        self.name_log.append((symbol, use, span))

    # ----------------------------------------------------------- variables

    def declare_variable(self, stmt: ast.VarDecl) -> None:
        name = stmt.var.name
        if self.frames and name in self.frames[-1].variables:
            self.report("shadowing", f"Variable declaration shadows macro arg {name}", stmt.var.span)
            return
        existing = self.variable_symbol(name)
        if existing is not None:
            self.report(
                "shadowing", f"Variable {name} was already declared. Variable shadowing is not allowed.",
                stmt.var.span,
                related=[Related(existing.origin, "the variable is declared here")] if existing.origin else (),
            )  # fmt: skip
            return
        # The value is read before the variable exists: `let $x = $x` is an error.
        value = self.expr(stmt.value) if stmt.value is not None else None
        symbol = self.symbols.variable(self.scope.owner, name)
        symbol.declared, symbol.origin = True, stmt.var.span
        symbol.assigned = stmt.value is not None
        self.scope.variables[name] = symbol
        self.note(symbol, stmt.var, "definition")
        if stmt.type is not None:
            declared = self.resolve_type(stmt.type)
            if isinstance(declared, T.Aggregation):
                self.report("declaration", f"Invalid variable declaration type: {declared}", stmt.type.span)
                declared = T.UNKNOWN
            symbol.declared_type = declared
            if not (isinstance(declared, (T.String, T.Buffer)) and declared.length == 0):
                symbol.type = declared
        if stmt.value is not None:
            self.store_variable(symbol, value, stmt.value, stmt.var)
        else:
            self.record(stmt.var, symbol.type or T.UNKNOWN)

    def assign_variable(self, target: ast.Variable, value_node, value: T.Type) -> None:
        name = target.name
        symbol = self.variable_symbol(name)
        if symbol is None:
            symbol = self.symbols.variable(self.scope.owner, name)
            symbol.origin = target.span
            self.scope.variables[name] = symbol
            if not self.frames:
                others = self.probe_variables.setdefault(name, [])
                if symbol not in others:
                    others.append(symbol)
        symbol.assigned = True
        self.note(symbol, target, "definition")
        self.store_variable(symbol, value, value_node, target)

    def store_variable(self, symbol: VariableSymbol, value: T.Type, value_node, target) -> None:
        name = symbol.name
        if isinstance(value, T.Aggregation) and self.is_aggregation_call(value_node):
            # "count() must be assigned directly to a map" says it already.
            self.record(target, symbol.type or T.UNKNOWN)
            return
        if isinstance(value, T.Aggregation):
            self.report(
                "assignment", f"Value '{value}' cannot be assigned to a scratch variable.", value_node.span
            )
            self.record(target, symbol.type or T.UNKNOWN)
            return
        if isinstance(value, T.Void):
            self.report("assignment", "Value 'void' cannot be assigned to a scratch variable.", value_node.span)
            self.record(target, symbol.type or T.UNKNOWN)
            return
        if symbol.declared_type is not None and not T.is_unknown(symbol.declared_type):
            if self.narrows(symbol.declared_type, value, value_node):
                self.warn(
                    "narrowing", f"Expression of type: {T.as_integer(value)} being cast to type: "
                    f"{symbol.declared_type}. This may cause unexpected results. "
                    "Use an explicit cast to suppress this warning.",
                    value_node.span,
                )  # fmt: skip
            elif not self.fits_declared(symbol.declared_type, value, value_node):
                self.report(
                    "type-mismatch",
                    f"Type mismatch for {name}: trying to assign value of type '{value}' "
                    f"when variable already has a type '{symbol.declared_type}'",
                    value_node.span,
                    related=[Related(symbol.origin, f"{name} is declared here")] if symbol.origin else (),
                )
            elif isinstance(symbol.declared_type, (T.String, T.Buffer)) and symbol.declared_type.length == 0:
                self.symbols.widen(symbol, value)
            self.record(target, symbol.type or T.UNKNOWN)
            return
        self.widen_value(symbol, value, value_node, "variable", self._first_site(symbol))
        self.record(target, symbol.type or T.UNKNOWN)

    def is_aggregation_call(self, node) -> bool:
        from . import builtins as B

        if not isinstance(node, ast.Call):
            return False
        builtin = B.named(node.name.text)
        return builtin is not None and builtin.has(B.AGGREGATION)

    def narrows(self, declared: T.Type, value: T.Type, value_node) -> bool:
        """An integer, not a literal, that does not fit the declared integer
        type (wider, or signed into unsigned): bpftrace casts it, with a
        warning."""
        value = T.as_integer(value)
        return (
            isinstance(declared, T.Int) and isinstance(value, T.Int)
            and self.constant(value_node) is None and not T.fits_into(value, declared)
        )  # fmt: skip

    def fits_declared(self, declared: T.Type, value: T.Type, value_node) -> bool:
        if T.is_unknown(value):
            return True
        if isinstance(declared, T.Int) and T.is_integer(value):
            literal = self.constant(value_node)
            # Any other integer is cast (see narrows()).
            return literal is None or declared.fits(literal)
        if isinstance(declared, T.String) and isinstance(value, T.String):
            return declared.length == 0 or value.length <= declared.length
        joined = T.join(declared, value)
        return joined is not None and joined == declared

    def read_variable(self, node: ast.Variable) -> T.Type:
        symbol = self.variable_symbol(node.name)
        if symbol is None:
            assigned_inside = [] if self.frames else self.probe_variables.get(node.name, [])
            inner = assigned_inside[0] if assigned_inside else None
            for other in assigned_inside[1:]:  # e.g. in both branches of an if: all meant as one
                self.add_name(other, node.span, use=True)
            if inner is not None:
                # Assigned in an inner block only: bpftrace before 0.22 scoped
                # variables to the probe, and old scripts rely on that.
                self.warn(
                    "scope", f"{node.name} is assigned only in an inner block; since bpftrace 0.22 "
                    "that block is its scope, so it is undefined here", node.span,
                    hints=(f"declare it before that block: let {node.name};",),
                    related=[Related(inner.origin, f"{node.name} is assigned here")] if inner.origin else (),
                    fixes=self.declare_before(node.name, inner.origin) if inner.origin else (),
                )  # fmt: skip
                symbol = inner
            else:
                self.report(
                    "undefined-variable", f"Undefined or undeclared variable: {node.name}", node.span,
                    **self.suggest(node.name, self.visible_variables(), node.span),
                )  # fmt: skip
                return self.record(node, T.UNKNOWN)
        self.note(symbol, node, "use")
        if symbol.declared and not symbol.assigned:
            self.warn("unassigned", f"Variable used before it was assigned: {node.name}", node.span)
            if symbol.type is None:  # and nothing anywhere gives it one
                self.report("untyped-variable", "Could not resolve the type of this variable", node.span)
        return self.record(node, symbol.type or T.UNKNOWN)

    def declare_before(self, name: str, assigned: Span) -> tuple[Fix, ...]:
        """The fix for a variable assigned in an inner block and read after
        it: `let $x;` before the statement that holds the assignment, in the
        innermost block around the read that has one (the assignment then
        sets that variable, and the read sees it)."""
        scope = self.scope
        while scope is not None:
            for stmt in scope.owner.stmts if isinstance(scope.owner, ast.Block) else ():
                if stmt.span.start <= assigned.start and assigned.end <= stmt.span.end:
                    data, at = self.source.lines.data, stmt.span.start
                    indent = data[data.rfind(b"\n", 0, at) + 1 : at]
                    # On a line of its own, the declaration gets a line of its own.
                    after = "\n" + indent.decode() if not indent.strip() else " "
                    edit = Edit(Span(at, at), f"let {name};{after}")
                    return (Fix(f"Declare {name} with let before the block that assigns it", (edit,), True),)
            scope = scope.parent
        return ()

    def visible_variables(self) -> list[str]:
        names, scope = [], self.scope
        while scope is not None:
            names.extend(scope.variables)
            scope = scope.parent
        return names

    # --------------------------------------------------------------- maps

    def map_symbol(self, node: ast.MapRef) -> MapSymbol:
        check_hygiene(self, node)
        symbol = self.symbols.map(self.map_name(node.name))
        self.note(symbol, node, None)
        return symbol

    def map_key(self, access: ast.MapAccess) -> T.Type:
        """The key type of `@m[k1, k2]`: one key, or a tuple of keys."""
        before = self.errors_found
        types = [self.expr(key) for key in access.keys]
        for key, t in zip(access.keys, types):
            if self.errors_found != before:
                break
            if isinstance(t, T.Aggregation):
                self.report("map-key", f"{t} cannot be part of a map key", key.span)
            elif isinstance(t, T.Void):
                self.report("map-key", "Invalid map key type: void", key.span)
        return types[0] if len(types) == 1 else T.Tuple(tuple(types))

    def use_map_key(self, symbol: MapSymbol, map_ref: ast.MapRef, access: Optional[ast.MapAccess], writing: bool) -> None:
        """Check (and on first use fix) whether and how a map is keyed."""
        name = symbol.name
        if access is None:
            key, site = T.VOID, None
        else:
            key, site = self.map_key(access), access
        if symbol.key is None:
            self.symbols.widen_key(symbol, key)
            symbol.key_site = (site or map_ref).span
            return
        if (symbol.key == T.VOID) != (key == T.VOID):
            span = access.span if access is not None else None
            if key == T.VOID:
                self.report(
                    "map-key", f"{name} used as a map without an explicit key (scalar map), "
                    "previously used with an explicit key (non-scalar map)", map_ref.span,
                    related=self._key_site(symbol),
                )  # fmt: skip
            else:
                self.report(
                    "map-key", f"{name} used as a map with an explicit key (non-scalar map), "
                    "previously used without an explicit key (scalar map)", span,
                    related=self._key_site(symbol),
                )  # fmt: skip
            return
        if key != T.VOID:
            self.check_key_type(symbol, key, access.span, access.keys[0] if len(access.keys) == 1 else None)

    def literal_outgrows(self, slot: T.Type, value_node) -> bool:
        """An integer literal that the slot's joined type cannot hold: -1
        and 2**63 promote to int64, which 2**63 does not fit."""
        value = self.constant(value_node)
        return isinstance(slot, T.Int) and isinstance(value, int) and not isinstance(value, bool) and not slot.fits(value)

    def check_key_type(self, symbol: MapSymbol, key: T.Type, span, key_node=None) -> None:
        """Widen a keyed map's key type to fit `key`, or say they do not fit."""
        before = symbol.key
        joined = self.symbols.widen_key(symbol, key)
        if joined is None or (key_node is not None and self.literal_outgrows(joined, key_node)):
            self.report(
                "map-key",
                f"Argument mismatch for {symbol.name}: trying to access with arguments: '{key}' "
                f"when map expects arguments: '{before}'",
                span,
                related=self._key_site(symbol),
            )

    def store_map(self, symbol: MapSymbol, value: T.Type, value_node, site, map_ref: ast.MapRef) -> None:
        symbol.written = True
        self.note(symbol, map_ref, "definition")
        if symbol.value_site is None:
            symbol.value_site = site.span
        first = symbol.value_site != site.span
        related = [Related(symbol.value_site, f"{symbol.name} was first assigned here")] if first else ()
        self.widen_value(symbol, value, value_node, "map", related)

    def widen_value(self, symbol, value: T.Type, value_node, kind: str, related) -> None:
        """Widen a variable's or map's value type to hold `value`, or say
        that it cannot."""
        before = symbol.type
        joined = self.symbols.widen(symbol, value)
        if joined is None or self.literal_outgrows(joined, value_node):
            self.report(
                "type-mismatch",
                f"Type mismatch for {symbol.name}: trying to assign value of type '{value}' "
                f"when {kind} already has a type '{before}'",
                value_node.span,
                related=related,
            )

    def read_map(self, node, access: Optional[ast.MapAccess]) -> T.Type:
        map_ref = access.map if access is not None else node
        symbol = self.map_symbol(map_ref)
        symbol.read = True
        self.note(symbol, map_ref, "use")
        self.use_map_key(symbol, map_ref, access, writing=False)
        # An aggregation is read as itself (count_t): where an integer is
        # wanted, the readable ones convert (T.as_integer).
        return self.record(node, symbol.type if symbol.type is not None else T.UNKNOWN)

    # ------------------------------------------------------- assignments

    def assign(self, stmt: ast.Assign) -> None:
        target = stmt.target
        value = self.expr(stmt.value, map_value=isinstance(target, (ast.MapRef, ast.MapAccess)))
        if stmt.op != "=":
            current = self.expr(target)
            value = self.binary_type(stmt.op[:-1], current, value, stmt)
        if isinstance(target, ast.Variable):
            self.assign_variable(target, stmt.value, value)
        elif isinstance(target, (ast.MapRef, ast.MapAccess)):
            access = target if isinstance(target, ast.MapAccess) else None
            map_ref = target.map if access else target
            if stmt.op == "=" and self.copies_aggregation(target, map_ref, stmt.value):
                return
            symbol = self.map_symbol(map_ref)
            self.use_map_key(symbol, map_ref, access, writing=True)
            self.store_map(symbol, value, stmt.value, target, map_ref)
            self.record(target, symbol.type or T.UNKNOWN)
        else:
            self.expr(target)  # the parser has reported the bad target

    def copies_aggregation(self, target, map_ref: ast.MapRef, value_node) -> bool:
        """`@copy = @count`: an aggregation cannot move between maps."""
        if not isinstance(value_node, (ast.MapRef, ast.MapAccess)):
            return False
        source_ref = value_node.map if isinstance(value_node, ast.MapAccess) else value_node
        source = self.symbols.find_map(self.map_name(source_ref.name))
        held = source.type if source is not None else None
        if not isinstance(held, T.Aggregation):
            return False
        example = _AGGREGATE_EXAMPLES.get(held.kind, f"{held.kind}(...)")
        hints = ()
        if held.readable:
            hints = (f"Add a cast to integer if you want the value of the aggregate, "
                     f"e.g. `{map_ref.name} = (int64){source_ref.name};`.",)  # fmt: skip
        self.report(
            "assignment", f"Map value '{held}' cannot be assigned from one map to another. The function "
            f"that returns this type must be called directly e.g. `{map_ref.name} = {example};`.",
            target.span.cover(value_node.span), hints=hints,
        )  # fmt: skip
        return True

    def range_type(self, node: ast.Range) -> T.Type:
        start, end = self.expr(node.start), self.expr(node.end)
        for bound, t, which in ((node.start, start, "start"), (node.end, end, "end")):
            if not (T.is_unknown(t) or T.is_integer(t)):
                self.report("loop", f"Loop range requires an integer for the {which} value", bound.span)
        joined = T.join(T.as_integer(start), T.as_integer(end)) if T.is_integer(start) and T.is_integer(end) else None
        return joined or T.INT64

    def map_iteration_type(self, node) -> T.Type:
        if not isinstance(node, ast.MapRef):
            self.expr(node)
            return T.UNKNOWN
        symbol = self.map_symbol(node)
        symbol.read = True
        self.note(symbol, node, "use")
        key, value = symbol.key, symbol.type
        if key == T.VOID:
            self.report(
                "loop", f"{symbol.name} has no explicit keys (scalar map), and cannot be used for iteration",
                node.span,
            )  # fmt: skip
            return T.UNKNOWN
        if value is not None and isinstance(value, T.Aggregation) and not value.readable and value.kind != "stats":
            self.report("loop", f"Loop expression does not support type: {value}", node.span)
        return T.Tuple((key or T.UNKNOWN, T.as_integer(value) if value is not None else T.UNKNOWN))

    # ------------------------------------------------------------ sites

    def _first_site(self, symbol) -> list:
        site = symbol.first_definition or symbol.origin
        return [Related(site, f"{symbol.name} was first assigned here")] if site else []

    def _key_site(self, symbol: MapSymbol) -> list:
        if symbol.key_site is None:
            return []
        how = "without a key" if symbol.key == T.VOID else "with a key"
        return [Related(symbol.key_site, f"{symbol.name} was first used {how} here")]
