"""Turn lark's parse tree into AST nodes, and check what the grammar cannot.

This is the only module that walks lark trees (parser.py drives lark and
hands the tree over); the builders it calls, here and in
to_ast_expressions.py, see only tokens and AST nodes. The tree is walked with an explicit stack, not by
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

from ..diagnostics import Related
from ..source import Span, decode
from . import ast
from .attach_points import split_attach_point
from .to_ast_expressions import ExpressionBuilders, Paren

MAX_DEPTH = 128

# Names bpftrace's parser treats as builtins rather than plain identifiers.
_PARSER_BUILTINS = re.compile(
    r"(?:args|ctx|kstack|ustack|nsecs|pid|tid|s?arg[0-9]+|__builtin_[A-Za-z0-9_]*)\Z"
)
_FUNCTION_POINTER_NAME = re.compile(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)")
_C_DEFINITION_HEAD = re.compile(r"(struct|union|enum)\s+(?:__attribute__\s*\(\(.*?\)\)\s*)?(\w+)")


def _typedef_name(text: str) -> str | None:
    """The name a typedef declares: `typedef int (*handler_t)(int);`,
    `typedef int arr_t[4];`, `typedef struct { ... } foo_t;`."""
    # Drop braced bodies (innermost first), attributes and array sizes.
    body = text[len("typedef") :]
    while re.search(r"\{[^{}]*\}", body):
        body = re.sub(r"\{[^{}]*\}", " ", body)
    pointer = _FUNCTION_POINTER_NAME.search(body)
    if pointer:
        return pointer.group(1)
    body = re.sub(r"__attribute__\s*\(\(.*?\)\)|\[[^\]]*\]", " ", body)
    words = re.findall(r"[A-Za-z_]\w*", body)
    return words[-1] if words else None


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


class AstBuilder(ExpressionBuilders):
    """Builds a Program from lark's tree; see the module docstring."""

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
                    if not too_deep and not self._nesting_reported():
                        # One report, at the first place it happens.
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

    def _nesting_reported(self) -> bool:
        return any(d.code == "nesting" for d in self.sink.items)

    def _dispatch(self, tree: Tree, children: list):
        # The parser keeps every token (keep_all_tokens), so a tree's span
        # runs from its first child's start to its last child's end; that is
        # cheaper than asking lark to propagate positions.
        span = _children_span(children)
        children = [c.node if isinstance(c, Paren) else c for c in children]
        builder = getattr(self, "b_" + tree.data, None)
        if builder is None:  # a rule with no builder is a bug; degrade gently
            return ast.ErrorExpr(span)
        return builder(span, children)

    def _whole(self) -> Span:
        return Span(0, len(self.source.data))

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
        check_item_order(items, self.sink)
        return ast.Program(self._whole(), items, shebang)

    def b_cpp_directive(self, span, children):
        return ast.CPreprocessor(span, decode(str(children[0])).rstrip())

    def b_c_definition(self, span, children):
        text = decode(str(children[0])).rstrip()
        if children[0].type == "C_TYPEDEF":
            return ast.CDefinition(span, "typedef", _typedef_name(text), text)
        match = _C_DEFINITION_HEAD.match(text)  # also C_UNTERMINATED, reported already
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


def check_item_order(items, sink) -> None:
    """The order bpftrace requires of top-level items (C definitions, then
    config and imports, then the rest), checked over the whole program."""
    seen_main = False
    seen_config = None
    for item in items:
        if isinstance(item, (ast.CPreprocessor, ast.CDefinition)):
            if seen_main:
                sink.error(
                    "item-order", "C definitions must appear before probes and functions", item.span
                )
        elif isinstance(item, ast.Config):
            if seen_config is not None:
                sink.error(
                    "duplicate-config", "duplicate config block", item.span,
                    related=[Related(seen_config.span, "the first config block is here")],
                )
            elif seen_main:
                sink.error(
                    "item-order", "config must appear before probes and functions", item.span
                )
            seen_config = seen_config or item
        elif isinstance(item, ast.Import):
            if seen_main:
                sink.error(
                    "item-order", "root imports must appear before probes and functions", item.span
                )
        else:
            seen_main = True
