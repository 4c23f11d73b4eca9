"""AST builders for expressions, literals and types, and the helpers every
builder shares.

`AstBuilder` (to_ast.py) walks lark's tree and calls a `b_<rule>` method per
node with the node's span and its built children: lark tokens and AST nodes.
The expression half of those methods lives here; to_ast.py has the driver,
the top-level items and the statements.
"""

from __future__ import annotations

import re

from lark import Token

from ..diagnostics import DiagnosticSink, Related
from ..source import SourceText, Span, decode
from . import ast
from .literals import parse_char, parse_int, parse_string

_TERMINATED_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"\Z')
_TERMINATED_CHAR = re.compile(r"'(?:[^'\\\n]|\\.)*'\Z")


class _Suffix:
    """A `*` or `[N]` type suffix, applied by the type builders."""

    __slots__ = ("span", "size", "is_array")

    def __init__(self, span: Span, is_array: bool, size: int | None = None):
        self.span, self.is_array, self.size = span, is_array, size


class Paren:
    """A parenthesised expression. The parentheses belong to the enclosing
    node's span but not to the expression's own, so a diagnostic about the
    expression underlines just it."""

    __slots__ = ("node", "span")

    def __init__(self, node, span: Span):
        self.node, self.span = node, span


class BuilderBase:
    """State and helpers shared by every builder."""

    def __init__(self, source: SourceText, sink: DiagnosticSink) -> None:
        self.source = source
        self.sink = sink


    @staticmethod
    def _tok_span(tok: Token) -> Span:
        return Span(tok.start_pos, tok.end_pos)

    def _name(self, tok: Token) -> ast.Name:
        return ast.Name(self._tok_span(tok), str(tok))

    @staticmethod
    def _nodes(children) -> list:
        return [c for c in children if not isinstance(c, Token)]

    @staticmethod
    def _tokens(children) -> list[Token]:
        return [c for c in children if isinstance(c, Token)]

    def _report(self, problems, base: int) -> None:
        for message, start, end in problems:
            self.sink.error("syntax", message, Span(base + start, base + end))

    @staticmethod
    def _as_block(n) -> ast.Block:
        if isinstance(n, ast.Block):
            return n
        return ast.Block(n.span, [ast.ExprStmt(n.span, n)])

    @staticmethod
    def _as_expr(n):
        """Statements never appear where an expression is expected, except
        after recovery from an error; keep the tree well-typed anyway."""
        if isinstance(n, (ast.Block, ast.If)) or not isinstance(n, ast.Node):
            return n
        if isinstance(n, ast.STMT_NODES):
            return ast.ErrorExpr(n.span)
        return n

    def _statement_body(self, block) -> ast.Block:
        """Probe, fn and loop bodies have no value: a last expression written
        without ';' is just a statement."""
        block = self._as_block(block)
        if block.value is not None:
            block.stmts.append(ast.ExprStmt(block.value.span, block.value))
            block.value = None
        return block


class ExpressionBuilders(BuilderBase):
    # ------------------------------------------------------- expressions

    def b_ternary(self, span, children):
        cond, then, orelse = (self._as_expr(c) for c in self._nodes(children))
        return ast.Ternary(span, cond, then, orelse)

    def b_short_ternary(self, span, children):
        cond, orelse = (self._as_expr(c) for c in self._nodes(children))
        return ast.Ternary(span, cond, None, orelse)

    def b_binop(self, span, children):
        left, op, right = children
        return ast.Binary(span, str(op), self._as_expr(left), self._as_expr(right))

    def b_prefix_op(self, span, children):
        op, operand = str(children[0]), self._as_expr(children[1])
        if op in ("++", "--"):
            self._check_incdec(operand, operand.span)
            return ast.IncDec(span, op, operand, prefix=True)
        if op == "&" and not isinstance(operand, (ast.Variable, ast.MapRef, ast.ErrorExpr)):
            self.sink.error(
                "syntax", "address-of operator (&) can only be used on a map or variable", span
            )
        return ast.Unary(span, op, operand)

    def b_postfix_op(self, span, children):
        operand, op = self._as_expr(children[0]), children[1]
        self._check_incdec(operand, operand.span)
        return ast.IncDec(span, str(op), operand, prefix=False)

    def _check_incdec(self, operand, where: Span) -> None:
        if not isinstance(operand, (ast.Variable, ast.MapRef, ast.MapAccess, ast.ErrorExpr)):
            self.sink.error("syntax", "increment/decrement requires a variable or map", where)

    def b_cast(self, span, children):
        type_, operand = self._nodes(children)
        return ast.Cast(span, type_, self._as_expr(operand))

    def b_comptime(self, span, children):
        return ast.Comptime(span, self._as_expr(children[1]))

    def b_field_access(self, span, children):
        base, op, field = children
        return ast.FieldAccess(span, self._as_expr(base), self._name(field), str(op) == "->")

    def b_tuple_access(self, span, children):
        base, _dot, index_tok = children
        value, problems = parse_int(str(index_tok))
        self._report(problems, index_tok.start_pos)
        return ast.TupleAccess(span, self._as_expr(base), value)

    def b_index(self, span, children):
        base, index = self._nodes(children)
        return ast.Index(span, self._as_expr(base), self._as_expr(index))

    def b_missing(self, span, children):
        # Inserted by error recovery; the parser has reported it.
        return ast.ErrorExpr(span)

    def b_primary(self, span, children):
        # `( expr )`: the parentheses only group; see Paren.
        return Paren(self._nodes(children)[0], span)

    def b_integer(self, span, children):
        tok = children[0]
        value, problems = parse_int(str(tok))
        self._report(problems, tok.start_pos)
        return ast.IntLit(span, value, str(tok))

    def b_string(self, span, children):
        # The parser has reported an unterminated literal already.
        text = str(children[0])
        body = text[1:-1] if _TERMINATED_STRING.match(text) else text[1:]
        value, problems = parse_string(body)
        self._report(problems, span.start + 1)
        return ast.StrLit(span, value)

    def b_char(self, span, children):
        text = str(children[0])
        if _TERMINATED_CHAR.match(text):
            value, problems = parse_char(text[1:-1])
        else:  # reported by the parser; keep the first byte, if any
            decoded, problems = parse_string(text[1:])
            value = decoded[0] if decoded else 0
        self._report(problems, span.start + 1)
        return ast.IntLit(span, value, decode(text))

    def b_boolean(self, span, children):
        return ast.BoolLit(span, children[0].type == "TRUE")

    def b_variable(self, span, children):
        return ast.Variable(span, str(children[0]))

    def b_positional(self, span, children):
        index = int(str(children[0])[1:])
        if index < 1 or index > (1 << 63) - 1:
            self.sink.error(
                "syntax", f"param {children[0]} is out of integer range [1, {(1 << 63) - 1}]", span
            )
        return ast.PositionalParam(span, index)

    def b_param_count(self, span, children):
        return ast.ParamCount(span)

    def b_map_ref(self, span, children):
        return ast.MapRef(span, str(children[0]))

    def b_map_access(self, span, children):
        map_tok, *keys = children
        keys = keys[1:-1]  # without the brackets
        map_ref = ast.MapRef(self._tok_span(map_tok), str(map_tok))
        return ast.MapAccess(span, map_ref, [self._as_expr(k) for k in self._nodes(keys)])

    def b_identifier(self, span, children):
        return ast.Identifier(span, str(children[0]))

    def b_call(self, span, children):
        name, *args = children
        return ast.Call(span, self._name(name), [self._as_expr(a) for a in self._nodes(args)])

    def b_tuple(self, span, children):
        return ast.Tuple(span, [self._as_expr(c) for c in self._nodes(children)])

    def b_record(self, span, children):
        fields = self._nodes(children)
        seen: dict[str, ast.RecordField] = {}
        for f in fields:
            if f.name.text in seen:
                self.sink.error(
                    "syntax", f"Named argument list already contains name: {f.name.text}", f.span,
                    related=[Related(seen[f.name.text].span, "first given here")],
                )
            else:
                seen[f.name.text] = f
        return ast.Record(span, fields)

    def b_record_field(self, span, children):
        name, _equal, value = children
        return ast.RecordField(span, self._name(name), self._as_expr(value))

    def b_if_expr(self, span, children):
        cond, then, *rest = self._nodes(children)
        orelse = rest[0] if rest else None
        if orelse is not None and not isinstance(orelse, ast.If):
            orelse = self._as_block(orelse)
        return ast.If(span, self._as_expr(cond), self._as_block(then), orelse)

    def b_sizeof(self, span, children):
        return ast.Sizeof(span, self._type_or_expr(self._nodes(children)[0]))

    def b_offsetof(self, span, children):
        arg, fields = self._nodes(children)
        fields = fields if isinstance(fields, list) else []
        return ast.Offsetof(span, self._type_or_expr(arg), fields)

    def b_typeinfo(self, span, children):
        return ast.Typeinfo(span, self._type_or_expr(self._nodes(children)[0]))

    def _type_or_expr(self, n):
        """In sizeof, offsetof, typeinfo and typeof, a bare builtin type name
        (`uint64`, `bool`) is a type; any other bare name stays an
        Identifier for the analyser to resolve (a typedef, or a value)."""
        if isinstance(n, ast.Identifier) and n.name in ast.BUILTIN_TYPE_NAMES:
            return ast.NamedType(n.span, n.name)
        return self._as_expr(n)

    def b_field_path(self, span, children):
        return [self._name(tok) for tok in children if tok.type == "IDENT"]

    # ------------------------------------------------------------- types

    def b_type(self, span, children):
        base, *suffixes = children
        if isinstance(base, Token):  # `IDENT *` in explicit_type
            base = ast.NamedType(self._tok_span(base), str(base))
        for suffix in suffixes:
            whole = Span(base.span.start, suffix.span.end)
            if suffix.is_array:
                base = ast.ArrayType(whole, base, suffix.size)
            else:
                base = ast.PointerType(whole, base)
        return base

    b_explicit_type = b_type

    def b_named_type(self, span, children):
        return ast.NamedType(span, str(children[0]))

    def b_record_type(self, span, children):
        kind, name = children
        return ast.RecordType(span, str(kind), self._name(name))

    def b_typeof(self, span, children):
        return ast.TypeofType(span, self._type_or_expr(self._nodes(children)[0]))

    def b_pointer_suffix(self, span, children):
        return _Suffix(span, is_array=False)

    def b_array_suffix(self, span, children):
        size = None
        digits = [t for t in children if t.type == "INT"]
        if digits:
            size, problems = parse_int(str(digits[0]))
            self._report(problems, digits[0].start_pos)
        return _Suffix(span, is_array=True, size=size)
