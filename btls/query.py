"""Questions every feature asks of a snapshot: which nodes lie under a
position, which probe encloses it, which symbol a name refers to.

Pure functions over the compiler's AST and Analysis (no LSP types here),
so features stay small and these are easy to test.
"""

from __future__ import annotations

from typing import Optional

from compiler.syntax import ast


def path_at(program: ast.Program, offset: int, *, touching: bool = True) -> list[ast.Node]:
    """The nodes containing `offset`, outermost first. With `touching`, a
    node whose span ends exactly at `offset` counts (a cursor right after a
    name is "on" it, as editors expect)."""

    def contains(node: ast.Node) -> bool:
        span = node.span
        return span.start <= offset < span.end or (touching and span.end == offset and span.start < span.end)

    path: list[ast.Node] = [program]
    node: ast.Node = program
    while True:
        inner = None
        for child in ast.children(node):
            if contains(child):
                inner = child
                # Prefer a child that strictly contains the offset: after
                # `@a+@b` at the `+`, the cursor is on `+`'s right operand.
                if child.span.start <= offset < child.span.end:
                    break
        if inner is None:
            return path
        path.append(inner)
        node = inner


def probe_at(program: ast.Program, offset: int) -> Optional[ast.Probe]:
    for item in program.items:
        if isinstance(item, ast.Probe) and item.span.start <= offset <= item.span.end:
            return item
    return None


def symbol_at(analysis, offset: int):
    """(symbol, node) for the variable, map, macro or fn at `offset`, or
    (None, None). Declarations count as well as uses."""
    for node in reversed(path_at(analysis.program, offset)):
        symbol = analysis.symbol_of(node)
        if symbol is not None:
            return symbol, node
    # Definitions that are not expression nodes: find the symbol whose
    # definition span holds the offset.
    for symbol in analysis.symbols:
        for span in list(symbol.definitions) + list(symbol.uses):
            if span.start <= offset <= span.end:
                return symbol, None
    return None, None


def symbol_spans(symbol) -> list:
    """Every place a symbol is written and read, in source order, once."""
    seen = {}
    for span in list(symbol.definitions) + list(symbol.uses):
        seen[(span.start, span.end)] = span
    return [seen[key] for key in sorted(seen)]
