"""The type of every expression, and the errors in them. Mixed into the
Checker (checker.py), whose state and helpers it uses.

`expr(node)` returns the node's type and records it for hover. An operand
of type UNKNOWN never produces an error: the fact behind it is missing, not
wrong.
"""

from __future__ import annotations

from ..diagnostics import Related
from ..syntax import ast
from . import types as T
from .context import Missing
from .probe_context import ARGS_RECORD_PREFIX

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_LOGICAL = ("&&", "||")


class ExpressionChecks:
    def expr(self, node, *, statement: bool = False, map_value: bool = False) -> T.Type:
        if node is None:
            return T.UNKNOWN
        if isinstance(node, ast.Call):
            return self.record(node, self.call(node, statement=statement, map_value=map_value))
        handler = getattr(self, "e_" + type(node).__name__, None)
        if handler is None:
            return self.record(node, T.UNKNOWN)
        return self.record(node, handler(node))

    # ------------------------------------------------------------ leaves

    def e_ErrorExpr(self, node):
        return T.UNKNOWN

    def e_IntLit(self, node: ast.IntLit):
        return T.literal_type(node.value)

    def e_StrLit(self, node: ast.StrLit):
        return T.String(len(node.value) + 1)

    def e_BoolLit(self, node):
        return T.BOOL

    def e_PositionalParam(self, node):
        # Its value (a number or a string) is known only when the program
        # runs with arguments (the CLI passes them; an editor does not).
        given = self.options.positional
        if given is None:
            return T.UNKNOWN
        text = given[node.index - 1] if node.index <= len(given) else ""
        try:
            return T.literal_type(int(text, 0))
        except ValueError:
            # A missing one reads as 0 where a number is wanted, "" in str().
            return T.literal_type(0) if not text else T.String(len(text.encode()) + 1)

    def e_ParamCount(self, node):
        return T.INT64

    def e_Variable(self, node: ast.Variable):
        return self.read_variable(node)

    def e_MapRef(self, node: ast.MapRef):
        return self.read_map(node, None)

    def e_MapAccess(self, node: ast.MapAccess):
        return self.read_map(node, node)

    def e_Identifier(self, node: ast.Identifier):
        return self.identifier(node)

    # ---------------------------------------------------------- operators

    def e_Binary(self, node: ast.Binary):
        left, right = self.expr(node.left), self.expr(node.right)
        return self.binary_type(node.op, left, right, node)

    def binary_type(self, op: str, left: T.Type, right: T.Type, node) -> T.Type:
        if T.is_unknown(left) or T.is_unknown(right):
            return T.BOOL if op in _COMPARISONS + _LOGICAL else T.UNKNOWN
        if op in _LOGICAL:
            for side, t in ((node.left, left), (node.right, right)) if isinstance(node, ast.Binary) else ():
                if not T.is_truthy(t):
                    self.report("operator", f"The {op} operator can not be used on expressions of type '{t}'", side.span)
            return T.BOOL
        if isinstance(left, T.Pointer) or isinstance(right, T.Pointer):
            return self._pointer_binary(op, left, right, node)
        if T.is_integer(left) and T.is_integer(right):
            return T.binary_result(op, left, right)
        if op in ("==", "!=") and type(left) is type(right) and isinstance(
            left, (T.String, T.Tuple, T.Record, T.Array, T.Inet, T.Buffer, T.Special)
        ):
            if isinstance(left, T.Array) and left.size != right.size:
                self.report("operator", "Only arrays of same size support comparison operators.", node.span)
            return T.BOOL
        if op in _COMPARISONS and type(left) is type(right) and isinstance(left, T.String):
            self.report(
                "operator", f"The {op} operator can not be used on expressions of types {left}, {right}", node.span
            )
            return T.BOOL
        same_kind = type(T.as_integer(left)) is type(T.as_integer(right))
        message = (
            f"The {op} operator can not be used on expressions of types {left}, {right}"
            if same_kind
            else f"Type mismatch for '{op}': comparing {left} with {right}"
        )
        related = []
        if isinstance(node, ast.Binary):
            related = [Related(node.left.span, f"left ({left})"), Related(node.right.span, f"right ({right})")]
        self.report("operator", message, node.span, related=related)
        return T.BOOL if op in _COMPARISONS else T.UNKNOWN

    def _pointer_binary(self, op, left, right, node) -> T.Type:
        pointer = left if isinstance(left, T.Pointer) else right
        other = right if pointer is left else left
        if isinstance(other, T.Pointer):
            if op in _COMPARISONS:
                if left.target != right.target and not (T.mentions_unknown(left) or T.mentions_unknown(right)):
                    self.warn(
                        "operator", f"comparison of distinct pointer types: {left.target}, {right.target}",
                        node.span, related=[Related(node.left.span, f"left ({left.target})"),
                                            Related(node.right.span, f"right ({right.target})")],
                    )  # fmt: skip
                return T.BOOL
            if op in _LOGICAL:
                return T.BOOL
        elif T.is_integer(other):
            if op == "+" or (op == "-" and pointer is left):
                return pointer
            if op in _COMPARISONS:
                return T.BOOL
        self.report(
            "operator", f"The {op} operator can not be used on expressions of types {left}, {right}", node.span
        )
        return T.UNKNOWN

    def e_Unary(self, node: ast.Unary):
        if node.op == "-" and isinstance(node.operand, ast.IntLit):
            self.record(node.operand, T.literal_type(node.operand.value))
            return T.literal_type(node.operand.value, negative=True)
        if node.op == "&":
            if isinstance(node.operand, ast.Variable):
                return self.address_of_variable(node.operand)
            inner = self.expr(node.operand)
            return T.Pointer(inner)
        operand = self.expr(node.operand)
        if T.is_unknown(operand):
            return T.BOOL if node.op == "!" else T.UNKNOWN
        if node.op == "!":
            if not T.is_truthy(operand):
                self.report("operator", f"The ! operator can not be used on expressions of type '{operand}'", node.span)
            return T.BOOL
        if node.op == "*":
            if isinstance(operand, T.Pointer):
                return operand.target
            if T.is_integer(operand):
                return T.UINT64  # bpftrace reads 8 bytes at an integer address
            what = f"struct/union of type '{operand}'" if isinstance(operand, T.CRecord) else f"type '{operand}'"
            self.report("dereference", f"Can not dereference {what}. It is not a pointer.", node.span)
            return T.UNKNOWN
        if not T.is_integer(operand):
            self.report("operator", f"The {node.op} operator can not be used on expressions of type '{operand}'", node.span)
            return T.UNKNOWN
        operand = T.as_integer(operand)
        if node.op == "-":
            return T.Int(64, True)
        return T.Int(64, isinstance(operand, T.Int) and operand.signed)

    def address_of_variable(self, var: ast.Variable) -> T.Type:
        """`&$v`: we cannot know what is stored through the pointer, so $v
        counts as assigned; it must already have a type, though."""
        symbol = self.variable_symbol(var.name)
        if symbol is None:
            return self.read_variable(var)
        symbol.assigned = True
        self.note(symbol, var, "use")
        if symbol.type is None:
            self.report("address-of", f"No type available for variable {var.name}", var.span)
            return self.record(var, T.UNKNOWN)
        self.record(var, symbol.type)
        return T.Pointer(symbol.type)

    def e_IncDec(self, node: ast.IncDec):
        target = node.operand
        if isinstance(target, (ast.Variable, ast.MapRef, ast.MapAccess)):
            current = self.expr(target)
            if not (T.is_unknown(current) or T.is_integer(current) or isinstance(current, T.Pointer)):
                self.report(
                    "operator", f"The {node.op} operator can not be used on expressions of type '{current}'", node.span
                )
            # `x++` stores a 64-bit result, as bpftrace types it: signed
            # unless x is unsigned and counting up. So `$i = 0; $i++` makes
            # $i an int64, not an int8 that wraps at 127.
            result = T.INT64 if node.op == "--" or T.is_unknown(current) or getattr(
                T.as_integer(current), "signed", True) else T.UINT64  # fmt: skip
            symbol = None
            if isinstance(target, ast.Variable) and self.variable_symbol(target.name) is not None:
                symbol = self.variable_symbol(target.name)
                self.note(symbol, target, "definition")
            elif isinstance(target, (ast.MapRef, ast.MapAccess)):
                map_ref = target.map if isinstance(target, ast.MapAccess) else target
                symbol = self.map_symbol(map_ref)
                symbol.written = True
                self.note(symbol, map_ref, "definition")
            if isinstance(current, T.Pointer):
                return current
            if symbol is not None and not isinstance(symbol.type, T.Aggregation) and (
                getattr(symbol, "declared_type", None) is None
            ):
                self.symbols.widen(symbol, result)
            return result if not T.is_unknown(current) else T.UNKNOWN
        self.expr(target)
        return T.UNKNOWN

    def e_Ternary(self, node: ast.Ternary):
        cond = self.expr(node.cond)
        if not T.is_truthy(cond):
            self.report("condition", f"Invalid condition: {cond}", node.cond.span)
        then = cond if node.then is None else self.expr(node.then)
        orelse = self.expr(node.orelse)
        return self.branches(then, orelse, node)

    def branches(self, left: T.Type, right: T.Type, node) -> T.Type:
        if left is None or right is None:
            return left or right or T.VOID
        joined = T.join(T.as_integer(left), T.as_integer(right))
        if joined is None:
            self.report(
                "type-mismatch",
                f"Branches must return the same type or compatible types: have '{left}' and '{right}'",
                node.span,
            )
            return T.UNKNOWN
        return joined

    def e_If(self, node: ast.If):
        self.check_condition(node.cond)
        then = self.walk_block(node.then)
        orelse = None
        if isinstance(node.orelse, ast.If):
            orelse = self.expr(node.orelse)
        elif node.orelse is not None:
            orelse = self.walk_block(node.orelse)
        if then is None or orelse is None or node.orelse is None:
            return T.VOID
        return self.branches(then, orelse, node)

    def e_Block(self, node: ast.Block):
        value = self.walk_block(node)
        return value if value is not None else T.VOID

    def e_Comptime(self, node: ast.Comptime):
        return self.expr(node.expr)

    # -------------------------------------------------- composite values

    def e_Tuple(self, node: ast.Tuple):
        elements = []
        for element in node.elements:
            t = self.expr(element)
            if isinstance(t, T.Aggregation) and not t.readable:
                self.report("tuple", f"Map type {t} cannot exist inside a tuple.", element.span)
            elements.append(T.as_integer(t))
        return T.Tuple(tuple(elements))

    def e_Record(self, node: ast.Record):
        fields = []
        for f in node.fields:
            t = self.expr(f.value)
            if isinstance(t, T.Aggregation) and not t.readable:
                self.report("record", f"Map type {t} cannot exist inside a record.", f.value.span)
            fields.append((f.name.text, T.as_integer(t)))
        return T.Record(tuple(fields))

    def e_FieldAccess(self, node: ast.FieldAccess):
        base = self.expr(node.base)
        return self.field_type(base, node.field.text, node)

    def field_type(self, base: T.Type, name: str, node) -> T.Type:
        if T.is_unknown(base):
            return T.UNKNOWN
        if isinstance(base, T.Pointer) and isinstance(base.target, (T.CRecord, T.Unknown)):
            base = base.target  # '.' reads through a pointer (0.25+)
            if T.is_unknown(base):
                return T.UNKNOWN
        if isinstance(base, T.Record):
            found = base.field_type(name)
            if found is None:
                self.report("field", f"Record does not contain a field named '{name}'", node.field.span,
                            **self.suggest(name, [n for n, _ in base.fields], node.field.span))  # fmt: skip
                return T.UNKNOWN
            return found
        if isinstance(base, T.CRecord):
            found = self.ctx.field(base, name)
            if isinstance(found, Missing) and self.has_includes:
                # The script's headers, which clang reads and we do not, may
                # define this struct differently from this kernel's BTF.
                self.warn(
                    "field", f"Struct/union of type '{base}' has no field named '{name}' in this kernel's BTF",
                    node.field.span, hints=("the script includes C headers, which may define it",),
                )  # fmt: skip
                return T.UNKNOWN
            if isinstance(found, Missing):
                if base.name.startswith(ARGS_RECORD_PREFIX):
                    whose = "every attach point of this probe" if "_probe_" in base.name else "this probe"
                    message = f"args has no field named '{name}': {whose} must have it"
                else:
                    message = f"Struct/union of type '{base}' does not contain a field named '{name}'"
                self.report("field", message, node.field.span, **self.suggest(name, found.known, node.field.span))
                return T.UNKNOWN
            return found
        self.report("field", f"Can not access field '{name}' on expression of type '{base}'", node.field.span)
        return T.UNKNOWN

    def e_TupleAccess(self, node: ast.TupleAccess):
        base = self.expr(node.base)
        return self.tuple_element(base, node.index, node)

    def tuple_element(self, base: T.Type, index: int, node) -> T.Type:
        if T.is_unknown(base):
            return T.UNKNOWN
        if not isinstance(base, T.Tuple):
            self.report("tuple", f"Can not access index '{index}' on expression of type '{base}'", node.span)
            return T.UNKNOWN
        if not 0 <= index < len(base.elements):
            self.report(
                "tuple", f"Invalid tuple index: {index}. Found {len(base.elements)} elements in tuple.", node.span
            )
            return T.UNKNOWN
        return base.elements[index]

    def e_Index(self, node: ast.Index):
        base = self.expr(node.base)
        index = self.expr(node.index)
        if not (T.is_unknown(index) or T.is_integer(index)):
            self.report("index", f"The array index operator [] only accepts integer indices, found {index}", node.index.span)
        if T.is_unknown(base):
            return T.UNKNOWN
        if isinstance(base, T.Array):
            value = self.constant(node.index)
            if value is not None and not 0 <= value < base.length:
                self.report("index", f"the index {value} is out of bounds for array of size {base.length}", node.span)
            return base.element
        if isinstance(base, T.Pointer):
            return base.target
        if isinstance(base, T.String):
            return T.INT8
        if isinstance(base, T.Tuple):
            value = self.constant(node.index)
            if value is None:
                self.report("index", "Tuple index must be a constant integer", node.index.span)
                return T.UNKNOWN
            return self.tuple_element(base, value, node)
        self.report(
            "index", f"The array index operator [] can only be used on arrays, pointers, and tuples, found {base}.",
            node.span,
        )
        return T.UNKNOWN

    # ------------------------------------------------------------- types
