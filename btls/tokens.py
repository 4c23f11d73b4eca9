"""Semantic tokens, full and range: what each name in a script *is*, read
from the AST and the analysis, so editors can colour what a TextMate
grammar can only guess (a builtin versus an enum value versus a macro
parameter, a probe's provider versus its function).

Strings are left to the client's grammar on purpose: a semantic `string`
token would paint over the escapes and printf placeholders TextMate marks
inside it. Comments and numbers are exact here, so they are emitted.

Tokens are collected as byte spans, sorted, stripped of overlaps, split at
line ends, and only then converted to the negotiated position encoding.
"""

from __future__ import annotations

import re
from typing import Optional

from lsprotocol import types as lsp

from .guard import guarded

TOKEN_TYPES = [
    "namespace",  # 0 probe providers
    "function",  # 1 probe functions/events, builtin functions, fns
    "macro",  # 2 macros and #defines
    "variable",  # 3 $vars, @maps, builtin variables
    "parameter",  # 4 $1, $#, args, macro and fn parameters
    "property",  # 5 struct and record fields, config keys
    "type",  # 6 types in casts, declarations, sizeof
    "enumMember",  # 7 enum values, choice words (kstack(perf))
    "keyword",  # 8
    "comment",  # 9
    "number",  # 10
]
TOKEN_MODIFIERS = ["declaration", "readonly", "static", "defaultLibrary", "deprecated"]
LEGEND = lsp.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)

_TYPE = {name: index for index, name in enumerate(TOKEN_TYPES)}
_MOD = {name: 1 << index for index, name in enumerate(TOKEN_MODIFIERS)}

# The keyword a statement or expression node starts with.
_LEADING_KEYWORDS = {
    "If": ("if",), "While": ("while",), "For": ("for",), "Unroll": ("unroll",),
    "VarDecl": ("let",), "MapDecl": ("let",), "Macro": ("macro",), "Function": ("fn",),
    "Config": ("config",), "Import": ("import",), "Sizeof": ("sizeof",),
    "Offsetof": ("offsetof",), "Typeinfo": ("typeinfo",), "Comptime": ("comptime",),
    "Jump": ("break", "continue", "return"),
}  # fmt: skip
_ATTACH_ROLE_TYPES = {
    "provider": "namespace",
    "label": "function", "target": "function", "namespace": "function", "function": "function",
    "event": "function", "name": "function",
    "offset": "number", "address": "number", "rate": "number", "count": "number",
    "line": "number", "column": "number", "length": "number",
    "unit": "keyword", "language": "keyword", "mode": "keyword",
}  # fmt: skip
_DIRECTIVE = re.compile(rb"\s*(#\s*[A-Za-z_]+)")
_DEFINE = re.compile(rb"\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)")
_NUMBER_TEXT = re.compile(r"[0-9]")


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND)
    @guarded(lambda: lsp.SemanticTokens(data=[]))
    def full(ls, params: lsp.SemanticTokensParams) -> lsp.SemanticTokens:
        snapshot = ls.snapshot(params.text_document.uri)
        return lsp.SemanticTokens(data=encode(snapshot))

    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE, LEGEND)
    @guarded(lambda: lsp.SemanticTokens(data=[]))
    def in_range(ls, params: lsp.SemanticTokensRangeParams) -> lsp.SemanticTokens:
        snapshot = ls.snapshot(params.text_document.uri)
        return lsp.SemanticTokens(data=encode(snapshot, snapshot.converter.span(params.range)))


# ----------------------------------------------------------------- encoding


def encode(snapshot, within=None) -> list[int]:
    """The relative-encoded token data of a snapshot (only tokens touching
    the byte span `within`, when given)."""
    converter = snapshot.converter
    lines = snapshot.source.lines
    data: list[int] = []
    previous_line, previous_char = 0, 0
    for start, end, kind, modifiers in spans(snapshot):
        if within is not None and (end <= within.start or start >= within.end):
            continue
        for piece_start, piece_end in _line_pieces(lines, start, end):
            begin, finish = converter.position(piece_start), converter.position(piece_end)
            length = finish.character - begin.character
            if length <= 0:
                continue
            delta_line = begin.line - previous_line
            delta_char = begin.character - previous_char if delta_line == 0 else begin.character
            data += [delta_line, delta_char, length, kind, modifiers]
            previous_line, previous_char = begin.line, begin.character
    return data


def _line_pieces(lines, start: int, end: int):
    """A byte span cut at line ends (tokens may not span lines)."""
    first, last = lines.line_of(start), lines.line_of(end)
    if first == last:
        yield start, end
        return
    for line in range(first, last + 1):
        line_span = lines.line_span(line)
        piece_start, piece_end = max(start, line_span.start), min(end, line_span.end)
        if piece_end > piece_start:
            yield piece_start, piece_end


def spans(snapshot) -> list[tuple[int, int, int, int]]:
    """(start, end, type index, modifier bits) in source order, no overlaps."""
    collector = _Collector(snapshot)
    collector.run()
    ordered = sorted(collector.tokens, key=lambda token: (token[0], -token[1]))
    result: list[tuple[int, int, int, int]] = []
    reached = 0
    for token in ordered:
        if token[0] >= reached and token[1] > token[0]:
            result.append(token)
            reached = token[1]
    return result


# ----------------------------------------------------------- classification


class _Collector:
    """Walks the program once and records a token for every part worth one."""

    def __init__(self, snapshot) -> None:
        from compiler.semantic import builtins
        from compiler.semantic import types as T
        from compiler.syntax import ast

        self.ast, self.builtins, self.T = ast, builtins, T
        self.analysis = snapshot.analysis
        self.data = snapshot.source.data
        program = snapshot.program
        self.program = program
        self.tokens: list[tuple[int, int, int, int]] = []
        self.claimed: set[int] = set()
        self.macros = {macro.name.text for macro in program.macros}
        self.functions = {item.name.text for item in program.of_type(ast.Function)}
        self.defines = set()
        for item in program.of_type(ast.CPreprocessor):
            found = _DEFINE.match(self.data, item.span.start, item.span.end)
            if found:
                self.defines.add(found.group(1).decode())
        # Where each symbol is first defined: that occurrence is its declaration.
        self.first_definitions = {
            id(symbol): symbol.first_definition.start
            for symbol in self.analysis.symbols
            if symbol.first_definition is not None
        }

    def add(self, span, kind: str, *modifiers: str) -> None:
        if span is None or span.end <= span.start:
            return
        bits = 0
        for modifier in modifiers:
            bits |= _MOD[modifier]
        self.tokens.append((span.start, span.end, _TYPE[kind], bits))

    def add_bytes(self, start: int, end: int, kind: str) -> None:
        if end > start:
            self.tokens.append((start, end, _TYPE[kind], 0))

    def run(self) -> None:
        if self.program.shebang and self.data.startswith(b"#!"):
            self.add_bytes(0, len(self.data.split(b"\n", 1)[0].rstrip(b"\r")), "comment")
        for comment in self.program.comments:
            self.add(comment.span, "comment")
        # An explicit stack: (node, the names that are parameters there).
        stack: list[tuple[object, frozenset]] = [(self.program, frozenset())]
        while stack:
            node, params = stack.pop()
            if id(node) not in self.claimed:
                params = self.visit(node, params)
            for child in self.ast.children(node):
                stack.append((child, params))

    # Each visit records the node's own tokens and returns the parameter
    # names its children see (a macro or fn body adds its own).
    def visit(self, node, params: frozenset) -> frozenset:
        name = type(node).__name__
        if name in _LEADING_KEYWORDS:
            self.leading_keyword(node, _LEADING_KEYWORDS[name])
        method = getattr(self, "visit_" + name, None)
        result = method(node, params) if method is not None else None
        return result if result is not None else params

    def leading_keyword(self, node, words: tuple[str, ...]) -> None:
        for word in words:
            encoded = word.encode()
            end = node.span.start + len(encoded)
            if self.data[node.span.start : end] == encoded and not _is_word_byte(self.data[end : end + 1]):
                self.add_bytes(node.span.start, end, "keyword")
                return

    def keyword_between(self, start: int, end: int, word: bytes) -> None:
        """The first `word` between two offsets that is not in a comment."""
        at = self.data.find(word, start, end)
        while at >= 0:
            comment = next((c for c in self.program.comments if c.span.start <= at < c.span.end), None)
            if comment is None:
                self.add_bytes(at, at + len(word), "keyword")
                return
            at = self.data.find(word, comment.span.end, end)

    def visit_If(self, node, params):
        if node.orelse is not None:  # the AST keeps no span for `else`
            self.keyword_between(node.then.span.end, node.orelse.span.start, b"else")

    # ------------------------------------------------------------ top level

    def visit_CPreprocessor(self, node, params):
        directive = _DIRECTIVE.match(self.data, node.span.start, node.span.end)
        if directive:
            self.add_bytes(directive.start(1), directive.end(1), "keyword")
        define = _DEFINE.match(self.data, node.span.start, node.span.end)
        if define:
            span = _byte_span(define.start(1), define.end(1))
            self.add(span, "macro", "declaration")

    def visit_ConfigEntry(self, node, params):
        self.add(node.key.span, "property")

    def visit_MapDecl(self, node, params):
        self.add(node.kind.span, "function", "defaultLibrary")

    def visit_Macro(self, node, params):
        self.add(node.name.span, "macro", "declaration")
        names = set()
        for param in node.params:
            self.add(param.span, "parameter", "declaration")
            names.add(getattr(param, "name", ""))
        # The parameters are declared here; do not visit them as uses.
        self.skip_children(node.params)
        return frozenset(names)

    def visit_Function(self, node, params):
        self.add(node.name.span, "function", "declaration")
        return frozenset(param.var.name for param in node.params)

    def visit_Param(self, node, params):
        self.add(node.var.span, "parameter", "declaration")
        self.skip_children([node.var])

    def visit_AttachPoint(self, node, params):
        if node.is_error:
            return
        for part in node.parts:
            if part.text.startswith("$"):
                self.add(part.span, "parameter", "readonly")
                continue
            kind = _ATTACH_ROLE_TYPES.get(part.role)
            if kind == "number" and not _NUMBER_TEXT.match(part.text):
                continue
            if kind is not None:
                self.add(part.span, kind)

    # ---------------------------------------------------------------- names

    def visit_Variable(self, node, params):
        if node.name in params:
            self.add(node.span, "parameter")
            return
        symbol = self.analysis.symbol_of(node)
        if symbol is not None and self.first_definitions.get(id(symbol)) == node.span.start:
            self.add(node.span, "variable", "declaration")
        else:
            self.add(node.span, "variable")

    def visit_MapRef(self, node, params):
        symbol = self.analysis.symbol_of(node)
        if symbol is not None and self.first_definitions.get(id(symbol)) == node.span.start:
            self.add(node.span, "variable", "static", "declaration")
        else:
            self.add(node.span, "variable", "static")

    def visit_PositionalParam(self, node, params):
        self.add(node.span, "parameter", "readonly")

    def visit_ParamCount(self, node, params):
        self.add(node.span, "parameter", "readonly")

    def visit_Identifier(self, node, params):
        kind = self.identifier_kind(node, params)
        if kind is not None:
            self.add(node.span, *kind)

    def identifier_kind(self, node, params) -> Optional[tuple[str, ...]]:
        """What a bare name means, in the order the checker resolves it."""
        name = node.name
        if name in params:
            return ("parameter",)
        builtin = self.builtins.lookup(name)
        if builtin is not None and builtin.min_args == 0:
            if name == "args":
                return ("parameter", "readonly", "defaultLibrary")
            extra = ("deprecated",) if builtin.has(self.builtins.DEPRECATED) else ()
            base = "variable" if builtin.kind == "variable" else "function"
            return (base, "defaultLibrary", *extra)
        if name in self.macros or name in self.defines:
            return ("macro",)
        t = self.analysis.type_of(node)
        if isinstance(t, self.T.Int) and t.enum is not None:
            return ("enumMember", "readonly")
        return None

    def visit_Call(self, node, params):
        name = node.name.text
        if name in self.macros:
            self.add(node.name.span, "macro")
        elif name in self.functions:
            self.add(node.name.span, "function")
        else:
            builtin = self.builtins.lookup(name)
            if builtin is not None:
                extra = ("deprecated",) if builtin.has(self.builtins.DEPRECATED) else ()
                self.add(node.name.span, "function", "defaultLibrary", *extra)
                self.choice_words(builtin, node.args, params)

    def choice_words(self, builtin, args, params) -> None:
        """Bare words a builtin takes as options (`kstack(perf)`)."""
        choices = {choice for signature in builtin.signatures for p in signature.params for choice in p.choices}
        for arg in args:
            if isinstance(arg, self.ast.Identifier) and arg.name in choices and arg.name not in params:
                self.add(arg.span, "enumMember", "defaultLibrary")
                self.skip_children([arg])

    def visit_FieldAccess(self, node, params):
        self.add(node.field.span, "property")

    def visit_RecordField(self, node, params):
        self.add(node.name.span, "property")

    def visit_Offsetof(self, node, params):
        for field in node.fields:
            self.add(field.span, "property")

    def visit_IntLit(self, node, params):
        if _NUMBER_TEXT.match(node.text):  # not a character literal
            self.add(node.span, "number")

    # ---------------------------------------------------------------- types

    def visit_NamedType(self, node, params):
        if node.name in self.ast.BUILTIN_TYPE_NAMES:
            self.add(node.span, "type", "defaultLibrary")
        else:
            self.add(node.span, "type")

    def visit_RecordType(self, node, params):
        self.add_bytes(node.span.start, node.span.start + len(node.kind), "keyword")
        self.add(node.name.span, "type")

    def skip_children(self, nodes) -> None:
        """Nodes already given their token by their parent: not visited
        again (their own children still are)."""
        self.claimed.update(id(child) for child in nodes)


def _byte_span(start: int, end: int):
    from compiler.source import Span

    return Span(start, end)


def _is_word_byte(byte: bytes) -> bool:
    return bool(byte) and (byte.isalnum() or byte == b"_")
