"""What each token is for, read off the AST: where statements and items
start, which braces open blocks, which `-` is unary, which `(` opens a
call. The layout (layout.py) decides spacing and line breaks from these.

Every code token gets an *owner*: the innermost node whose span holds it
but none of whose children's spans do. A Binary node owns its operator
(and any parentheses around its operands), a Block its braces and `;`s, a
Probe its attach-point commas and predicate slashes. A role is then a
fact about a token and its owner.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..syntax import ast
from .lexer import LINE_OPAQUE, OPAQUE, Token

# Roles (a token without one is spaced by its text alone).
ITEM_START = "item-start"  # first token of a top-level item
STMT_START = "stmt-start"  # first token of a statement, a block's value, a config entry
ATTACH_START = "attach-start"  # an attach point after the first
BODY_OPEN = "body-open"  # `{` of a probe, macro or fn body: on a line of its own
BLOCK_OPEN = "block-open"  # `{` of any other block, or of the config block
CLOSE = "close"  # `}` of a block or the config block
SEMI = "semi"  # `;` ending a statement or config entry
PRED_OPEN = "pred-open"
PRED_CLOSE = "pred-close"
PREFIX = "prefix"  # a unary operator, or a prefix ++/--
POSTFIX = "postfix"
CALL_PAREN = "call-paren"  # `(` right after a called name or keyword: f(x), sizeof(x)
CAST_CLOSE = "cast-close"  # `)` ending a cast's type
TYPE_STAR = "type-star"  # `*` of a pointer type
DECL_COLON = "decl-colon"  # `:` before a parameter's or fn's type (`let $x : T` is spaced)
SHORT_COLON = "short-colon"  # `:` of `a ?: b`
FIELD_EQ = "field-eq"  # `=` of a record field: (a=1, b=2)

# Items that get a blank line around them.
BIG_ITEMS = (ast.Probe, ast.Macro, ast.Function, ast.Config)


@dataclass
class Roles:
    role: list[str | None]
    # Tokens that start a line: index -> ITEM_START, STMT_START or ATTACH_START.
    # (Kept apart from `role`: `++$i;` starts a statement with a prefix operator.)
    line_start: dict[int, str] = field(default_factory=dict)
    item_of: dict[int, ast.Node] = field(default_factory=dict)  # ITEM_START index -> item
    # CLOSE index -> its opener's index
    opener_of: dict[int, int] = field(default_factory=dict)


def opaque_pieces(program: ast.Program, text: str) -> dict[int, tuple[int, str]]:
    """The pieces of the text the lexer must take whole (see lexer.py)."""
    pieces: dict[int, tuple[int, str]] = {}
    if program.shebang is not None:
        start = text.find("#!")
        if start >= 0:
            end = text.find("\n", start)
            pieces[start] = (len(text) if end < 0 else end, LINE_OPAQUE)
    for item in program.items:
        if isinstance(item, ast.CPreprocessor):
            pieces[item.span.start] = (item.span.end, LINE_OPAQUE)
        elif isinstance(item, ast.CDefinition):
            end = item.span.start + len(text[item.span.start : item.span.end].rstrip())
            pieces[item.span.start] = (end, OPAQUE)
        elif isinstance(item, ast.Probe):
            for point in item.attach_points:
                if point.span.end > point.span.start:
                    pieces[point.span.start] = (point.span.end, OPAQUE)
    return pieces


def assign_roles(program: ast.Program, tokens: list[Token]) -> Roles:
    code = [i for i, tok in enumerate(tokens) if not tok.is_comment]
    starts = [tokens[i].start for i in code]
    owned: dict[ast.Node, list[int]] = {}
    _own(program, 0, len(code), starts, code, owned)
    roles = Roles([None] * len(tokens))
    at = _Finder(tokens, code, starts)
    for node in ast.walk(program):
        mine = owned.get(node, [])
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(node, mine, tokens, roles, at)
    return roles


def _own(node, lo, hi, starts, code, owned) -> None:
    """Give node the tokens code[lo:hi] that none of its children hold.
    Recursion is bounded by the AST's depth limit."""
    mine = []
    cursor = lo
    for child in sorted(ast.children(node), key=lambda n: n.span.start):
        child_lo = bisect.bisect_left(starts, child.span.start, cursor, hi)
        child_hi = bisect.bisect_left(starts, child.span.end, child_lo, hi)
        mine.extend(code[cursor:child_lo])
        _own(child, child_lo, child_hi, starts, code, owned)
        cursor = max(cursor, child_hi)
    mine.extend(code[cursor:hi])
    if mine:
        owned[node] = mine


class _Finder:
    """The code token that starts at an offset."""

    def __init__(self, tokens, code, starts):
        self.tokens, self.code, self.starts = tokens, code, starts

    def __call__(self, offset: int) -> int | None:
        k = bisect.bisect_left(self.starts, offset)
        if k < len(self.starts) and self.starts[k] == offset:
            return self.code[k]
        return None


def _set(roles: Roles, index: int | None, role: str) -> None:
    if index is not None:
        roles.role[index] = role


def _start(roles: Roles, index: int | None, kind: str) -> None:
    if index is not None:
        roles.line_start[index] = kind


def _first(mine, tokens, text):
    return next((i for i in mine if tokens[i].text == text), None)


# ----------------------------------------------------------- per node type


def _program(node, mine, tokens, roles, at):
    for item in node.items:
        index = at(item.span.start)
        if index is not None:
            roles.line_start[index] = ITEM_START
            roles.item_of[index] = item


def _probe(node, mine, tokens, roles, at):
    slashes = [i for i in mine if tokens[i].text == "/"]
    if len(slashes) == 2:
        _set(roles, slashes[0], PRED_OPEN)
        _set(roles, slashes[1], PRED_CLOSE)
    for point in node.attach_points[1:]:
        _start(roles, at(point.span.start), ATTACH_START)
    _set(roles, at(node.body.span.start), BODY_OPEN)


def _macro_or_fn(node, mine, tokens, roles, at):
    _set(roles, _first(mine, tokens, "("), CALL_PAREN)
    for i in mine:  # fn f($a: int64): int64, the parameters' own colons are Param's
        if tokens[i].text == ":":
            roles.role[i] = DECL_COLON
    _set(roles, at(node.body.span.start), BODY_OPEN)


def _block(node, mine, tokens, roles, at):
    _braces_and_semis(node, mine, tokens, roles)
    for stmt in node.stmts:
        _start(roles, at(stmt.span.start), STMT_START)
    if node.value is not None:
        _start(roles, at(node.value.span.start), STMT_START)


def _config(node, mine, tokens, roles, at):
    _braces_and_semis(node, mine, tokens, roles)
    for entry in node.entries:
        _start(roles, at(entry.span.start), STMT_START)


def _braces_and_semis(node, mine, tokens, roles):
    opener = _first(mine, tokens, "{")
    closer = next((i for i in reversed(mine) if tokens[i].text == "}"), None)
    if opener is not None and roles.role[opener] is None:
        roles.role[opener] = BLOCK_OPEN
    if closer is not None and opener is not None:
        roles.role[closer] = CLOSE
        roles.opener_of[closer] = opener
    for i in mine:
        if tokens[i].text == ";":
            roles.role[i] = SEMI


def _unary(node, mine, tokens, roles, at):
    _set(roles, at(node.span.start), PREFIX)


def _incdec(node, mine, tokens, roles, at):
    if node.prefix:
        _set(roles, at(node.span.start), PREFIX)
    else:
        ops = [i for i in mine if tokens[i].text == node.op]
        if ops:
            roles.role[ops[-1]] = POSTFIX


def _cast(node, mine, tokens, roles, at):
    type_end = node.type.span.end
    closer = next((i for i in mine if tokens[i].text == ")" and tokens[i].start >= type_end), None)
    _set(roles, closer, CAST_CLOSE)


def _pointer(node, mine, tokens, roles, at):
    for i in mine:
        if tokens[i].text == "*":
            roles.role[i] = TYPE_STAR


def _decl(node, mine, tokens, roles, at):
    _set(roles, _first(mine, tokens, ":"), DECL_COLON)


def _ternary(node, mine, tokens, roles, at):
    if node.then is None:
        _set(roles, _first(mine, tokens, ":"), SHORT_COLON)


def _record_field(node, mine, tokens, roles, at):
    _set(roles, _first(mine, tokens, "="), FIELD_EQ)


def _call(node, mine, tokens, roles, at):
    # The call's first own token is its '(' (inner parentheses come later).
    if mine and tokens[mine[0]].text == "(":
        roles.role[mine[0]] = CALL_PAREN


def _keyword_call(node, mine, tokens, roles, at):
    # sizeof( offsetof( typeinfo( typeof( unroll(: the keyword, then '('.
    if len(mine) >= 2 and tokens[mine[1]].text == "(" and mine[1] == _next_code(tokens, mine[0]):
        roles.role[mine[1]] = CALL_PAREN


def _map_decl(node, mine, tokens, roles, at):
    _set(roles, _first(mine, tokens, "("), CALL_PAREN)


def _next_code(tokens, index):
    for j in range(index + 1, len(tokens)):
        if not tokens[j].is_comment:
            return j
    return None


_HANDLERS = {
    ast.Program: _program,
    ast.Probe: _probe,
    ast.Macro: _macro_or_fn,
    ast.Function: _macro_or_fn,
    ast.Block: _block,
    ast.Config: _config,
    ast.Unary: _unary,
    ast.IncDec: _incdec,
    ast.Cast: _cast,
    ast.PointerType: _pointer,
    ast.Param: _decl,
    ast.Ternary: _ternary,
    ast.RecordField: _record_field,
    ast.Call: _call,
    ast.Sizeof: _keyword_call,
    ast.Offsetof: _keyword_call,
    ast.Typeinfo: _keyword_call,
    ast.TypeofType: _keyword_call,
    ast.Unroll: _keyword_call,
    ast.MapDecl: _map_decl,
}
