"""Turn lark's parse tree into AST nodes, and check what the grammar cannot.

This is the only module that reads lark trees (parser.py drives lark and
hands the tree over). The tree is walked with an explicit stack, not by
recursion, so a deeply nested input cannot overflow Python's stack; a subtree
nested deeper than MAX_DEPTH becomes an `ErrorExpr` with a diagnostic, which
bounds the depth every later (recursive) pass has to handle.

Besides building nodes, the builders report what bpftrace's parser reports
but a context-free grammar cannot express: bad literals, `$0`, invalid
assignment targets, duplicate record fields, and the order of top-level
items.
"""

from __future__ import annotations

import re
from lark import Token, Tree

from ..diagnostics import DiagnosticSink, Related
from ..source import SourceText, Span, decode
from . import ast
from .attach_points import split_attach_point
from .literals import parse_char, parse_int, parse_string

MAX_DEPTH = 128

# Names bpftrace's parser treats as builtins rather than plain identifiers.
_PARSER_BUILTINS = re.compile(
    r"(?:args|ctx|kstack|ustack|nsecs|pid|tid|s?arg[0-9]+|__builtin_[A-Za-z0-9_]*)\Z"
)
_TERMINATED_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"\Z')
_TERMINATED_CHAR = re.compile(r"'(?:[^'\\\n]|\\.)*'\Z")
_C_DEFINITION_HEAD = re.compile(r"(struct|union|enum)\s+(?:__attribute__\s*\(\(.*?\)\)\s*)?(\w+)")


class _Tail:
    """A block's last statement, written without ';'."""

    __slots__ = ("stmt", "span")

    def __init__(self, stmt):
        self.stmt, self.span = stmt, stmt.span


class _Compound:
    """A statement that ends with a block (if, for, while, unroll, block)."""

    __slots__ = ("stmt", "span")

    def __init__(self, stmt):
        self.stmt, self.span = stmt, stmt.span


class _Empty:
    """An empty statement: a lone ';'."""

    __slots__ = ("span",)

    def __init__(self, span: Span):
        self.span = span


def _span_of(value) -> Span | None:
    if isinstance(value, Token):
        return Span(value.start_pos, value.end_pos)
    if isinstance(value, list):
        spans = [s for s in map(_span_of, value) if s is not None]
        return spans[0].cover(spans[-1]) if spans else None
    return getattr(value, "span", None)


def _children_span(children: list) -> Span:
    first = last = None
    for child in children:
        first = _span_of(child)
        if first is not None:
            break
    for child in reversed(children):
        last = _span_of(child)
        if last is not None:
            break
    if first is None or last is None:
        return Span(0, 0)
    return Span(first.start, max(first.start, last.end))


def _tree_span(tree: Tree) -> Span:
    """The span of an unbuilt subtree: from its leftmost to rightmost token."""
    first = last = tree
    while isinstance(first, Tree) and first.children:
        first = first.children[0]
    while isinstance(last, Tree) and last.children:
        last = last.children[-1]
    if not isinstance(first, Token) or not isinstance(last, Token):
        return Span(0, 0)
    return Span(first.start_pos, max(first.start_pos, last.end_pos))


class _Suffix:
    """A `*` or `[N]` type suffix, applied by the type builders."""

    __slots__ = ("span", "size", "is_array")

    def __init__(self, span: Span, is_array: bool, size: int | None = None):
        self.span, self.is_array, self.size = span, is_array, size


class AstBuilder:
    def __init__(self, source: SourceText, sink: DiagnosticSink) -> None:
        self.source = source
        self.sink = sink

    # ------------------------------------------------------------ driver

    def build(self, tree: Tree, comments: list[ast.Comment]) -> ast.Program:
        result = self._walk(tree)
        if not isinstance(result, ast.Program):  # only after a parser bug
            result = ast.Program(self._whole(), [])
        result.comments = comments
        return result

    def _walk(self, root: Tree):
        """Post-order walk with an explicit stack; calls one builder per tree."""
        stack = [(root, iter(root.children), [])]
        too_deep = False
        while True:
            tree, pending, built = stack[-1]
            for child in pending:
                if not isinstance(child, Tree):
                    built.append(child)
                elif len(stack) >= MAX_DEPTH:
                    span = _tree_span(child)
                    if not too_deep:  # one report: the first place it happens
                        message = f"nested too deeply (more than {MAX_DEPTH} levels)"
                        self.sink.error("nesting", message, span)
                        too_deep = True
                    built.append(ast.ErrorExpr(span))
                else:
                    stack.append((child, iter(child.children), []))
                    break
            else:
                stack.pop()
                result = self._dispatch(tree, built)
                if not stack:
                    return result
                stack[-1][2].append(result)

    def _dispatch(self, tree: Tree, children: list):
        # The parser keeps every token (keep_all_tokens), so a tree's span
        # runs from its first child's start to its last child's end; that is
        # cheaper than asking lark to propagate positions.
        span = _children_span(children)
        builder = getattr(self, "b_" + tree.data, None)
        if builder is None:  # a rule with no builder is a bug; degrade gently
            return ast.ErrorExpr(span)
        return builder(span, children)

    def _whole(self) -> Span:
        return Span(0, len(self.source.data))

    # ----------------------------------------------------------- helpers

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

    # --------------------------------------------------------- top level

    def b_start(self, span, children):
        shebang = None
        items = []
        for child in children:
            if isinstance(child, Token):
                if child.type == "SHEBANG":
                    shebang = decode(str(child))
            elif isinstance(child, ast.Node):
                items.append(child)
        self._check_order(items)
        return ast.Program(self._whole(), items, shebang)

    def _check_order(self, items) -> None:
        seen_main = False
        seen_config = None
        for item in items:
            if isinstance(item, (ast.CPreprocessor, ast.CDefinition)):
                if seen_main:
                    self.sink.error(
                        "item-order", "C definitions must appear before probes and functions", item.span
                    )
            elif isinstance(item, ast.Config):
                if seen_config is not None:
                    self.sink.error(
                        "duplicate-config", "duplicate config block", item.span,
                        related=[Related(seen_config.span, "the first config block is here")],
                    )
                elif seen_main:
                    self.sink.error(
                        "item-order", "config must appear before probes and functions", item.span
                    )
                seen_config = seen_config or item
            elif isinstance(item, ast.Import):
                if seen_main:
                    self.sink.error(
                        "item-order", "root imports must appear before probes and functions", item.span
                    )
            else:
                seen_main = True

    def b_cpp_directive(self, span, children):
        return ast.CPreprocessor(span, decode(str(children[0])).rstrip())

    def b_c_definition(self, span, children):
        text = decode(str(children[0])).rstrip()
        if children[0].type == "C_TYPEDEF":
            words = re.findall(r"\w+", text.rstrip(";"))
            return ast.CDefinition(span, "typedef", words[-1] if words else None, text)
        match = _C_DEFINITION_HEAD.match(text)
        kind, name = (match.group(1), match.group(2)) if match else ("struct", None)
        return ast.CDefinition(span, kind, name, text)

    def b_config(self, span, children):
        return ast.Config(span, self._nodes(children))

    def b_config_entry(self, span, children):
        key, value = children[0], children[-1]
        return ast.ConfigEntry(span, self._name(key), self._literal_token(value))

    def _literal_token(self, tok: Token):
        if tok.type == "INT":
            return self.b_integer(self._tok_span(tok), [tok])
        if tok.type == "STRING":
            return self.b_string(self._tok_span(tok), [tok])
        if tok.type in ("TRUE", "FALSE"):
            return ast.BoolLit(self._tok_span(tok), tok.type == "TRUE")
        return ast.Identifier(self._tok_span(tok), str(tok))

    def b_root_import(self, span, children):
        path = next(t for t in children if t.type == "STRING")
        return ast.Import(span, self._literal_token(path))

    b_stmt_import = b_root_import

    def b_map_decl(self, span, children):
        map_tok, kind_tok, size_tok = (t for t in children if t.type in ("MAP", "IDENT", "INT"))
        return ast.MapDecl(
            span,
            ast.MapRef(self._tok_span(map_tok), str(map_tok)),
            self._name(kind_tok),
            self._literal_token(size_tok),
        )

    def b_macro_def(self, span, children):
        name = children[1]
        *params, body = self._nodes(children)
        return ast.Macro(span, self._name(name), params, self._as_block(body))

    def b_macro_param(self, span, children):
        tok = children[0]
        if tok.type == "VAR":
            return ast.Variable(span, str(tok))
        if tok.type == "MAP":
            return ast.MapRef(span, str(tok))
        if _PARSER_BUILTINS.match(str(tok)):
            self.sink.error("syntax", f"builtin '{tok}' can't be used as a macro argument", span)
        return ast.Identifier(span, str(tok))

    def b_fn_def(self, span, children):
        name = children[1]
        *params, return_type, body = self._nodes(children)
        return ast.Function(span, self._name(name), params, return_type, self._statement_body(body))

    def b_fn_param(self, span, children):
        var, _colon, type_ = children
        return ast.Param(span, ast.Variable(self._tok_span(var), str(var)), type_)

    # ------------------------------------------------------------ probes

    def b_probe(self, span, children):
        attach_points = children[0] if isinstance(children[0], list) else []
        predicate = children[1] if len(children) == 3 else None
        body = self._statement_body(children[-1])
        return ast.Probe(span, attach_points, predicate, body)

    def b_attach_list(self, span, children):
        return [
            split_attach_point(str(tok), tok.start_pos)
            for tok in children
            if tok.type == "ATTACH_POINT"
        ]

    def b_predicate(self, span, children):
        return self._as_expr(self._nodes(children)[0])

    # -------------------------------------------------------- statements

    def b_block(self, span, children):
        stmts = []
        value = None
        for child in children:
            if isinstance(child, _Tail):
                if isinstance(child.stmt, ast.ExprStmt):
                    value = child.stmt.expr
                else:
                    stmts.append(child.stmt)
            elif isinstance(child, _Compound):
                stmts.append(child.stmt)
            elif not isinstance(child, (Token, _Empty)):
                stmts.append(self._as_statement(child))
        last = next((c for c in reversed(children) if not isinstance(c, Token)), None)
        if value is None and isinstance(last, _Compound) and isinstance(last.stmt, ast.ExprStmt):
            # `{ ...; if (c) { 1 } else { 2 } }`: the if is the block's value.
            value = stmts.pop().expr
        return ast.Block(span, stmts, value)

    b_body = b_block

    @staticmethod
    def _as_statement(n):
        if isinstance(n, ast.STMT_NODES):
            return n
        return ast.ExprStmt(n.span, n)

    def b_tail(self, span, children):
        return _Tail(self._as_statement(children[0]))

    def b_compound_stmt(self, span, children):
        return _Compound(self._as_statement(children[0]))

    def b_empty_stmt(self, span, children):
        return _Empty(span)

    def b_expr_stmt(self, span, children):
        return ast.ExprStmt(span, self._as_expr(children[0]))

    def b_assignment(self, span, children):
        target, op_tok, value = children
        op = str(op_tok)
        value = self._as_expr(value)
        if isinstance(target, ast.Identifier) and target.name == "_" and op == "=":
            return ast.Discard(span, value)
        if isinstance(target, (ast.FieldAccess, ast.TupleAccess)):
            self.sink.error(
                "immutable",
                "Tuples and records are immutable once created. "
                "Consider creating a new value and assigning it instead.",
                span,
            )
        elif not isinstance(target, (ast.Variable, ast.MapRef, ast.MapAccess, ast.ErrorExpr)):
            self.sink.error("syntax", "invalid assignment target", target.span)
        return ast.Assign(span, target, op, value)

    def b_var_decl(self, span, children):
        var_tok = children[1]
        rest = self._nodes(children)
        type_ = next((c for c in rest if isinstance(c, ast.TYPE_NODES)), None)
        value = next((c for c in rest if not isinstance(c, ast.TYPE_NODES)), None)
        var = ast.Variable(self._tok_span(var_tok), str(var_tok))
        return ast.VarDecl(span, var, type_, self._as_expr(value) if value is not None else None)

    def b_jump(self, span, children):
        keyword = str(children[0])
        value = self._as_expr(children[1]) if len(children) > 1 else None
        return ast.Jump(span, keyword, value)

    def b_for_stmt(self, span, children):
        var_tok = next(t for t in self._tokens(children) if t.type == "VAR")
        body = children[-1]
        iterable = next((c for c in children if isinstance(c, ast.Range)), None)
        if iterable is None:  # the map of `for ($kv : @m)`
            map_tok = next(t for t in self._tokens(children) if t.type == "MAP")
            iterable = ast.MapRef(self._tok_span(map_tok), str(map_tok))
        var = ast.Variable(self._tok_span(var_tok), str(var_tok))
        return ast.For(span, var, iterable, self._statement_body(body))

    def b_range(self, span, children):
        start, end = self._nodes(children)
        return ast.Range(span, self._as_expr(start), self._as_expr(end))

    def b_while_stmt(self, span, children):
        cond, body = self._nodes(children)
        return ast.While(span, self._as_expr(cond), self._statement_body(body))

    def b_unroll_stmt(self, span, children):
        count, body = self._nodes(children)
        return ast.Unroll(span, self._as_expr(count), self._statement_body(body))

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
        self._check_incdec(operand, self._tok_span(op))
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

    def b_primary(self, span, children):
        # `( expr )`: the parentheses only group. The expression's span grows
        # to include them, so that an enclosing node's span covers them too.
        inner = self._nodes(children)[0]
        inner.span = span
        return inner

    def b_integer(self, span, children):
        tok = children[0]
        value, problems = parse_int(str(tok))
        self._report(problems, tok.start_pos)
        return ast.IntLit(span, value, str(tok))

    def b_string(self, span, children):
        text = str(children[0])
        if not _TERMINATED_STRING.match(text):
            self.sink.error("syntax", "unterminated string", span)
            body = text[1:]
        else:
            body = text[1:-1]
        value, problems = parse_string(body)
        self._report(problems, span.start + 1)
        return ast.StrLit(span, value)

    def b_char(self, span, children):
        text = str(children[0])
        if not _TERMINATED_CHAR.match(text):
            self.sink.error("syntax", "unterminated character literal", span)
            body = text[1:]
        else:
            body = text[1:-1]
        value, problems = parse_char(body)
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
        return ast.Sizeof(span, self._as_expr(self._nodes(children)[0]))

    def b_offsetof(self, span, children):
        arg, fields = self._nodes(children)
        return ast.Offsetof(span, self._as_expr(arg), fields if isinstance(fields, list) else [])

    def b_typeinfo(self, span, children):
        return ast.Typeinfo(span, self._as_expr(self._nodes(children)[0]))

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
        return ast.TypeofType(span, self._as_expr(self._nodes(children)[0]))

    def b_pointer_suffix(self, span, children):
        return _Suffix(span, is_array=False)

    def b_array_suffix(self, span, children):
        size = None
        digits = [t for t in children if t.type == "INT"]
        if digits:
            size, problems = parse_int(str(digits[0]))
            self._report(problems, digits[0].start_pos)
        return _Suffix(span, is_array=True, size=size)

